"""The benchmark's datasets, made once by ``flask seed`` and reused: the issue's data shape.

20,000 users, each following 100 others, and 100,000 or 1,000,000 posts: a SQLite file in
``.bench/`` per size, and with ``BENCH_DATABASE_URL`` a PostgreSQL database per size on that
server (``bench_100k``, ``bench_1m``). The schema comes from the migrations, and a dataset
that exists is upgraded to the current head before it is measured.
"""

import argparse
import os
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from app.models import Post, User
from config import BASE_DIR, TestingConfig, database_url

BENCH_DIR = BASE_DIR / ".bench"
MIGRATIONS = BASE_DIR / "migrations"
USERS = 20_000
FOLLOWS = 100
RANDOM_SEED = 1
SIZES = {"100k": 100_000, "1m": 1_000_000}
# The floors are pages of 25 posts: the app's pages are measured at that size too (its
# own default is 10), so page and floor show the same posts.
POSTS_PER_PAGE = 25
DATABASES = ("sqlite", "postgresql")
DATABASE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass
class Dataset:
    database: str  # "sqlite" or "postgresql"
    size: str  # a key of SIZES
    url: str
    # What preparing it took, in seconds (what did not happen is absent).
    timings: dict[str, float] = field(default_factory=dict)
    revisions: tuple[str | None, str | None] = (None, None)

    @property
    def posts(self) -> int:
        return SIZES[self.size]

    @property
    def label(self) -> str:
        return f"{DATABASE_NAMES[self.database]}, {self.size.upper()} posts"


def add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    """The options both benchmarks take to choose their datasets (see ``chosen_datasets``)."""
    parser.add_argument("--sizes", nargs="+", choices=SIZES, help="default: all (quick: 100k)")
    parser.add_argument(
        "--databases",
        nargs="+",
        choices=DATABASES,
        help="default: sqlite, and postgresql when BENCH_DATABASE_URL is set",
    )


def chosen_datasets(options: argparse.Namespace) -> tuple[list[str], list[str]]:
    """The sizes and databases the options ask for, or their defaults."""
    sizes = options.sizes or (["100k"] if options.quick else list(SIZES))
    databases = options.databases or (
        ["sqlite", "postgresql"] if postgresql_server_url() else ["sqlite"]
    )
    return sizes, databases


def postgresql_server_url() -> str | None:
    url = os.environ.get("BENCH_DATABASE_URL", "").strip()
    return database_url(url) if url else None


def dataset(database: str, size: str) -> Dataset:
    if database == "sqlite":
        return Dataset(database, size, f"sqlite:///{BENCH_DIR / f'sqlite-{size}.db'}")
    server = postgresql_server_url()
    if server is None:
        raise SystemExit("PostgreSQL needs BENCH_DATABASE_URL (a server the benchmark may use).")
    url = sa.make_url(server).set(database=f"bench_{size}")
    return Dataset(database, size, url.render_as_string(hide_password=False))


def bench_config(url: str) -> type[TestingConfig]:
    """The app as production runs it, as far as a process without a network goes.

    From TestingConfig for its fixed secret key and plain-text logs (production's one JSON
    line per request is measured by ``make bench-http``, under gunicorn); not TESTING, CSRF
    on, and rate limits counted in memory, as production does in one process; pages of
    ``POSTS_PER_PAGE`` posts. The engine
    options (pool, statement timeout) are production's, built from the URL.
    """

    class BenchConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url
        SQLALCHEMY_ENGINE_OPTIONS = None
        TESTING = False
        WTF_CSRF_ENABLED = True
        RATELIMIT_ENABLED = True
        RATELIMIT_STORAGE_URI = "memory://"
        # One reader asks the same search hundreds of times a minute here.
        SEARCH_RATE_LIMIT = "1000000 per minute"
        POSTS_PER_PAGE = POSTS_PER_PAGE

    return BenchConfig


def create_database(dataset: Dataset) -> None:
    if dataset.database == "sqlite":
        BENCH_DIR.mkdir(exist_ok=True)
        return
    name = sa.make_url(dataset.url).database
    engine = sa.create_engine(postgresql_server_url(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            exists = connection.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        engine.dispose()


def current_revision(app: Flask) -> str | None:
    with app.app_context(), db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def prepare(dataset: Dataset) -> Flask:
    """The dataset's app, its database at the migrations' head, seeded and analysed."""
    create_database(dataset)
    app = create_app(bench_config(dataset.url))
    before = current_revision(app)
    started = time.perf_counter()
    try:
        with app.app_context():
            upgrade(directory=str(MIGRATIONS))
    except SystemExit as error:  # Flask-Migrate logs Alembic's error, then exits
        raise SystemExit(
            f"{dataset.label}: upgrading {sa.make_url(dataset.url).database} from {before} "
            "failed (see above). A revision this checkout does not know means another "
            "checkout, with newer migrations, upgraded this shared dataset: use that checkout, "
            "or remove the database to have it made again."
        ) from error
    dataset.timings["upgrade"] = elapsed = time.perf_counter() - started
    dataset.revisions = (before, current_revision(app))
    if before == dataset.revisions[1]:
        print(f"  schema at head ({before}): upgrade had nothing to do ({elapsed:.2f} s)")
    else:
        print(f"  schema upgraded from {before} to {dataset.revisions[1]} in {elapsed:.1f} s")
    with app.app_context():
        users = db.session.scalar(sa.select(sa.func.count()).select_from(User))
        posts = db.session.scalar(sa.select(sa.func.count()).select_from(Post))
        db.session.rollback()
    if (users, posts) != (0, 0) and (users, posts) != (USERS, dataset.posts):
        raise SystemExit(
            f"{dataset.label}: the database holds {users:,} users and {posts:,} posts, not "
            f"{USERS:,} and {dataset.posts:,}. Remove it to have it made again: "
            + (
                f"rm {sa.make_url(dataset.url).database}"
                if dataset.database == "sqlite"
                else f"dropdb {sa.make_url(dataset.url).database}"
            )
        )
    seeded = posts == 0
    if seeded:
        print("  seeding with flask seed ...", flush=True)
        started = time.perf_counter()
        args = ["seed", "--users", USERS, "--posts", dataset.posts, "--follows", FOLLOWS]
        args += ["--random-seed", RANDOM_SEED]
        result = app.test_cli_runner().invoke(args=[str(arg) for arg in args])
        if result.exit_code != 0:
            raise SystemExit(f"flask seed failed:\n{result.output}") from result.exception
        dataset.timings["seed"] = time.perf_counter() - started
        print(f"  {result.output.strip()} (flask seed: {dataset.timings['seed']:.1f} s)")
    if seeded or dataset.revisions[0] != dataset.revisions[1]:
        # Fresh statistics for the planner: new rows, or an upgrade that added indexes or
        # rewrote tables. On PostgreSQL VACUUM also sets the visibility map, without which
        # index-only scans visit the table anyway.
        started = time.perf_counter()
        analyse(app)
        dataset.timings["analyse"] = time.perf_counter() - started
        print(f"  analysed in {dataset.timings['analyse']:.1f} s", flush=True)
    return app


def analyse(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "postgresql":
            autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
            with autocommit.connect() as connection:
                connection.exec_driver_sql("SET statement_timeout = 0")
                connection.exec_driver_sql("VACUUM ANALYZE")
                connection.exec_driver_sql("RESET statement_timeout")
        else:
            with engine.connect() as connection:
                connection.exec_driver_sql("ANALYZE")
                connection.commit()
