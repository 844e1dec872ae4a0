"""The data and the rules about it, one module per aggregate; every name is importable from here."""

from app.models.account import USERNAME_RESERVATION, ReservedUsername, delete_account
from app.models.avatar import AvatarPicture
from app.models.block import Block, Mute
from app.models.clock import utcnow
from app.models.counters import SiteCount
from app.models.feed import ChosenFeed, Feed, every_post, posts_by, timeline_of
from app.models.follow import Follow
from app.models.moderation import (
    REASON_MAX_LENGTH,
    REPORT_NOTE_MAX_LENGTH,
    ActionKind,
    Moderation,
    ModerationAction,
    Report,
    ReportReason,
    Resolution,
    lift_ended_suspensions,
)
from app.models.notification import Notification, NotificationKind
from app.models.post import (
    POST_MAX_LENGTH,
    SUBMISSION_KEY_LENGTH,
    Mention,
    Post,
    PostLike,
    is_submission_key,
    new_submission_key,
)
from app.models.recount import recount
from app.models.roles import NotAllowed, Permission, Role
from app.models.search import (
    MATCHES_MAX,
    NEWEST,
    RELEVANCE,
    Found,
    search_people,
    search_posts,
    search_tags,
)
from app.models.security import SecurityEvent, SecurityEventKind
from app.models.session import UserSession
from app.models.tag import TAG_MAX_LENGTH, PostTag, Tag
from app.models.user import (
    ABOUT_ME_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    HIDDEN_POST_UNEDITABLE,
    PASSWORD_MIN_LENGTH,
    SUGGESTION_SOURCES,
    USERNAME_MAX_LENGTH,
    USERNAME_MIN_LENGTH,
    USERNAME_PATTERN,
    Suggestion,
    User,
    is_valid_username,
    normalize_email,
    username_skeleton,
)

__all__ = [
    "REASON_MAX_LENGTH",
    "REPORT_NOTE_MAX_LENGTH",
    "ActionKind",
    "AvatarPicture",
    "Block",
    "ModerationAction",
    "Moderation",
    "Mute",
    "NotAllowed",
    "Permission",
    "Report",
    "ReportReason",
    "Resolution",
    "Role",
    "lift_ended_suspensions",
    "Found",
    "MATCHES_MAX",
    "NEWEST",
    "RELEVANCE",
    "search_people",
    "search_posts",
    "search_tags",
    "Mention",
    "Notification",
    "NotificationKind",
    "PostLike",
    "PostTag",
    "Tag",
    "TAG_MAX_LENGTH",
    "ChosenFeed",
    "Feed",
    "every_post",
    "posts_by",
    "timeline_of",
    "ABOUT_ME_MAX_LENGTH",
    "EMAIL_MAX_LENGTH",
    "HIDDEN_POST_UNEDITABLE",
    "PASSWORD_MIN_LENGTH",
    "POST_MAX_LENGTH",
    "SUBMISSION_KEY_LENGTH",
    "SUGGESTION_SOURCES",
    "USERNAME_MAX_LENGTH",
    "USERNAME_MIN_LENGTH",
    "USERNAME_PATTERN",
    "USERNAME_RESERVATION",
    "Follow",
    "Post",
    "ReservedUsername",
    "SecurityEvent",
    "SecurityEventKind",
    "SiteCount",
    "Suggestion",
    "User",
    "UserSession",
    "delete_account",
    "is_submission_key",
    "is_valid_username",
    "new_submission_key",
    "normalize_email",
    "recount",
    "username_skeleton",
    "utcnow",
]
