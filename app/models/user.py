"""Users: accounts, passwords, the follow graph seen from one user, and their feeds."""

import functools
import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
import sqlalchemy.orm as so
from disarm import skeleton_key
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_login import UserMixin
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.security import check_password_hash, generate_password_hash

from app.avatars import (
    AVATAR_KEY_LENGTH,
    AvatarSource,
    avatar_url,
    new_avatar_key,
    picture_url,
)
from app.avatars.pictures import DIGEST_LENGTH, Picture
from app.extensions import db, is_row_id
from app.models.avatar import AvatarPicture
from app.models.block import Block, Mute, blocked_either_way, is_screened, screened_authors
from app.models.clock import utcnow
from app.models.counters import SiteCount, add_to_count
from app.models.follow import Follow
from app.models.notification import Notification, NotificationKind, lock_users
from app.models.post import Mention, Post, PostLike
from app.models.roles import NotAllowed, Permission, Role
from app.models.session import UserSession
from app.models.tag import retag, tags_of, untag
from app.models.types import stored_as_text

USERNAME_MIN_LENGTH = 3
USERNAME_MAX_LENGTH = 32
USERNAME_PATTERN = r"^[A-Za-z0-9_.-]+\Z"  # \Z: "$" would let a trailing newline through
EMAIL_MAX_LENGTH = 254  # RFC 5321's limit on a forward path
PASSWORD_MIN_LENGTH = 8
ABOUT_ME_MAX_LENGTH = 280
SUSPENSION_REASON_MAX = 280
HIDDEN_POST_UNEDITABLE = "A hidden post cannot be edited. You can still delete it."

# Writing last_seen on every request would turn every page view into a write.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
# Who to follow reads the follows of the reader's most recent follows, this many of them, so
# its cost does not grow with how many people the reader follows (see suggestions_query).
SUGGESTION_SOURCES = 50


def is_valid_username(name: str) -> bool:
    return (
        USERNAME_MIN_LENGTH <= len(name) <= USERNAME_MAX_LENGTH
        and re.fullmatch(USERNAME_PATTERN, name) is not None
    )


def username_skeleton(name: str) -> str:
    """What ``name`` looks like: equal for names a reader cannot tell apart.

    The Unicode TR39 skeleton (``I``, ``l`` and ``1`` are one letter, ``0`` and ``O`` another),
    lower-cased. disarm leaves out TR39's ``m`` -> ``rn`` on purpose (it merges ordinary words);
    in a username, where ``rnary`` passes for ``mary``, it belongs.
    """
    return skeleton_key(name, digit_policy="tr39").replace("m", "rn")


def normalize_email(address: str) -> str:
    """The form an address is stored and looked up in: normalised, then case-folded.

    Mailbox names are case-sensitive in theory only; treating them so would let one person hold
    two accounts, and would make a sign-in with different capitals fail.
    """
    try:
        address = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        address = address.strip()
    return address.lower()


@functools.cache
def _current_hash_method() -> str:
    """The method and parameters Werkzeug's default hashing uses, e.g. ``scrypt:32768:8:1``."""
    return generate_password_hash("").split("$", 1)[0]


@functools.cache
def _dummy_password_hash() -> str:
    """A hash to check against when no user matches, so the miss takes as long as a hit."""
    return generate_password_hash("not-anyone's-password")


class User(UserMixin, db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(USERNAME_MAX_LENGTH))
    # Kept by set_username's validator. Unique: no two accounts look alike. NULL only for
    # look-alikes that existed before the rule (the migration keeps the oldest of each group).
    username_skeleton: so.Mapped[str | None] = so.mapped_column(sa.String(2 * USERNAME_MAX_LENGTH))
    email: so.Mapped[str] = so.mapped_column(sa.String(EMAIL_MAX_LENGTH), unique=True)
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(256))
    about_me: so.Mapped[str | None] = so.mapped_column(sa.String(ABOUT_ME_MAX_LENGTH))
    # Indexed for the admin area's sign-ups per day.
    member_since: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    last_seen: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    # Random, and the only thing the app's own avatar URL carries: it says nothing about the
    # user, unlike any hash of their email address.
    avatar_key: so.Mapped[str] = so.mapped_column(
        sa.String(AVATAR_KEY_LENGTH), default=new_avatar_key
    )
    avatar_source: so.Mapped[AvatarSource] = so.mapped_column(
        stored_as_text(AvatarSource, 16),
        default=AvatarSource.GENERATED,
        server_default=AvatarSource.GENERATED.value,
    )
    # The uploaded picture's digest, which its URLs carry (see AvatarPicture); None without one.
    # Kept whichever source is chosen, until the owner removes it.
    avatar_digest: so.Mapped[str | None] = so.mapped_column(sa.String(DIGEST_LENGTH))
    # When the owner proved the address is theirs (a link mailed to it); None until then.
    email_confirmed_at: so.Mapped[datetime | None]
    # Stored counts, changed in the same transaction as the rows they count (see follow(),
    # publish() and delete_post()), so showing them costs nothing whatever the site's size.
    posts_count: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    followers_count: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    following_count: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    unread_notifications: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    # How many accounts' posts this user does not see (mutes, and blocks either way): 0 for
    # nearly everyone, whose feeds then skip looking for them.
    screened_count: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    role: so.Mapped[Role] = so.mapped_column(
        stored_as_text(Role, 16), default=Role.USER, server_default=Role.USER.value
    )
    # Set by app.models.moderation's suspend(): when, why, and until when (None: indefinitely).
    # Cleared when the suspension is lifted, by an admin or once it has run out.
    suspended_at: so.Mapped[datetime | None]
    suspended_until: so.Mapped[datetime | None]
    suspension_reason: so.Mapped[str | None] = so.mapped_column(sa.String(SUSPENSION_REASON_MAX))

    posts: so.WriteOnlyMapped["Post"] = so.relationship(
        back_populates="author", passive_deletes=True
    )
    sessions: so.WriteOnlyMapped["UserSession"] = so.relationship(
        back_populates="user", passive_deletes=True
    )

    # The session this object was signed in or loaded through, for this request only (set by
    # app.auth.sessions' start_session and load_user); unannotated, so not a column.
    current_session = None

    __table_args__ = (
        # Usernames are shown as typed but unique regardless of case ("Ann" and "ann" are one).
        sa.Index("uq_user_username_lower", sa.func.lower(username), unique=True),
        sa.Index("uq_user_username_skeleton", username_skeleton, unique=True),
    )

    def __repr__(self) -> str:
        return f"<User {self.username}>"

    @so.validates("username")
    def _keep_skeleton(self, key: str, username: str) -> str:
        # A name set again unchanged keeps its skeleton: a look-alike from before the rule
        # (NULL, see the migration) stays as it is rather than colliding with the original.
        if username != self.username:
            self.username_skeleton = username_skeleton(username)
        return username

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and remember-me cookie: the raw key of this
        browser's session record, never the user's id (see app.models.session)."""
        if self.current_session is None or self.current_session.key is None:
            raise RuntimeError("No session: sign in through app.auth.sessions.sign_in().")
        return self.current_session.key

    # UserMixin compares get_id(), which here names a browser's session, not the account.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, User):
            return NotImplemented
        return self is other or (self.id is not None and self.id == other.id)

    __hash__ = object.__hash__

    # Lookups -----------------------------------------------------------------------------

    @staticmethod
    def username_matches(username: str) -> sa.ColumnElement[bool]:
        return sa.func.lower(User.username) == username.lower()

    @classmethod
    def with_follow_state(cls, username: str, viewer_id: int | None) -> "tuple[User, bool] | None":
        """The user with this username (any case) and whether the viewer (None: a visitor)
        follows them, in one statement: every profile page and hover card starts with it."""
        row = db.session.execute(
            profile_lookup(), {"username": username.lower(), "viewer_id": viewer_id}
        ).first()
        return None if row is None else (row[0], bool(row[1]))

    @classmethod
    def find(cls, username_or_email: str) -> "User | None":
        """The user with this username (any case) or email address, for sign-in and the shell."""
        identifier = username_or_email.strip()
        if "@" in identifier:
            return cls.find_by_email(identifier)
        return db.session.scalar(sa.select(cls).where(cls.username_matches(identifier)))

    @classmethod
    def find_by_email(cls, address: str) -> "User | None":
        return db.session.scalar(sa.select(cls).where(cls.email == normalize_email(address)))

    @classmethod
    def authenticate(cls, username_or_email: str, password: str) -> "User | None":
        """The matching user if the password is right."""
        user = cls.find(username_or_email)
        return user if cls.password_matches(user, password) else None

    @staticmethod
    def password_matches(user: "User | None", password: str) -> bool:
        """Whether ``password`` is ``user``'s; an older hash is upgraded on the way.

        No user costs one hash check too, so response times do not reveal which accounts exist.
        """
        if user is None:
            check_password_hash(_dummy_password_hash(), password)
            return False
        if not user.check_password(password):
            return False
        if user.password_needs_rehash():
            # Same password, stronger hash: sessions stay, unlike set_password().
            user.password_hash = generate_password_hash(password)
        return True

    @classmethod
    def username_taken(cls, username: str, *, excluding: "User | None" = None) -> bool:
        return cls._another_account_where(cls.username_matches(username), excluding)

    @classmethod
    def username_lookalike(cls, username: str, *, excluding: "User | None" = None) -> bool:
        """Whether another account's name looks like ``username`` (``Iauren`` and ``lauren``)."""
        condition = cls.username_skeleton == username_skeleton(username)
        return cls._another_account_where(condition, excluding)

    @classmethod
    def _another_account_where(
        cls, condition: sa.ColumnElement[bool], excluding: "User | None"
    ) -> bool:
        stmt = sa.select(cls.id).where(condition)
        if excluding is not None:
            stmt = stmt.where(cls.id != excluding.id)
        return db.session.scalar(stmt) is not None

    @classmethod
    def email_taken(cls, email: str) -> bool:
        stmt = sa.select(cls.id).where(cls.email == normalize_email(email))
        return db.session.scalar(stmt) is not None

    # Roles and standing ------------------------------------------------------------------

    def can(self, permission: Permission) -> bool:
        return permission in self.role.permissions

    def may_act_on(self, account: "User") -> bool:
        """Whether this user may act on ``account``: never their own, nor one of a higher role."""
        return account.id != self.id and account.role.rank <= self.role.rank

    def require(self, permission: Permission, account: "User | None" = None) -> None:
        """Raise NotAllowed unless this user's role grants ``permission`` and, for an action
        on ``account``, this user may act on it: every moderation action checks here."""
        if not self.can(permission):
            raise NotAllowed(f"Your role ({self.role}) does not allow that.")
        if account is not None and not self.may_act_on(account):
            if account.id == self.id:
                raise NotAllowed("You cannot do that to your own account.")
            raise NotAllowed(f"{account.username} has a higher role ({account.role}) than yours.")

    @property
    def is_suspended(self) -> bool:
        """Suspended and not yet lifted (a suspension that ran out is lifted at the next
        sign-in, or by ``flask users lift-suspensions``)."""
        return self.suspended_at is not None

    def suspension_is_over(self, now: datetime | None = None) -> bool:
        return self.suspended_until is not None and (now or utcnow()) >= self.suspended_until

    def suspension_notice(self) -> str:
        """What the suspended owner is told: until when, and why."""
        until = (
            f"until {self.suspended_until:%-d %B %Y, %H:%M} UTC"
            if self.suspended_until
            else "until a moderator lifts it"
        )
        return f"Your account is suspended {until}. Reason: {self.suspension_reason}"

    # Data rules --------------------------------------------------------------------------

    def set_email(self, address: str) -> None:
        self.email = normalize_email(address)

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    def confirm_email(self) -> None:
        self.email_confirmed_at = utcnow()

    def change_email(self, address: str) -> None:
        """Move the account to ``address``, which the owner just proved is theirs."""
        self.set_email(address)
        self.confirm_email()

    def set_password(self, password: str) -> None:
        """Change the password, which ends every session and kills every reset link."""
        self.password_hash = generate_password_hash(password)
        if self.id is not None:  # a new account has no sessions yet
            UserSession.end_all_for(self.id)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def password_needs_rehash(self) -> bool:
        return self.password_hash.split("$", 1)[0] != _current_hash_method()

    # Password reset tokens. itsdangerous removed TimedJSONWebSignatureSerializer (which older
    # tutorials use) in 2.1; URLSafeTimedSerializer signs with SECRET_KEY and a timestamp.

    @staticmethod
    def _reset_serializer() -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")

    def _credentials_fingerprint(self) -> str:
        """Changes with every new password hash (each has a fresh salt) and every new address,
        so a token carrying it dies once used, and when either changes for any reason."""
        credentials = f"{self.password_hash}\0{self.email}".encode()
        return hashlib.sha256(credentials).hexdigest()[:32]

    def password_reset_token(self) -> str:
        payload = {"user": self.id, "password": self._credentials_fingerprint()}
        return self._reset_serializer().dumps(payload)

    @classmethod
    def from_password_reset_token(cls, token: str) -> "User | None":
        """The user the token was made for, if it is genuine, fresh and not yet used."""
        max_age = current_app.config["PASSWORD_RESET_MAX_AGE"]
        try:
            payload = cls._reset_serializer().loads(token, max_age=max_age)
            user_id, fingerprint = payload["user"], payload["password"]
        except (BadData, KeyError, TypeError):
            return None
        if not is_row_id(user_id) or not isinstance(fingerprint, str):
            return None
        user = db.session.get(cls, user_id)
        if user is None or not secrets.compare_digest(user._credentials_fingerprint(), fingerprint):
            return None
        return user

    # Email tokens. Each is bound to the address it was made for, so a used one (the address
    # confirmed, or changed) or one made before another change is worthless.

    @staticmethod
    def _email_serializer(purpose: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=purpose)

    @staticmethod
    def _load_email_token(purpose: str, token: str) -> dict | None:
        max_age = current_app.config["EMAIL_CONFIRMATION_MAX_AGE"]
        try:
            payload = User._email_serializer(purpose).loads(token, max_age=max_age)
        except BadData:
            return None
        return payload if isinstance(payload, dict) else None

    def email_confirmation_token(self) -> str:
        return self._email_serializer("email-confirmation").dumps(
            {"user": self.id, "email": self.email}
        )

    @classmethod
    def from_email_confirmation_token(cls, token: str) -> "User | None":
        """The user whose still unconfirmed address the token was made for, if genuine and fresh."""
        payload = cls._load_email_token("email-confirmation", token)
        user = cls._owner_of_email_token(payload, "email")
        if user is None or user.email_confirmed:
            return None
        return user

    def email_change_token(self, new_address: str) -> str:
        payload = {
            "user": self.id,
            "old": self.email,
            "new": normalize_email(new_address),
            # A new password (the owner locking out whoever asked for this) kills the link.
            "credentials": self._credentials_fingerprint(),
        }
        return self._email_serializer("email-change").dumps(payload)

    @classmethod
    def from_email_change_token(cls, token: str) -> "tuple[User, str] | None":
        """The user and the new address the token asks for, while the old one is still theirs."""
        payload = cls._load_email_token("email-change", token)
        user = cls._owner_of_email_token(payload, "old")
        if user is None:
            return None
        new_address, fingerprint = payload.get("new"), payload.get("credentials")
        if not isinstance(new_address, str) or not isinstance(fingerprint, str):
            return None
        if not secrets.compare_digest(user._credentials_fingerprint(), fingerprint):
            return None
        return user, new_address

    @classmethod
    def _owner_of_email_token(cls, payload: dict | None, address_key: str) -> "User | None":
        """The token's user, if the address it names is still the account's."""
        if payload is None:
            return None
        user_id, address = payload.get("user"), payload.get(address_key)
        if not is_row_id(user_id) or not isinstance(address, str):
            return None
        user = db.session.get(cls, user_id)
        if user is None or not secrets.compare_digest(user.email.encode(), address.encode()):
            return None
        return user

    def avatar(self, size: int) -> str:
        """The URL of this user's avatar, ``size`` pixels square."""
        return avatar_url(
            source=self.avatar_source,
            key=self.avatar_key,
            email=self.email,
            digest=self.avatar_digest,
            size=size,
        )

    def uploaded_picture(self, size: int) -> str | None:
        """The URL of this user's uploaded picture, shown or not; None without one."""
        return None if self.avatar_digest is None else picture_url(self.avatar_digest, size)

    def use_picture(self, picture: Picture) -> bool:
        """Make ``picture`` this user's avatar, in place of any picture uploaded before; False
        if the account was deleted meanwhile (an upload takes a while)."""
        # Two uploads at once: one after the other, the last one kept.
        if self.id not in lock_users([self.id]):
            return False
        AvatarPicture.replace(self.id, picture)
        self.avatar_digest = picture.digest
        self.avatar_source = AvatarSource.UPLOADED
        return True

    def remove_picture(self, digest: str | None = None) -> bool:
        """Delete the uploaded picture (only if it is still ``digest``, when given); False if
        there was none. The drawn avatar takes its place if it was the one shown."""
        if self.id not in lock_users([self.id]):  # the account was deleted meanwhile
            return False
        db.session.expire(self, ["avatar_digest", "avatar_source"])  # read again once held
        if self.avatar_digest is None or digest not in (None, self.avatar_digest):
            return False
        AvatarPicture.replace(self.id, None)
        self.avatar_digest = None
        if self.avatar_source == AvatarSource.UPLOADED:
            self.avatar_source = AvatarSource.GENERATED
        return True

    def choose_avatar(self, source: AvatarSource) -> bool:
        """Show ``source``'s avatar; False, and nothing changed, for an uploaded picture this
        user no longer has (deleted in another tab)."""
        chosen = sa.update(User).where(User.id == self.id).values(avatar_source=source)
        if source == AvatarSource.UPLOADED:  # checked as it is written, whatever else runs
            chosen = chosen.where(User.avatar_digest.is_not(None))
        changed = db.session.execute(chosen, execution_options={"synchronize_session": False})
        db.session.expire(self, ["avatar_source", "avatar_digest"])
        return changed.rowcount == 1

    def record_visit(self, now: datetime | None = None) -> bool:
        """Move ``last_seen`` forward if it is over a minute old; True if it changed."""
        now = now or utcnow()
        if now - self.last_seen < LAST_SEEN_RESOLUTION:
            return False
        self.last_seen = now
        return True

    # Following ---------------------------------------------------------------------------

    def is_following(self, user: "User") -> bool:
        return db.session.get(Follow, (self.id, user.id)) is not None

    def follow(self, user: "User") -> bool:
        """Follow ``user``; False if already following. Nobody can follow themself."""
        if user.id == self.id:
            raise ValueError("Users cannot follow themselves.")
        lock_users([self.id, user.id])  # a block in parallel either ends this follow or waits
        if self.is_following(user):
            return False
        if blocked_either_way(self.id, user.id):
            raise NotAllowed(f"You cannot follow {user.username}.")
        db.session.add(Follow(follower_id=self.id, followed_id=user.id))
        add_to_count(self, "following_count", 1)
        add_to_count(user, "followers_count", 1)
        Notification.send(user, self, NotificationKind.FOLLOW)
        return True

    def unfollow(self, user: "User") -> bool:
        """Stop following ``user``; False if not following (a second unfollow sent at the same
        time finds the first one's delete, and changes no count)."""
        lock_users([self.id, user.id])
        unfollowed = sa.delete(Follow).where(
            Follow.follower_id == self.id, Follow.followed_id == user.id
        )
        if db.session.execute(unfollowed).rowcount != 1:
            return False
        Notification.withdraw(self, NotificationKind.FOLLOW, user_id=user.id)
        add_to_count(self, "following_count", -1)
        add_to_count(user, "followers_count", -1)
        return True

    def following_among(self, users: "list[User]") -> set[int]:
        """Ids of those ``users`` that this user follows, in one query for a whole page."""
        ids = [user.id for user in users]
        if not ids:
            return set()
        stmt = sa.select(Follow.followed_id).where(
            Follow.follower_id == self.id, Follow.followed_id.in_(ids)
        )
        return set(db.session.scalars(stmt))

    def suggested_for(
        self, limit: int = 3, sources: int = SUGGESTION_SOURCES
    ) -> "list[Suggestion]":
        """Up to ``limit`` accounts this user might follow, in one statement: those followed by
        the most of this user's ``sources`` most recent follows, then the most followed; never
        this user, anyone they follow already, screen out (muted, blocked either way) or a
        suspended account."""
        if limit < 1 or sources < 1:
            return []
        values = {"reader_id": self.id, "sources": sources, "limit": limit}
        rows = db.session.execute(suggestions_query(), values | {"last_place": limit - 1})
        return [Suggestion(user, followed_by) for user, followed_by in rows]

    def followers_newest_first(self) -> sa.Select[tuple["User"]]:
        return (
            sa.select(User)
            .join(Follow, Follow.follower_id == User.id)
            .where(Follow.followed_id == self.id)
            .order_by(Follow.created_at.desc(), Follow.follower_id.desc())
        )

    def following_newest_first(self) -> sa.Select[tuple["User"]]:
        return (
            sa.select(User)
            .join(Follow, Follow.followed_id == User.id)
            .where(Follow.follower_id == self.id)
            .order_by(Follow.created_at.desc(), Follow.followed_id.desc())
        )

    # Blocking and muting -----------------------------------------------------------------

    def has_blocked(self, user: "User") -> bool:
        return db.session.get(Block, (self.id, user.id)) is not None

    def has_muted(self, user: "User") -> bool:
        return db.session.get(Mute, (self.id, user.id)) is not None

    def screens(self, user: "User") -> bool:
        """Whether this user does not see ``user``'s posts (muted or blocked, either way)."""
        count = self.screened_count
        if isinstance(count, int) and count == 0:  # (a count changed in this transaction is
            return False  # an SQL expression until the flush: then ask the database)
        return is_screened(self.id, user.id)

    def block(self, user: "User") -> bool:
        """Block ``user``; False if blocked already. Follows between them end, and so do the
        notifications either has of the other."""
        if user.id == self.id:
            raise ValueError("Users cannot block themselves.")
        lock_users([self.id, user.id])
        if self.has_blocked(user):
            return False
        self.unfollow(user)
        user.unfollow(self)
        Notification.delete_between(self.id, user.id)
        Notification.delete_between(user.id, self.id)
        db.session.add(Block(blocker_id=self.id, blocked_id=user.id))
        add_to_count(self, "screened_count", 1)
        add_to_count(user, "screened_count", 1)
        return True

    def unblock(self, user: "User") -> bool:
        lock_users([self.id, user.id])
        unblocked = sa.delete(Block).where(Block.blocker_id == self.id, Block.blocked_id == user.id)
        if db.session.execute(unblocked).rowcount != 1:
            return False
        add_to_count(self, "screened_count", -1)
        add_to_count(user, "screened_count", -1)
        return True

    def mute(self, user: "User") -> bool:
        """Mute ``user``; False if muted already. The notifications they gave this user go."""
        if user.id == self.id:
            raise ValueError("Users cannot mute themselves.")
        lock_users([self.id])
        if self.has_muted(user):
            return False
        Notification.delete_between(self.id, user.id)
        db.session.add(Mute(muter_id=self.id, muted_id=user.id))
        add_to_count(self, "screened_count", 1)
        return True

    def unmute(self, user: "User") -> bool:
        lock_users([self.id])
        unmuted = sa.delete(Mute).where(Mute.muter_id == self.id, Mute.muted_id == user.id)
        if db.session.execute(unmuted).rowcount != 1:
            return False
        add_to_count(self, "screened_count", -1)
        return True

    def blocked_newest_first(self) -> sa.Select[tuple["User"]]:
        return (
            sa.select(User)
            .join(Block, Block.blocked_id == User.id)
            .where(Block.blocker_id == self.id)
            .order_by(Block.created_at.desc(), User.id.desc())
        )

    def muted_newest_first(self) -> sa.Select[tuple["User"]]:
        return (
            sa.select(User)
            .join(Mute, Mute.muted_id == User.id)
            .where(Mute.muter_id == self.id)
            .order_by(Mute.created_at.desc(), User.id.desc())
        )

    # Posts -------------------------------------------------------------------------------

    def publish(
        self, body: str, *, submission_key: str | None = None, reply_to: "Post | None" = None
    ) -> "Post":
        """A new post by this user, answering ``reply_to`` if given; its mentions resolved and
        everyone it concerns notified.

        Every change waits for the commit's flush (no autoflush here): a refused row (a form
        sent twice) must fail at commit, where publish_once() expects it, and the flush
        locks rows in one order for every writer (users by id, then posts by id), so writers
        never wait for each other in a circle.
        """
        if self.is_suspended:  # (a request that was under way when the suspension came)
            raise NotAllowed(self.suspension_notice())
        with db.session.no_autoflush:
            SiteCount.add(SiteCount.POSTS, 1)  # first, as every writer does (see SiteCount)
            post = Post(body=body, author=self, submission_key=submission_key)
            db.session.add(post)
            add_to_count(self, "posts_count", 1)
            notified = set()
            if reply_to is not None:
                post.reply_to_id = reply_to.id
                add_to_count(reply_to, "replies_count", 1)
                Notification.send(reply_to.author, self, NotificationKind.REPLY, post)
                notified.add(reply_to.author_id)
            for user in self.mentioned_in(body):
                db.session.add(Mention(post=post, user_id=user.id))
                if user.id not in notified:
                    Notification.send(user, self, NotificationKind.MENTION, post)
            retag(post, body, before={})
        return post

    def edit_post(self, post: "Post", body: str) -> None:
        """Change the post's text; mentions added are notified, mentions removed withdrawn,
        tags added and removed."""
        from app.post_text import hashtags

        if post.author_id != self.id:
            raise ValueError("Only the author can edit a post.")
        with db.session.no_autoflush:
            # First, as every writer of posts does (see SiteCount); tags are written by one
            # writer at a time (see retag). The post is read again once it is held: its author
            # may have deleted it in another tab (ObjectDeletedError, a 404), an edit sent twice
            # may have changed its tags, and a moderator may have hidden it.
            SiteCount.lock(SiteCount.POSTS)
            db.session.expire(post)
            if post.hidden:  # its tags were taken off with it, and come back only with it
                raise NotAllowed(HIDDEN_POST_UNEDITABLE)
            if hashtags(body).keys() != tags_of(post).keys():
                retag(post, body, tags_of(post))
            before = set(db.session.scalars(sa.select(Mention.user_id).where(Mention.post == post)))
            after = {user.id: user for user in self.mentioned_in(body)}
            lock_users(before | after.keys())
            answered = db.session.get(Post, post.reply_to_id) if post.reply_to_id else None
            for user_id in before - after.keys():
                Notification.withdraw(
                    self, NotificationKind.MENTION, post_id=post.id, user_id=user_id
                )
                db.session.delete(db.session.get(Mention, (post.id, user_id)))
            for user_id in after.keys() - before:
                db.session.add(Mention(post_id=post.id, user_id=user_id))
                if answered is None or answered.author_id != user_id:  # told of the reply
                    Notification.send(after[user_id], self, NotificationKind.MENTION, post)
            post.edit(body)

    def mentioned_in(self, body: str) -> list["User"]:
        """The existing accounts that ``body``'s @mentions name, in one query."""
        from app.post_text import mentioned_usernames  # it reads this module's name rules

        names = [name.lower() for name in mentioned_usernames(body)]
        if not names:
            return []
        return list(
            db.session.scalars(sa.select(User).where(sa.func.lower(User.username).in_(names)))
        )

    def post_submitted_with(self, submission_key: str) -> "Post | None":
        """This user's post made from the form that carried ``submission_key``, if any."""
        return db.session.scalar(
            sa.select(Post).where(Post.author_id == self.id, Post.submission_key == submission_key)
        )

    def delete_post(self, post: "Post") -> bool:
        """Delete the post: its replies stay (their thread shows it was deleted), and the
        unread notifications about it go with it. False when a request in parallel deleted it
        first: the caller rolls back, undoing the site count taken here."""
        if post.author_id != self.id:
            raise ValueError("Only the author can delete a post.")
        with db.session.no_autoflush:
            # First, as every writer does (see SiteCount). Every deleter, hider and restorer
            # of a post queues on it: once it is held, the post is there or gone for good,
            # and shown or hidden (a hidden post is off every count already) for good too.
            SiteCount.lock(SiteCount.POSTS)
            hidden = db.session.scalar(sa.select(Post.hidden).where(Post.id == post.id))
            if hidden is None:
                return False
            if not hidden:
                SiteCount.add(SiteCount.POSTS, -1)
            unread = sa.and_(Notification.post_id == post.id, sa.not_(Notification.read))
            lock_users(
                [self.id, *db.session.scalars(sa.select(Notification.user_id).where(unread))]
            )
            counts = dict(
                db.session.execute(
                    sa.select(Notification.user_id, sa.func.count())
                    .where(unread)
                    .group_by(Notification.user_id)
                ).all()
            )
            for recipient in db.session.scalars(sa.select(User).where(User.id.in_(counts))):
                add_to_count(recipient, "unread_notifications", -counts[recipient.id])
            if not hidden:
                if post.reply_to_id is not None:
                    answered = db.session.get(Post, post.reply_to_id)
                    if answered is not None:
                        add_to_count(answered, "replies_count", -1)
                untag(post)
                add_to_count(self, "posts_count", -1)
            # Its notifications, likes, mentions and tags go by ON DELETE CASCADE.
            db.session.delete(post)
        return True

    # Likes -------------------------------------------------------------------------------

    def likes(self, post: "Post") -> bool:
        return db.session.get(PostLike, (self.id, post.id)) is not None

    def like(self, post: "Post") -> bool:
        """Like ``post``; False if already liked. ``post.author`` must be loaded."""
        if self.likes(post):
            return False
        db.session.add(PostLike(user_id=self.id, post_id=post.id))
        add_to_count(post, "likes_count", 1)
        Notification.send(post.author, self, NotificationKind.LIKE, post)
        return True

    def unlike(self, post: "Post") -> bool:
        """Stop liking ``post``; False if not liked (a second unlike sent at the same time
        finds the first one's delete, and changes no count). ``post.author`` must be loaded."""
        lock_users([post.author_id])
        unliked = sa.delete(PostLike).where(
            PostLike.user_id == self.id, PostLike.post_id == post.id
        )
        if db.session.execute(unliked).rowcount != 1:
            return False
        Notification.withdraw(self, NotificationKind.LIKE, post_id=post.id)
        add_to_count(post, "likes_count", -1)
        return True

    def posts_newest_first(self) -> sa.Select[tuple["Post"]]:
        return Post.newest_first().where(Post.author_id == self.id)

    @classmethod
    def recount(cls) -> None:
        """Set every user's stored counts from the rows they count (``recount()`` in
        ``app.models`` does this and every other stored count)."""
        posts = sa.select(sa.func.count()).where(Post.author_id == cls.id, Post.shown())
        followers = sa.select(sa.func.count()).where(Follow.followed_id == cls.id)
        following = sa.select(sa.func.count()).where(Follow.follower_id == cls.id)
        unread = sa.select(sa.func.count()).where(
            Notification.user_id == cls.id, sa.not_(Notification.read)
        )
        screened = (
            sa.select(sa.func.count()).where(Mute.muter_id == cls.id).scalar_subquery()
            + sa.select(sa.func.count()).where(Block.blocker_id == cls.id).scalar_subquery()
            + sa.select(sa.func.count()).where(Block.blocked_id == cls.id).scalar_subquery()
        )
        db.session.execute(
            sa.update(cls).values(
                posts_count=posts.scalar_subquery(),
                followers_count=followers.scalar_subquery(),
                following_count=following.scalar_subquery(),
                unread_notifications=unread.scalar_subquery(),
                screened_count=screened,
            )
        )


@functools.cache
def profile_lookup() -> sa.Select[tuple[User, bool]]:
    """``User.with_follow_state``'s statement, built once (building it anew, and its cache key,
    cost more than SQLite took to run it). A visitor's viewer_id is NULL, which no follow has."""
    viewer_follows = sa.exists().where(
        Follow.follower_id == sa.bindparam("viewer_id", type_=sa.Integer),
        Follow.followed_id == User.id,
    )
    return sa.select(User, viewer_follows).where(
        sa.func.lower(User.username) == sa.bindparam("username")
    )


class Suggestion(NamedTuple):
    """An account to follow, and how many of the reader's follows (those considered) follow it."""

    user: User
    followed_by: int


@functools.cache
def suggestions_query() -> sa.Select[tuple[User, int]]:
    """``User.suggested_for``'s statement, built once (as ``profile_lookup``), bound by
    ``reader_id``, ``sources``, ``limit`` and ``last_place`` (``limit - 1``).

    It reads the follows of the reader's ``sources`` most recent follows (at most ``sources``
    times what each of them follows, however many the reader follows), counts them per
    account, leaves out the reader, whoever the reader follows or screens out (and, among the
    chosen, suspended accounts), and ranks by that count,
    then followers, then id. Only the accounts that count as many as the last place or more
    are looked up for their followers: a handful, where looking up every candidate (thousands
    on a big site) took most of the time.
    """
    reader = sa.bindparam("reader_id", type_=sa.Integer)
    recent, theirs, mine = so.aliased(Follow), so.aliased(Follow), so.aliased(Follow)
    sources = (
        sa.select(recent.followed_id)
        .where(recent.follower_id == reader)
        .order_by(recent.created_at.desc(), recent.followed_id.desc())
        .limit(sa.bindparam("sources", type_=sa.Integer))
    )
    followed_already = sa.exists().where(
        mine.follower_id == reader, mine.followed_id == theirs.followed_id
    )
    candidates = (
        sa.select(theirs.followed_id.label("user_id"), sa.func.count().label("followed_by"))
        .where(
            theirs.follower_id.in_(sources),
            theirs.followed_id != reader,
            ~followed_already,
            theirs.followed_id.not_in(screened_authors(reader)),
        )
        .group_by(theirs.followed_id)
        .cte("candidates")
    )
    last_place = (
        sa.select(candidates.c.followed_by)
        .order_by(candidates.c.followed_by.desc())
        .limit(1)
        .offset(sa.bindparam("last_place", type_=sa.Integer))
        .scalar_subquery()
    )
    candidate = so.aliased(User)
    followers = (
        sa.select(candidate.followers_count)
        .where(candidate.id == candidates.c.user_id)
        .scalar_subquery()
    )
    chosen = (
        sa.select(candidates.c.user_id, candidates.c.followed_by)
        .where(candidates.c.followed_by >= sa.func.coalesce(last_place, 0))
        .order_by(candidates.c.followed_by.desc(), followers.desc(), candidates.c.user_id)
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .subquery("chosen")
    )
    return (
        sa.select(User, chosen.c.followed_by)
        .join(chosen, chosen.c.user_id == User.id)
        .where(User.suspended_at.is_(None))
        .order_by(chosen.c.followed_by.desc(), User.followers_count.desc(), User.id)
    )
