"""hashtags: tags and the posts that carry them

Revision ID: 55f8d073a63e
Revises: 6308aa0ab898
Create Date: 2026-11-24 01:25:19.668364

"""
from alembic import op
import sqlalchemy as sa

# The app's own parser: a tag here is what a tag is when a post is written (URLs, mentions and
# "C#" excluded). Posts are read, and their rows written, this many at a time.
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
    """Tags for the posts written before tags were stored, read a batch at a time: each tag
    named as first written, in the oldest post that carries it, then counted."""
    connection = op.get_bind()
    tag_ids = {}  # key -> id
    last = 0
    while True:
        posts = connection.execute(
            sa.select(post.c.id, post.c.body)
            .where(post.c.body.contains('#'), post.c.id > last)
            .order_by(post.c.id)
            .limit(BATCH)
        ).all()
        if not posts:
            break
        new_tags, rows = [], []
        for post_id, body in posts:
            for key, written in hashtags(body).items():
                if key not in tag_ids:
                    tag_ids[key] = len(tag_ids) + 1
                    new_tags.append({'id': tag_ids[key], 'name': written, 'key': key})
                rows.append({'tag_id': tag_ids[key], 'post_id': post_id})
        if new_tags:
            connection.execute(tag.insert(), new_tags)
        if rows:
            connection.execute(post_tag.insert(), rows)
        last = posts[-1].id
    tagged = sa.select(sa.func.count()).where(post_tag.c.tag_id == tag.c.id).scalar_subquery()
    connection.execute(tag.update().values(posts_count=tagged))
    if tag_ids and connection.dialect.name == 'postgresql':  # ids given here: move it on
        connection.execute(sa.text("SELECT setval(pg_get_serial_sequence('tag', 'id'), max(id)) FROM tag"))


def downgrade():
    with op.batch_alter_table('post_tag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_post_tag_post_id'))

    op.drop_table('post_tag')
    op.drop_table('tag')
