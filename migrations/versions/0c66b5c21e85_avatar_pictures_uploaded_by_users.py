"""avatar pictures uploaded by users

Revision ID: 0c66b5c21e85
Revises: 6e4a4dbb237f
Create Date: 2026-11-24 07:29:29.450238

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0c66b5c21e85'
down_revision = '6e4a4dbb237f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('avatar_picture',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('pixels', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=32), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_avatar_picture_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'pixels', name=op.f('pk_avatar_picture'))
    )
    with op.batch_alter_table('avatar_picture', schema=None) as batch_op:
        batch_op.create_index('ix_avatar_picture_digest_pixels', ['digest', 'pixels'], unique=False)

    # In place, not by batch (which rebuilds a SQLite table): search's triggers on the table stay.
    op.add_column('user', sa.Column('avatar_digest', sa.String(length=32), nullable=True))


def downgrade():
    # Users who showed their picture show the generated avatar again, and the audit log loses
    # the removals of pictures, an action the earlier code cannot read (nor the pictures exist).
    op.execute("UPDATE \"user\" SET avatar_source = 'generated' WHERE avatar_source = 'uploaded'")
    op.execute("DELETE FROM moderation_action WHERE kind = 'removed the picture of'")
    op.execute('ALTER TABLE "user" DROP COLUMN avatar_digest')

    with op.batch_alter_table('avatar_picture', schema=None) as batch_op:
        batch_op.drop_index('ix_avatar_picture_digest_pixels')

    op.drop_table('avatar_picture')
