"""feeds by id and a stored site-wide post count

Revision ID: 880c3fd30522
Revises: 49e0b56c08b0
Create Date: 2026-11-23 18:22:16.613928

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '880c3fd30522'
down_revision = '49e0b56c08b0'
branch_labels = None
depends_on = None


site_count = sa.table('site_count', sa.column('name', sa.String()), sa.column('value', sa.Integer()))
post = sa.table('post', sa.column('id', sa.Integer()))


def upgrade():
    op.create_table('site_count',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_site_count'))
    )
    op.execute(
        site_count.insert().from_select(
            ['name', 'value'],
            sa.select(sa.literal('posts'), sa.func.count()).select_from(post),
        )
    )
    # Feeds are ordered by id now: a profile's posts come from (author_id, id), explore from the
    # primary key, and nothing reads posts by created_at any more.
    op.create_index('ix_post_author_id_id', 'post', ['author_id', 'id'], unique=False)
    op.drop_index('ix_post_author_id_created_at', table_name='post')
    op.drop_index('ix_post_created_at', table_name='post')


def downgrade():
    op.create_index('ix_post_created_at', 'post', ['created_at'], unique=False)
    op.create_index('ix_post_author_id_created_at', 'post', ['author_id', 'created_at'], unique=False)
    op.drop_index('ix_post_author_id_id', table_name='post')
    op.drop_table('site_count')
