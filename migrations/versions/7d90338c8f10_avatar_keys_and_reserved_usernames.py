"""avatar keys and sources, reserved usernames

Revision ID: 7d90338c8f10
Revises: 896b482717fe
Create Date: 2026-11-23 16:05:02.177676

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d90338c8f10'
down_revision = '896b482717fe'
branch_labels = None
depends_on = None

user = sa.table('user', sa.column('id', sa.Integer), sa.column('avatar_key', sa.String))


def drop_username_index():
    # SQLite's batch mode rebuilds the table from reflection, which cannot see this expression
    # index: drop it first and create it again afterwards, or it would silently be lost.
    op.drop_index('uq_user_username_lower', table_name='user')


def create_username_index():
    op.create_index('uq_user_username_lower', 'user', [sa.text('lower(username)')], unique=True)


def upgrade():
    op.create_table('reserved_username',
    sa.Column('skeleton', sa.String(length=64), nullable=False),
    sa.Column('until', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('skeleton', name=op.f('pk_reserved_username'))
    )
    op.create_index(op.f('ix_reserved_username_until'), 'reserved_username', ['until'], unique=False)

    op.add_column('user', sa.Column('avatar_source', sa.Enum('generated', 'gravatar', name='avatarsource', native_enum=False, create_constraint=False, length=16), server_default='generated', nullable=False))
    # Every existing user gets a random key of their own, as new users do.
    op.add_column('user', sa.Column('avatar_key', sa.String(length=32), nullable=True))
    connection = op.get_bind()
    keys = [
        {'user_id': user_id, 'key': secrets.token_hex(16)}
        for user_id in connection.scalars(sa.select(user.c.id)).all()
    ]
    if keys:
        connection.execute(
            user.update().where(user.c.id == sa.bindparam('user_id')).values(avatar_key=sa.bindparam('key')),
            keys,
        )
    drop_username_index()
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('avatar_key', existing_type=sa.String(length=32), nullable=False)
    create_username_index()


def downgrade():
    drop_username_index()
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('avatar_source')
        batch_op.drop_column('avatar_key')
    create_username_index()

    op.drop_index(op.f('ix_reserved_username_until'), table_name='reserved_username')
    op.drop_table('reserved_username')
