"""confirmed email addresses: existing accounts count as confirmed since they joined

Revision ID: 49e0b56c08b0
Revises: ab35b73dd8bd
Create Date: 2026-11-23 16:01:25.930360

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '49e0b56c08b0'
down_revision = 'ab35b73dd8bd'
branch_labels = None
depends_on = None


user = sa.table(
    'user',
    sa.column('member_since', sa.DateTime()),
    sa.column('email_confirmed_at', sa.DateTime()),
)


def upgrade():
    # A plain ADD COLUMN: SQLite's batch mode would rebuild the table and lose the expression
    # index on lower(username).
    op.add_column('user', sa.Column('email_confirmed_at', sa.DateTime(), nullable=True))
    # Accounts from before confirmation existed keep posting and following as they did.
    op.execute(user.update().values(email_confirmed_at=user.c.member_since))


def downgrade():
    # Batch mode rebuilds the table from reflection, which cannot see the expression index:
    # drop it first and create it again afterwards.
    op.drop_index('uq_user_username_lower', table_name='user')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('email_confirmed_at')
    op.create_index('uq_user_username_lower', 'user', [sa.text('lower(username)')], unique=True)
