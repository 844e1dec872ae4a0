"""session token per user

Revision ID: d4f8d37d520a
Revises: 80a355632c6e
Create Date: 2026-11-22 21:52:40.185783

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4f8d37d520a'
down_revision = '80a355632c6e'
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


def downgrade():
    drop_username_index()
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_token')
    create_username_index()
