import io
import json
import logging
import re

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db
from app.logs import json_handler
from config import ProductionConfig, TestingConfig
from tests.conftest import PASSWORD
from tests.helpers import app_with_users

# Connection refused at once, as when PostgreSQL is stopped on its host.
UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/none"
NEW_ID = re.compile(r"[0-9a-f]{32}")
REQUEST_FIELDS = {
    "time",
    "level",
    "logger",
    "message",
    "request_id",
    "method",
    "path",
    "status",
    "duration_ms",
    "user_id",
    "client",
}


class JsonLogs(TestingConfig):
    LOG_FORMAT = "json"
    PROPAGATE_EXCEPTIONS = False  # a failing view answers 500, as in production


class JsonLogsBehindProxy(JsonLogs):
    TRUSTED_PROXIES = 1


@pytest.fixture
def log_lines():
    """What the JSON handler writes while the test runs, one parsed dict per line.

    The handler and the ``app`` logger outlive an app, so they are put back as they were.
    """
    buffer = io.StringIO()
    stream = json_handler.setStream(buffer)
    app_logger = logging.getLogger("app")
    handlers, level = app_logger.handlers[:], app_logger.level

    def lines() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines()]

    yield lines
    json_handler.setStream(stream)
    logging.getLogger().removeHandler(json_handler)
    app_logger.handlers[:] = handlers
    app_logger.setLevel(level)


@pytest.fixture
def build_app():
    """An app with a user "ann" from ``config``; its engine is disposed afterwards."""
    apps = []

    def build(config=JsonLogs):
        app = app_with_users(config, "ann")
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.drop_all()
            db.engine.dispose()


def request_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if "status" in line]


def test_each_request_is_one_json_line_with_every_field(build_app, log_lines):
    client = build_app().test_client()
    client.post("/auth/login", data={"username": "ann", "password": PASSWORD})
    response = client.get("/explore?page=1")
    line = request_lines(log_lines())[-1]
    assert set(line) == REQUEST_FIELDS
    assert line["level"] == "INFO"
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert (line["method"], line["path"], line["status"]) == ("GET", "/explore", 200)
    assert isinstance(line["duration_ms"], float) and 0 < line["duration_ms"] < 10_000
    assert line["user_id"] == 1
    assert line["client"] == "127.0.0.1"
    assert line["time"].endswith("+00:00")


def test_every_request_gets_exactly_one_line(build_app, log_lines):
    client = build_app().test_client()
    responses = [client.get(path) for path in ("/explore", "/auth/login", "/missing")]
    lines = request_lines(log_lines())
    assert [line["request_id"] for line in lines] == [r.headers["X-Request-ID"] for r in responses]
    assert [line["status"] for line in lines] == [200, 200, 404]
    assert [line["user_id"] for line in lines] == [None, None, None]


def test_the_log_does_not_load_the_user_itself(build_app, log_lines):
    app = build_app()
    client = app.test_client()
    client.post("/auth/login", data={"username": "ann", "password": PASSWORD})
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    client.get("/static/css/app.css").close()  # an asset: nothing asks who is signed in
    sa.event.remove(engine, "before_cursor_execute", record)
    assert statements == []
    assert request_lines(log_lines())[-1]["user_id"] is None


def test_an_error_is_logged_with_its_traceback_and_the_request_id(build_app, log_lines):
    app = build_app()

    @app.get("/boom")
    def boom():
        raise RuntimeError("the view failed")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    request_id = response.headers["X-Request-ID"]
    error, request = log_lines()
    assert error["level"] == "ERROR"
    assert error["request_id"] == request_id
    assert "Traceback" in error["traceback"]
    assert "RuntimeError: the view failed" in error["traceback"]
    assert (request["status"], request["request_id"]) == (500, request_id)


def test_a_trusted_proxys_request_id_is_kept(build_app, log_lines):
    client = build_app(JsonLogsBehindProxy).test_client()
    response = client.get("/explore", headers={"X-Request-ID": "edge-7f3a.1"})
    assert response.headers["X-Request-ID"] == "edge-7f3a.1"
    assert request_lines(log_lines())[-1]["request_id"] == "edge-7f3a.1"


def test_a_clients_own_request_id_is_replaced_without_a_trusted_proxy(build_app, log_lines):
    client = build_app().test_client()
    response = client.get("/explore", headers={"X-Request-ID": "chosen-by-the-client"})
    assert NEW_ID.fullmatch(response.headers["X-Request-ID"])
    assert request_lines(log_lines())[-1]["request_id"] == response.headers["X-Request-ID"]


@pytest.mark.parametrize(
    "value", ["", "a" * 129, "two words", 'quote"d', "semi;colon", "<script>", "caf\u00e9"]
)
def test_a_malformed_request_id_is_replaced_even_from_a_trusted_proxy(build_app, value):
    client = build_app(JsonLogsBehindProxy).test_client()
    response = client.get("/explore", headers={"X-Request-ID": value})
    assert NEW_ID.fullmatch(response.headers["X-Request-ID"])


def test_each_request_gets_its_own_id(client):
    ids = {client.get("/explore").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


def test_healthy_probes_are_not_logged_but_failing_ones_are(build_app, log_lines):
    client = build_app().test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert request_lines(log_lines()) == []
    database_down = type("DatabaseDown", (JsonLogs,), {"SQLALCHEMY_DATABASE_URI": UNREACHABLE})
    app = create_app(database_down)
    response = app.test_client().get("/readyz")
    with app.app_context():
        db.engine.dispose()
    warning, request = log_lines()
    assert warning["level"] == "WARNING"
    assert "database does not answer" in warning["message"]
    assert warning["request_id"] == request["request_id"] == response.headers["X-Request-ID"]
    assert (request["path"], request["status"]) == ("/readyz", 503)


@pytest.mark.parametrize(
    "route", ["/auth/reset_password", "/auth/confirm", "/auth/confirm_email_change"]
)
def test_a_token_in_a_path_stays_out_of_the_log(build_app, log_lines, route):
    client = build_app().test_client()
    client.get(f"{route}/secret-token-value")
    line = request_lines(log_lines())[-1]
    assert line["path"] == f"{route}/<token>"
    assert "secret-token-value" not in json.dumps(log_lines())


def test_text_logs_write_no_request_lines(client, log_lines):
    client.get("/explore")
    assert log_lines() == []


def test_a_request_refused_before_its_view_is_logged_too(build_app, log_lines):
    # CSRFProtect refuses in a before_request function of its own: the clock must be running.
    client = build_app(type("Csrf", (JsonLogs,), {"WTF_CSRF_ENABLED": True})).test_client()
    response = client.post("/auth/login", data={"username": "ann", "password": PASSWORD})
    assert response.status_code == 400
    line = request_lines(log_lines())[-1]
    assert (line["status"], line["request_id"]) == (400, response.headers["X-Request-ID"])
    assert line["duration_ms"] >= 0


def test_the_configs_own_warnings_come_out_as_json(log_lines):
    settings = {
        "SECRET_KEY": "k" * 48,
        "LOG_FORMAT": "json",
        "APP_BASE_URL": "",
        "SERVER_NAME": None,
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",  # one warning, not two
    }
    production = type("Production", (ProductionConfig,), settings)
    app = create_app(production)
    with app.app_context():
        db.engine.dispose()
    (warning,) = log_lines()
    assert warning["level"] == "WARNING"
    assert "APP_BASE_URL" in warning["message"]
    assert warning["request_id"] is None
