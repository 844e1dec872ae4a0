"""Who may do what: roles, the permissions each grants, and the one place that checks them."""

import enum


class Permission(enum.Enum):
    """What a role allows, beyond what every signed-in user may do."""

    MODERATE = "moderate"  # the admin area: reports, hiding and restoring posts, the audit log
    SUSPEND = "suspend"  # suspending accounts and lifting suspensions
    ADMINISTER = "administer"  # giving roles


class Role(enum.StrEnum):
    """A user's role; each grants what the one below does and more."""

    USER = "user"
    MODERATOR = "moderator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    @property
    def permissions(self) -> frozenset[Permission]:
        return ROLE_PERMISSIONS[self]


ROLE_PERMISSIONS = {
    Role.USER: frozenset(),
    Role.MODERATOR: frozenset({Permission.MODERATE}),
    Role.ADMIN: frozenset(Permission),
}


class NotAllowed(Exception):
    """An action the acting user's role does not allow, or one on an account they may not act
    on (their own, or one of a higher role). Its message says which, for the person."""
