"""The application factory."""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from app import (
    assets,
    cards,
    compression,
    links,
    logs,
    models,  # noqa: F401  (every table exists before first use)
    security,
    transactions,
    uploads,
)
from app.admin import bp as admin_bp
from app.admin.cli import users_cli
from app.auth import bp as auth_bp
from app.avatars.routes import bp as avatars_bp
from app.cli import seed_command
from app.conversations import bp as conversations_bp
from app.errors import bp as errors_bp
from app.extensions import (
    ROW_ID_MAX,
    bootstrap,
    csrf,
    db,
    limiter,
    login,
    mail,
    migrate,
    moment,
)
from app.feeds import bp as feeds_bp
from app.health import bp as health_bp
from app.live import bp as live_bp
from app.main import bp as main_bp
from app.main import suggestions
from app.profile import bp as profile_bp
from app.safety import bp as safety_bp
from app.search import bp as search_bp
from app.settings import bp as settings_bp
from app.tags import bp as tags_bp
from config import Config, resolve_config


def create_app(config: str | type[Config] | None = None) -> Flask:
    """Build the app from a config class or its name (default: ``MICROBLOG_CONFIG``)."""
    config_class = resolve_config(config)
    app = Flask(__name__)
    app.config.from_object(config_class)
    # Logs first: the config's own warnings come out in the chosen format, and the clock and
    # the request id start before CSRF or the limiter can turn a request away.
    logs.init_app(app)
    config_class.init_app(app)

    app.url_map.converters["id"] = RowIdConverter
    # Transactions first: its hook must run before any other hook's query.
    extensions = (
        transactions,
        uploads,
        db,
        login,
        bootstrap,
        moment,
        mail,
        csrf,
        limiter,
        security,
        compression,
        links,
        cards,
        suggestions,
        assets,
    )
    for extension in extensions:
        extension.init_app(app)
    migrate.init_app(app, db)
    blueprints = (
        errors_bp,
        auth_bp,
        main_bp,
        profile_bp,
        avatars_bp,
        feeds_bp,
        conversations_bp,
        live_bp,
        tags_bp,
        search_bp,
        safety_bp,
        admin_bp,
        settings_bp,
        health_bp,
    )
    for blueprint in blueprints:  # each sets its own paths
        app.register_blueprint(blueprint)
    app.cli.add_command(seed_command)
    app.cli.add_command(users_cli)
    if proxies := app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    return app


class RowIdConverter(IntegerConverter):
    """A row id in a URL: a number the database's INTEGER can hold, or no match (404).

    A plain ``int`` lets /post/99999999999999999999 through to the query, which fails.
    """

    def __init__(self, map, *args, **kwargs) -> None:
        super().__init__(map, min=1, max=ROW_ID_MAX)
