import pytest
from flask import Flask

from app import create_app
from app.extensions import db
from config import (
    DevelopmentConfig,
    ProductionConfig,
    TestingConfig,
    _instance_secret_key,
    database_url,
    engine_options,
    env_int,
)


class GoodProduction(ProductionConfig):
    SECRET_KEY = "k" * 48


@pytest.mark.parametrize("key", ["", "dev", "x" * 31])
def test_production_refuses_a_missing_or_short_secret_key(key):
    class Config(GoodProduction):
        SECRET_KEY = key

    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        create_app(Config)


def test_production_refuses_debug():
    class Config(GoodProduction):
        DEBUG = True

    with pytest.raises(RuntimeError, match="DEBUG must be off"):
        create_app(Config)


def test_production_starts_with_a_good_key_and_secure_cookies():
    app = create_app(GoodProduction)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]


def test_config_can_be_chosen_by_name(monkeypatch):
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "k" * 48)
    assert create_app("production").config["SESSION_COOKIE_SECURE"]
    assert create_app("testing").config["TESTING"]


def test_config_name_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("MICROBLOG_CONFIG", "testing")
    assert create_app().config["TESTING"]


def test_unknown_config_name_is_a_clear_error():
    with pytest.raises(RuntimeError, match="Unknown config 'staging'"):
        create_app("staging")


def test_development_keeps_a_generated_secret_key_across_restarts(tmp_path):
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    first = _instance_secret_key(app)
    assert len(first) >= 32
    assert _instance_secret_key(app) == first


def test_development_config_generates_a_key_when_none_is_set(tmp_path):
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.from_object(DevelopmentConfig)
    app.config["SECRET_KEY"] = ""
    DevelopmentConfig.init_app(app)
    assert len(app.config["SECRET_KEY"]) >= 32


def test_posts_per_page_must_be_positive():
    class Config(TestingConfig):
        POSTS_PER_PAGE = 0

    with pytest.raises(RuntimeError, match="POSTS_PER_PAGE must be at least 1"):
        create_app(Config)


def test_a_non_numeric_integer_setting_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("POSTS_PER_PAGE", "ten")
    with pytest.raises(RuntimeError, match="POSTS_PER_PAGE must be a whole number"):
        env_int("POSTS_PER_PAGE", 10)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/blog", "postgresql+psycopg://u:p@db:5432/blog"),
        (
            "postgresql://u@db/blog?sslmode=require",
            "postgresql+psycopg://u@db/blog?sslmode=require",
        ),
        ("postgresql+psycopg://u@db/blog", "postgresql+psycopg://u@db/blog"),
        ("sqlite:///microblog.db", "sqlite:///microblog.db"),
    ],
)
def test_postgresql_urls_are_pointed_at_psycopg_3(given, expected):
    assert database_url(given) == expected


def test_postgresql_engine_options_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_POOL_SIZE", "12")
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_MS", "2500")
    options = engine_options("postgresql+psycopg://u@db/blog")
    assert options["pool_pre_ping"] is True
    assert options["pool_size"] == 12
    assert options["connect_args"]["options"] == "-c statement_timeout=2500"


def test_sqlite_gets_pre_ping_and_no_pool_sizes():
    assert engine_options("sqlite://") == {"pool_pre_ping": True}


def test_a_postgres_url_reaches_the_engine_as_psycopg():
    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = "postgres://nobody@127.0.0.1:1/none"

    app = create_app(Config)
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    with app.app_context():
        assert db.engine.dialect.driver == "psycopg"
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True


def test_production_warns_when_rate_limits_are_counted_per_process(caplog):
    create_app(GoodProduction)
    assert "rate limits are counted per process" in caplog.text

    class SharedLimits(GoodProduction):
        RATELIMIT_STORAGE_URI = "redis://127.0.0.1:6379/0"

    caplog.clear()
    create_app(SharedLimits)
    assert "rate limits are counted per process" not in caplog.text


def test_a_sqlite_file_is_opened_for_concurrent_readers_and_safe_writes(tmp_path):
    class FileConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'app.db'}"
        SQLALCHEMY_ENGINE_OPTIONS = None  # not the PostgreSQL schema's, in a PostgreSQL run

    app = create_app(FileConfig)
    with app.app_context():
        with db.engine.connect() as connection:

            def pragma(name: str):
                return connection.exec_driver_sql(f"PRAGMA {name}").scalar()

            settings = [pragma(name) for name in ("journal_mode", "synchronous", "foreign_keys")]
            assert settings == ["wal", 1, 1]  # synchronous 1 is NORMAL
            assert pragma("busy_timeout") == 5000  # pysqlite's default timeout, 5 s
        db.engine.dispose()
