"""conversations: replies, likes, mentions and notifications

Revision ID: 6308aa0ab898
Revises: 880c3fd30522
Create Date: 2026-11-23 22:21:39.315731

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6308aa0ab898'
down_revision = '880c3fd30522'
branch_labels = None
depends_on = None


def upgrade():
    # New tables and counts start empty and at zero, which is what the rows there are say:
    # nothing was a reply, a like or a notification before. Mentions in earlier posts stay
    # text (they are resolved when a post is written).
    op.create_table('mention',
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_mention_post_id_post'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_mention_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('post_id', 'user_id', name=op.f('pk_mention'))
    )
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mention_user_id'), ['user_id'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('follow', 'reply', 'mention', 'like', name='notificationkind', native_enum=False, length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_notification_actor_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_notification_post_id_post'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_notification_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_post_id'), ['post_id'], unique=False)
        batch_op.create_index('ix_notification_user_id_id', ['user_id', 'id'], unique=False)

    op.create_table('post_like',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_post_like_post_id_post'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_post_like_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'post_id', name=op.f('pk_post_like'))
    )
    with op.batch_alter_table('post_like', schema=None) as batch_op:
        batch_op.create_index('ix_post_like_post_id_created_at', ['post_id', 'created_at'], unique=False)

    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_to_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('replies_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('likes_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index('ix_post_reply_to_id_id', ['reply_to_id', 'id'], unique=False)

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unread_notifications', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    # Batch mode rebuilds the table from reflection, which cannot see the expression index:
    # drop it first and create it again afterwards.
    op.drop_index('uq_user_username_lower', table_name='user')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('unread_notifications')
    op.create_index('uq_user_username_lower', 'user', [sa.text('lower(username)')], unique=True)

    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.drop_index('ix_post_reply_to_id_id')
        batch_op.drop_column('likes_count')
        batch_op.drop_column('replies_count')
        batch_op.drop_column('reply_to_id')

    with op.batch_alter_table('post_like', schema=None) as batch_op:
        batch_op.drop_index('ix_post_like_post_id_created_at')

    op.drop_table('post_like')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_id_id')
        batch_op.drop_index(batch_op.f('ix_notification_post_id'))
        batch_op.drop_index(batch_op.f('ix_notification_actor_id'))

    op.drop_table('notification')
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mention_user_id'))

    op.drop_table('mention')
