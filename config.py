"""Configuration classes, chosen by name (``MICROBLOG_CONFIG``) or passed to ``create_app``."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

from dotenv import load_dotenv
from flask import Flask
from flask_moment import default_moment_sri, default_moment_version

BASE_DIR = Path(__file__).resolve().parent
load_dotenv(BASE_DIR / ".env")

# Tokens signed with a key shorter than this are within reach of offline guessing.
MIN_SECRET_KEY_LENGTH = 32
LOG_FORMATS = ("json", "text")
MIN_IDLE_TIMEOUT = timedelta(minutes=5)


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise RuntimeError(f"{name} must be a whole number, not {value!r}.") from None


def env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def database_url(url: str) -> str:
    """``url`` with PostgreSQL schemes pointed at psycopg 3, the driver requirements.txt pins.

    Hosts hand out ``postgres://``, which SQLAlchemy does not know, and ``postgresql://``,
    which it reads as psycopg2.
    """
    scheme, separator, rest = url.partition("://")
    if separator and scheme in {"postgres", "postgresql"}:
        return f"postgresql+psycopg://{rest}"
    return url


def engine_options(url: str) -> dict[str, object]:
    """SQLAlchemy engine options for ``url``, from the DATABASE_* environment variables."""
    # A connection that a database restart or an idle timeout closed is replaced at checkout
    # instead of failing the request that drew it.
    options: dict[str, object] = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        statement_timeout_ms = env_int("DATABASE_STATEMENT_TIMEOUT_MS", 15_000)
        options |= {
            "pool_size": env_int("DATABASE_POOL_SIZE", 5),
            "max_overflow": env_int("DATABASE_MAX_OVERFLOW", 5),
            "pool_timeout": env_int("DATABASE_POOL_TIMEOUT", 10),
            "pool_recycle": env_int("DATABASE_POOL_RECYCLE", 1800),
            "connect_args": {
                "connect_timeout": env_int("DATABASE_CONNECT_TIMEOUT", 3),
                "options": f"-c statement_timeout={statement_timeout_ms}",
            },
        }
    return options


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    # A relative SQLite path lands in the instance folder, which Flask-SQLAlchemy creates.
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL", "sqlite:///microblog.db"))
    # None: built from the URL and the DATABASE_* variables when the app starts (init_app).
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, object] | None = None
    POSTS_PER_PAGE = env_int("POSTS_PER_PAGE", 10)
    # How often an open page asks for new posts and notifications; 0 turns live updates off.
    LIVE_CHECK_SECONDS = env_int("LIVE_CHECK_SECONDS", 15)
    # How long a process keeps a reader's "who to follow" before working it out again.
    SUGGESTIONS_CACHE_SECONDS = env_int("SUGGESTIONS_CACHE_SECONDS", 600)
    # Whether users may choose Gravatar for their avatar (everyone else's is drawn by the app).
    # Off: no choice offered, every avatar drawn here, and no Gravatar origin in the CSP.
    GRAVATAR_ENABLED = env_flag("GRAVATAR_ENABLED", default=True)
    # Uploaded avatars: a phone's photo fits. The pixel limits are checked on the file's header,
    # before anything is decoded, so a small file cannot unpack into gigabytes. A JPEG decodes
    # reduced, other formats whole, four bytes a pixel and more: their limit is lower.
    AVATAR_MAX_BYTES = env_int("AVATAR_MAX_BYTES", 10 * 2**20)
    AVATAR_MAX_PIXELS = env_int("AVATAR_MAX_PIXELS", 50_000_000)
    AVATAR_MAX_PIXELS_WHOLE = env_int("AVATAR_MAX_PIXELS_WHOLE", 16_000_000)

    # The CDN copy is pinned by its Subresource Integrity hash; a self-hosted copy of the same
    # file (MOMENT_JS_URL) matches the same hash. Set MOMENT_JS_SRI empty for another build.
    MOMENT_JS_URL = (
        os.environ.get("MOMENT_JS_URL")
        or "https://cdnjs.cloudflare.com/ajax/libs/moment.js/"
        f"{default_moment_version}/moment-with-locales.min.js"
    )
    MOMENT_JS_SRI = os.environ.get("MOMENT_JS_SRI", default_moment_sri)

    # Pages must work with no internet, so Bootstrap comes from the installed package.
    BOOTSTRAP_SERVE_LOCAL = True
    BOOTSTRAP_MSG_CATEGORY = "info"

    # Flask-Compress: only the assets the app serves itself (Bootstrap, its own CSS and JS, the
    # moment.js glue, identicons), never pages, fragments or JSON. A page carries a CSRF token
    # (the same value on every page of a session) next to text an attacker can make it reflect
    # (form input, usernames, ?next=); compressed together over TLS, the response's length leaks
    # the token a guess at a time (BREACH). Pages are a few kilobytes, the assets some 270 KiB.
    COMPRESS_MIMETYPES = ["text/css", "text/javascript", "application/javascript", "image/svg+xml"]

    # How long a password reset link works, in seconds.
    PASSWORD_RESET_MAX_AGE = env_int("PASSWORD_RESET_MAX_AGE", 3600)
    # New accounts confirm their address by a mailed link before they can post or follow, and
    # registering answers alike whether or not the address has an account. Off: new accounts
    # are signed in and act at once, and registering says when an address is taken.
    REQUIRE_EMAIL_CONFIRMATION = env_flag("REQUIRE_EMAIL_CONFIRMATION", True)
    # How long a link that confirms an address (a new account's or a changed one) works, seconds.
    EMAIL_CONFIRMATION_MAX_AGE = env_int("EMAIL_CONFIRMATION_MAX_AGE", 2 * 24 * 3600)
    # Scheme, host and path prefix for links in mails, e.g. https://microblog.example. Without
    # it (or SERVER_NAME) links follow the request's Host header, which a client controls.
    APP_BASE_URL = os.environ.get("APP_BASE_URL", "").rstrip("/")
    SERVER_NAME = os.environ.get("SERVER_NAME") or None

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = env_int("MAIL_PORT", 25)
    MAIL_USE_TLS = env_flag("MAIL_USE_TLS")
    MAIL_USE_SSL = env_flag("MAIL_USE_SSL")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Microblog <noreply@localhost>")
    # With no server, mails are written to the log instead (see app/email.py).
    MAIL_SUPPRESS_SEND = not MAIL_SERVER

    # Every form here is a few kilobytes; anything far larger is a mistake or an attack (413).
    # A view that takes a file says how much more it accepts (app/uploads.py).
    MAX_CONTENT_LENGTH = 256 * 1024
    MAX_FORM_MEMORY_SIZE = 64 * 1024

    # Rate limits (Flask-Limiter notation). With several app processes, point the storage at
    # Redis (redis://127.0.0.1:6379/0) so they count together.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # While Redis cannot be reached, each process counts in its own memory (Flask-Limiter logs
    # a warning) rather than failing every limited request, and goes back to Redis once it
    # answers again (checked after 1, 2, 4 ... 32 seconds).
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # A Redis that hangs must cost a request half a second, not the worker's whole timeout.
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    # Said explicitly: the limiter is one object, and without the key each app would inherit
    # the last app's choice (tests build apps with limits off).
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True  # Retry-After and X-RateLimit-* on every limited response
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")  # per client
    # Failed logins per account name (username or address, counted apart), whatever the
    # client: slows password guessing spread over many addresses. Browsers that signed in to
    # the account before are not held to it (app/auth/devices.py)...
    LOGIN_ACCOUNT_RATE_LIMIT = os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT", "20 per hour")
    # ...but to this one, per device cookie, after which that cookie is trusted no more.
    LOGIN_DEVICE_RATE_LIMIT = os.environ.get("LOGIN_DEVICE_RATE_LIMIT", "10 per hour")
    # Wrong current passwords in settings forms, per user and per client; reaching it signs
    # the session out (app/auth/reverify.py).
    REVERIFY_RATE_LIMIT = os.environ.get("REVERIFY_RATE_LIMIT", "5 per 15 minutes")
    REGISTER_RATE_LIMIT = os.environ.get("REGISTER_RATE_LIMIT", "10 per hour")
    RESET_RATE_LIMIT = os.environ.get("RESET_RATE_LIMIT", "10 per hour")  # per client
    # Mails to one address from its forms (reset, registration), whoever asks.
    RESET_EMAIL_RATE_LIMIT = os.environ.get("RESET_EMAIL_RATE_LIMIT", "3 per hour")
    POST_RATE_LIMIT = os.environ.get("POST_RATE_LIMIT", "30 per minute")  # per user
    # Searches per user (or client address, signed out): far more than anyone types, far
    # fewer than a script walking the index would like.
    SEARCH_RATE_LIMIT = os.environ.get("SEARCH_RATE_LIMIT", "60 per minute")
    # Reports sent per user: enough for someone who meets a wave of spam, too few to flood
    # the moderators' queue.
    REPORT_RATE_LIMIT = os.environ.get("REPORT_RATE_LIMIT", "20 per hour")
    # Mails an account can ask for: confirmation links resent, and email changes (each mails a
    # link to an address the user names).
    CONFIRMATION_RESEND_RATE_LIMIT = os.environ.get("CONFIRMATION_RESEND_RATE_LIMIT", "3 per hour")
    EMAIL_CHANGE_RATE_LIMIT = os.environ.get("EMAIL_CHANGE_RATE_LIMIT", "5 per hour")
    # Avatar uploads per user: each costs a worker a tenth of a second (a phone's photo) to
    # half a second (the largest PNG) of decoding.
    AVATAR_UPLOAD_RATE_LIMIT = os.environ.get("AVATAR_UPLOAD_RATE_LIMIT", "10 per hour")

    # Proxies in front of the app (each adds one X-Forwarded-For entry). Rate limits count per
    # client address, so behind a proxy this must be set or every client looks the same.
    TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)
    # Host headers the app answers (comma-separated; a leading dot admits subdomains).
    TRUSTED_HOSTS = env_list("TRUSTED_HOSTS") or None
    HSTS_SECONDS = 0

    # "json": one JSON line per request and per log record on stdout, for log collectors;
    # "text": Flask's plain records on stderr, and the server's own access log.
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_NAME = "remember_token"
    # Sessions live in the database (app/models/session.py); these end them there, whatever
    # the browser keeps. No session outlives REMEMBER_COOKIE_DURATION from its sign-in: the
    # remember-me cookie's 30 days, and an absolute end for plain sessions left open.
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    # A plain session (no "remember me") ends after 12 hours unused: a working day's gaps, but
    # not the night on a shared computer whose browser was never closed.
    SESSION_IDLE_TIMEOUT = timedelta(seconds=env_int("SESSION_IDLE_TIMEOUT", 12 * 3600))
    # A remembered session ends after 14 days unused: a weekly visitor stays signed in, a
    # forgotten device or a stolen cookie nobody uses does not.
    REMEMBER_IDLE_TIMEOUT = timedelta(seconds=env_int("REMEMBER_IDLE_TIMEOUT", 14 * 24 * 3600))
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    DEVICE_COOKIE_DURATION = timedelta(days=365)

    @classmethod
    def init_app(cls, app: Flask) -> None:
        """Checks and set-up that need the app (its instance folder, its debug flag)."""
        config = app.config
        config["SQLALCHEMY_DATABASE_URI"] = database_url(config["SQLALCHEMY_DATABASE_URI"])
        if config["SQLALCHEMY_ENGINE_OPTIONS"] is None:
            config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(config["SQLALCHEMY_DATABASE_URI"])
        if app.config["POSTS_PER_PAGE"] < 1:
            raise RuntimeError("POSTS_PER_PAGE must be at least 1.")
        if app.config["LIVE_CHECK_SECONDS"] < 0:
            raise RuntimeError("LIVE_CHECK_SECONDS must be 0 (off) or more.")
        for name in ("SESSION_IDLE_TIMEOUT", "REMEMBER_IDLE_TIMEOUT"):
            # Activity is written once a minute: a shorter idle limit would end busy sessions.
            if config[name] < MIN_IDLE_TIMEOUT:
                raise RuntimeError(f"{name} must be at least {MIN_IDLE_TIMEOUT.seconds} seconds.")
        if app.config["LOG_FORMAT"] not in LOG_FORMATS:
            choices = ", ".join(LOG_FORMATS)
            raise RuntimeError(f"LOG_FORMAT must be one of {choices}.")


class DevelopmentConfig(Config):
    @classmethod
    def init_app(cls, app: Flask) -> None:
        super().init_app(app)
        if not app.config["SECRET_KEY"]:
            app.config["SECRET_KEY"] = _instance_secret_key(app)


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret-key-that-is-long-enough-to-pass"
    # In-memory SQLite, or the PostgreSQL database of TEST_DATABASE_URL, in which each test's
    # tables live in a schema of their own (tests/conftest.py).
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("TEST_DATABASE_URL") or "sqlite://")
    WTF_CSRF_ENABLED = False
    POSTS_PER_PAGE = 10
    REQUIRE_EMAIL_CONFIRMATION = True  # whatever .env says: tests that need it off say so
    LOG_FORMAT = "text"  # whatever .env says: test output stays readable


class ProductionConfig(Config):
    HSTS_SECONDS = env_int("HSTS_SECONDS", 365 * 24 * 3600)
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")

    @classmethod
    def init_app(cls, app: Flask) -> None:
        super().init_app(app)
        key = app.config["SECRET_KEY"]
        if len(key) < MIN_SECRET_KEY_LENGTH:
            raise RuntimeError(
                f"SECRET_KEY must be set to a random value of at least {MIN_SECRET_KEY_LENGTH} "
                'characters in production, e.g. python -c "import secrets; '
                'print(secrets.token_urlsafe(48))"'
            )
        if app.debug:
            raise RuntimeError("DEBUG must be off in production (unset FLASK_DEBUG).")
        if not (app.config["APP_BASE_URL"] or app.config["SERVER_NAME"]):
            app.logger.warning(
                "Neither APP_BASE_URL nor SERVER_NAME is set: links in mails follow the "
                "request's Host header, which a client can forge."
            )
        if app.config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
            # gunicorn.conf.py refuses several workers so; other servers cannot be checked.
            app.logger.warning(
                "RATELIMIT_STORAGE_URI is memory://: rate limits are counted per process, so "
                "with several processes each lets the full limit through. Set it to a Redis "
                "they share, e.g. redis://127.0.0.1:6379/0."
            )


def _instance_secret_key(app: Flask) -> str:
    """A random key kept in the instance folder, so dev sessions survive the reloader."""
    path = Path(app.instance_path) / "dev-secret-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def resolve_config(config: str | type[Config] | None) -> type[Config]:
    """A config class, from itself, its name or ``MICROBLOG_CONFIG`` (default: development)."""
    if config is None:
        config = os.environ.get("MICROBLOG_CONFIG", "development")
    if isinstance(config, str):
        try:
            return CONFIGS[config]
        except KeyError:
            names = ", ".join(CONFIGS)
            raise RuntimeError(f"Unknown config {config!r}: choose one of {names}.") from None
    return config
