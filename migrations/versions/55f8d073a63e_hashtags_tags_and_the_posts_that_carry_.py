"""hashtags: tags and the posts that carry them

Revision ID: 55f8d073a63e
Revises: 6308aa0ab898
Create Date: 2026-11-24 01:25:19.668364

"""
from alembic import op
import sqlalchemy as sa

# The app's own parser: a tag here is what a tag is when a post is written (URLs, mentions and
# "C#" excluded). Read posts and write rows this many at a time.
from app.post_text import hashtags

BATCH = 10_000

post = sa.table('post', sa.column('id', sa.Integer), sa.column('body', sa.String))
tag = sa.table(
    'tag',
    sa.column('id', sa.Integer),
    sa.column('name', sa.String),
    sa.column('key', sa.String),
    sa.column('posts_count', sa.Integer),
)
post_tag = sa.table('post_tag', sa.column('tag_id', sa.Integer), sa.column('post_id', sa.Integer))


# revision identifiers, used by Alembic.
revision = '55f8d073a63e'
down_revision = '6308aa0ab898'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('key', sa.String(length=50), nullable=False),
    sa.Column('posts_count', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tag')),
    sa.UniqueConstraint('key', name=op.f('uq_tag_key'))
    )
    op.create_table('post_tag',
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_post_tag_post_id_post'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tag.id'], name=op.f('fk_post_tag_tag_id_tag'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tag_id', 'post_id', name=op.f('pk_post_tag'))
    )
    with op.batch_alter_table('post_tag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_post_tag_post_id'), ['post_id'], unique=False)

    tag_existing_posts()


def tag_existing_posts():
    """Tags for the posts written before tags were stored: each named as first written, in
    the oldest post that carries it, with its count."""
    connection = op.get_bind()
    tag_ids = {}  # key -> id
    names = {}  # key -> the tag as first written
    counts = {}
    rows = []
    posts = sa.select(post.c.id, post.c.body).where(post.c.body.contains('#')).order_by(post.c.id)
    for post_id, body in connection.execute(posts):
        for key, written in hashtags(body).items():
            if key not in tag_ids:
                tag_ids[key] = len(tag_ids) + 1
                names[key] = written
                counts[key] = 0
            counts[key] += 1
            rows.append({'tag_id': tag_ids[key], 'post_id': post_id})
    tags = [
        {'id': tag_id, 'name': names[key], 'key': key, 'posts_count': counts[key]}
        for key, tag_id in tag_ids.items()
    ]
    for start in range(0, len(tags), BATCH):
        connection.execute(tag.insert(), tags[start:start + BATCH])
    for start in range(0, len(rows), BATCH):
        connection.execute(post_tag.insert(), rows[start:start + BATCH])
    if tags and connection.dialect.name == 'postgresql':  # ids given here: move the sequence on
        connection.execute(sa.text("SELECT setval('tag_id_seq', (SELECT max(id) FROM tag))"))


def downgrade():
    with op.batch_alter_table('post_tag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_post_tag_post_id'))

    op.drop_table('post_tag')
    op.drop_table('tag')
