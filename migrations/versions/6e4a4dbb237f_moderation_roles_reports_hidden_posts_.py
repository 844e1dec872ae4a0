"""moderation: roles, reports, hidden posts, suspensions, blocks, mutes and the audit log

Revision ID: 6e4a4dbb237f
Revises: 3a9c1f7e5b20
Create Date: 2026-11-24 04:59:02.775230

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6e4a4dbb237f'
down_revision = '3a9c1f7e5b20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('block',
    sa.Column('blocker_id', sa.Integer(), nullable=False),
    sa.Column('blocked_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('blocker_id != blocked_id', name=op.f('ck_block_not_self')),
    sa.ForeignKeyConstraint(['blocked_id'], ['user.id'], name=op.f('fk_block_blocked_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['blocker_id'], ['user.id'], name=op.f('fk_block_blocker_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('blocker_id', 'blocked_id', name=op.f('pk_block'))
    )
    with op.batch_alter_table('block', schema=None) as batch_op:
        batch_op.create_index('ix_block_blocked_id_blocker_id', ['blocked_id', 'blocker_id'], unique=False)

    op.create_table('moderation_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum('hid a post', 'restored a post', 'dismissed reports', 'suspended', 'lifted the suspension of', 'changed the role of', name='actionkind', native_enum=False, length=32), nullable=False),
    sa.Column('target_user_id', sa.Integer(), nullable=True),
    sa.Column('target_name', sa.String(length=64), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=280), nullable=True),
    sa.Column('detail', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_moderation_action_actor_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['target_user_id'], ['user.id'], name=op.f('fk_moderation_action_target_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_action'))
    )
    with op.batch_alter_table('moderation_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_moderation_action_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_moderation_action_target_user_id'), ['target_user_id'], unique=False)

    op.create_table('mute',
    sa.Column('muter_id', sa.Integer(), nullable=False),
    sa.Column('muted_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('muter_id != muted_id', name=op.f('ck_mute_not_self')),
    sa.ForeignKeyConstraint(['muted_id'], ['user.id'], name=op.f('fk_mute_muted_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['muter_id'], ['user.id'], name=op.f('fk_mute_muter_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('muter_id', 'muted_id', name=op.f('pk_mute'))
    )
    with op.batch_alter_table('mute', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mute_muted_id'), ['muted_id'], unique=False)

    op.create_table('report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Enum('spam', 'abuse', 'other', name='reportreason', native_enum=False, length=16), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolution', sa.Enum('dismissed', 'post hidden', 'account suspended', name='resolution', native_enum=False, length=32), nullable=True),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_report_post_id_post'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reporter_id'], ['user.id'], name=op.f('fk_report_reporter_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['user.id'], name=op.f('fk_report_resolved_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_report_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report'))
    )
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.create_index('ix_report_open_id', ['id'], unique=False, sqlite_where=sa.text('resolved_at IS NULL'), postgresql_where=sa.text('resolved_at IS NULL'))
        batch_op.create_index(batch_op.f('ix_report_post_id'), ['post_id'], unique=False)
        batch_op.create_index('ix_report_reporter_id_id', ['reporter_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_resolved_by_id'), ['resolved_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_report_open_reporter_target', ['reporter_id', 'user_id', sa.text('coalesce(post_id, 0)')], unique=True, sqlite_where=sa.text('resolved_at IS NULL'), postgresql_where=sa.text('resolved_at IS NULL'))

    # Not in batch mode: on SQLite that would copy post and user into new tables, losing the
    # search index's triggers on them. Adding a column with a constant default is cheap on both
    # databases (PostgreSQL changes no row); building the indexes reads every post.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SET LOCAL statement_timeout = 0")
    op.add_column('post', sa.Column('hidden', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('post', sa.Column('hidden_at', sa.DateTime(), nullable=True))
    op.add_column('post', sa.Column('hidden_reason', sa.String(length=280), nullable=True))
    op.create_index('ix_post_author_id_hidden_id', 'post', ['author_id', 'hidden', 'id'], unique=False)
    op.create_index('ix_post_hidden_id_author_id', 'post', ['hidden', 'id', 'author_id'], unique=False)
    op.create_index('ix_post_reply_to_id_hidden_id', 'post', ['reply_to_id', 'hidden', 'id'], unique=False)
    op.drop_index('ix_post_author_id_id', table_name='post')
    op.drop_index('ix_post_reply_to_id_id', table_name='post')
    # The admin dashboard's posts and sign-ups per day.
    op.create_index('ix_post_created_at', 'post', ['created_at'], unique=False)
    op.create_index('ix_user_member_since', 'user', ['member_since'], unique=False)

    op.add_column('user', sa.Column('screened_count', sa.Integer(), server_default='0', nullable=False))
    op.add_column('user', sa.Column('role', sa.Enum('user', 'moderator', 'admin', name='role', native_enum=False, length=16), server_default='user', nullable=False))
    op.add_column('user', sa.Column('suspended_at', sa.DateTime(), nullable=True))
    op.add_column('user', sa.Column('suspended_until', sa.DateTime(), nullable=True))
    op.add_column('user', sa.Column('suspension_reason', sa.String(length=280), nullable=True))



def downgrade():
    op.drop_index('ix_user_member_since', table_name='user')
    op.drop_index('ix_post_created_at', table_name='post')
    # Plain ALTER TABLE (SQLite 3.35 and later drop columns in place), as in upgrade().
    for column in ('suspension_reason', 'suspended_until', 'suspended_at', 'role', 'screened_count'):
        op.execute(f'ALTER TABLE "user" DROP COLUMN {column}')
    op.create_index('ix_post_reply_to_id_id', 'post', ['reply_to_id', 'id'], unique=False)
    op.create_index('ix_post_author_id_id', 'post', ['author_id', 'id'], unique=False)
    op.drop_index('ix_post_reply_to_id_hidden_id', table_name='post')
    op.drop_index('ix_post_hidden_id_author_id', table_name='post')
    op.drop_index('ix_post_author_id_hidden_id', table_name='post')
    for column in ('hidden_reason', 'hidden_at', 'hidden'):
        op.execute(f'ALTER TABLE post DROP COLUMN {column}')

    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index('uq_report_open_reporter_target')
        batch_op.drop_index(batch_op.f('ix_report_user_id'))
        batch_op.drop_index(batch_op.f('ix_report_resolved_by_id'))
        batch_op.drop_index('ix_report_reporter_id_id')
        batch_op.drop_index(batch_op.f('ix_report_post_id'))
        batch_op.drop_index('ix_report_open_id', sqlite_where=sa.text('resolved_at IS NULL'), postgresql_where=sa.text('resolved_at IS NULL'))

    op.drop_table('report')
    with op.batch_alter_table('mute', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mute_muted_id'))

    op.drop_table('mute')
    with op.batch_alter_table('moderation_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_moderation_action_target_user_id'))
        batch_op.drop_index(batch_op.f('ix_moderation_action_actor_id'))

    op.drop_table('moderation_action')
    with op.batch_alter_table('block', schema=None) as batch_op:
        batch_op.drop_index('ix_block_blocked_id_blocker_id')

    op.drop_table('block')
