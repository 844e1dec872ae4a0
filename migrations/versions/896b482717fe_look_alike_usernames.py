"""look-alike usernames: each name's TR39 skeleton, unique

Revision ID: 896b482717fe
Revises: c92b1aa17caf
Create Date: 2026-11-23 16:27:26.000000

"""
from alembic import op
import sqlalchemy as sa
from disarm import skeleton_key


# revision identifiers, used by Alembic.
revision = '896b482717fe'
down_revision = 'c92b1aa17caf'
branch_labels = None
depends_on = None

user = sa.table(
    'user',
    sa.column('id', sa.Integer),
    sa.column('username', sa.String),
    sa.column('username_skeleton', sa.String),
)


def skeleton(name):
    # As app.models.user.username_skeleton computed it when this migration was written.
    return skeleton_key(name, digit_policy="tr39").replace("m", "rn")


def upgrade():
    # add_column and create_index need no batch rebuild, which would lose the expression index
    # on lower(username) under SQLite.
    op.add_column('user', sa.Column('username_skeleton', sa.String(length=64), nullable=True))
    connection = op.get_bind()
    seen = set()
    # Oldest first: of accounts that already look alike, the first keeps the name's skeleton and
    # the later ones keep NULL (grandfathered; the unique index admits repeated NULLs).
    for user_id, username in connection.execute(
        sa.select(user.c.id, user.c.username).order_by(user.c.id)
    ):
        key = skeleton(username)
        if key in seen:
            continue
        seen.add(key)
        connection.execute(
            user.update().where(user.c.id == user_id).values(username_skeleton=key)
        )
    op.create_index('uq_user_username_skeleton', 'user', ['username_skeleton'], unique=True)


def downgrade():
    op.drop_index('uq_user_username_skeleton', table_name='user')
    # SQLite's batch rebuild cannot see the expression index: drop it and create it again.
    op.drop_index('uq_user_username_lower', table_name='user')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('username_skeleton')
    op.create_index('uq_user_username_lower', 'user', [sa.text('lower(username)')], unique=True)
