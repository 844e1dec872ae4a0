"""Failed sign-ins: counted per named account, or per device cookie for the owner's browsers."""

from dataclasses import dataclass

from werkzeug.exceptions import TooManyRequests

from app.auth.devices import device_nonce
from app.models import User, normalize_email
from app.throttle import FailureLimit

ACCOUNT_FAILURES = FailureLimit("LOGIN_ACCOUNT_RATE_LIMIT", "login-account")
DEVICE_FAILURES = FailureLimit("LOGIN_DEVICE_RATE_LIMIT", "login-device")


def account_key(identifier: str) -> str:
    """The counter a name belongs to, from the name alone.

    Never from a lookup: a key that differed for existing accounts would tell which exist.
    The price is that an account's username and email address count apart.
    """
    identifier = identifier.strip()
    return normalize_email(identifier) if "@" in identifier else identifier.lower()


@dataclass(frozen=True)
class LoginThrottle:
    limit: FailureLimit
    key: str

    @classmethod
    def for_attempt(cls, identifier: str, account: User | None) -> "LoginThrottle":
        """The device cookie's counter if this browser signed in to ``account`` before and has
        not used up its own failures; otherwise the named account's counter."""
        nonce = device_nonce(account) if account is not None else None
        if nonce is not None and not DEVICE_FAILURES.wait(nonce):
            return cls(DEVICE_FAILURES, nonce)
        return cls(ACCOUNT_FAILURES, account_key(identifier))

    def check(self) -> None:
        """Refuse the attempt (429) before its password is looked at, if over the limit."""
        wait = self.limit.wait(self.key)
        if wait:
            raise TooManyRequests(retry_after=wait)

    def fail(self) -> None:
        self.limit.fail(self.key)


def clear_account_failures(user: User) -> None:
    """Forget the failures counted against the account's name and address (after a reset)."""
    for identifier in (user.username, user.email):
        ACCOUNT_FAILURES.clear(account_key(identifier))
