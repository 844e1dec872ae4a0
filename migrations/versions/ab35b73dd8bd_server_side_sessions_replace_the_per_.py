"""server-side sessions replace the per-user session token

Revision ID: ab35b73dd8bd
Revises: 7d90338c8f10
Create Date: 2026-11-23 16:01:48.948808

Cookies from before this revision carry "id:token", which names no session record: their
browsers are simply signed out once.
"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'ab35b73dd8bd'
down_revision = '7d90338c8f10'
branch_labels = None
depends_on = None

user = sa.table('user', sa.column('id', sa.Integer), sa.column('session_token', sa.String))


def drop_username_index():
    # SQLite's batch mode rebuilds the table from reflection, which cannot see this expression
    # index: drop it first and create it again afterwards, or it would silently be lost.
    op.drop_index('uq_user_username_lower', table_name='user')


def create_username_index():
    op.create_index('uq_user_username_lower', 'user', [sa.text('lower(username)')], unique=True)


def upgrade():
    op.create_table('user_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_active_at', sa.DateTime(), nullable=False),
    sa.Column('ip_address', sa.String(length=45), nullable=True),
    sa.Column('device', sa.String(length=120), nullable=True),
    sa.Column('remembered', sa.Boolean(), nullable=False),
    sa.Column('absolute_expires_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_user_session_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_user_session_key_hash'))
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)

    drop_username_index()
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_token')
    create_username_index()


def downgrade():
    # Every session ends: the old scheme's tokens start afresh, one per user.
    op.add_column('user', sa.Column('session_token', sa.String(length=64), nullable=True))
    connection = op.get_bind()
    for user_id in connection.scalars(sa.select(user.c.id)).all():
        connection.execute(
            user.update().where(user.c.id == user_id).values(session_token=secrets.token_urlsafe(32))
        )
    drop_username_index()
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=64), nullable=False)
    create_username_index()

    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_user_session_expires_at'))

    op.drop_table('user_session')
