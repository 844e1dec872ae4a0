"""How long feed pages take as the site grows: prints figures, asserts nothing.

    .venv/bin/python -m benchmarks.feed_pages [--posts 10000 200000] [--users 2000]

Each size gets a fresh SQLite file filled by `flask seed`; every page is requested through the
WSGI app (no network) several times and the median time and SQL statement count are printed.
"""

import argparse
import statistics
import tempfile
import time

import sqlalchemy as sa

from app import create_app
from app.extensions import db
from app.models import User, UserSession
from config import TestingConfig

REPEATS = 15


def measure(client, engine, path: str) -> tuple[float, int]:
    statements: list[str] = []

    def count(*args):
        statements.append(args[2])

    timings = []
    for _ in range(REPEATS):
        statements.clear()
        sa.event.listen(engine, "before_cursor_execute", count)
        started = time.perf_counter()
        response = client.get(path)
        timings.append(time.perf_counter() - started)
        sa.event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(timings) * 1000, len(statements)


def run(posts: int, users: int) -> None:
    with tempfile.TemporaryDirectory() as folder:

        class Config(TestingConfig):
            SQLALCHEMY_DATABASE_URI = f"sqlite:///{folder}/bench.db"
            RATELIMIT_ENABLED = False

        app = create_app(Config)
        with app.app_context():
            db.create_all()
        runner = app.test_cli_runner()
        args = ["seed", "--users", str(users), "--posts", str(posts), "--follows", "50"]
        result = runner.invoke(args=[*args, "--random-seed", "1"])
        assert result.exit_code == 0, result.output
        with app.app_context():
            reader = db.session.scalar(sa.select(User).order_by(User.id))
            reader_session = UserSession.start(
                reader, remembered=False, ip_address=None, device=None
            )
            db.session.commit()
            reader_key, reader_name = reader_session.key, reader.username
            last_page = max(1, -(-posts // app.config["POSTS_PER_PAGE"]))
            engine = db.engine
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = reader_key
            session["_fresh"] = True
        client.get("/")  # warm caches and templates
        print(f"\n{posts:,} posts, {users:,} users (reader follows 50):")
        print(f"  {'page':44} {'median ms':>10} {'statements':>11}")
        for label, path in [
            ("explore, page 1", "/explore"),
            ("explore, page 100", "/explore?page=100"),
            (f"explore, last page ({last_page:,})", f"/explore?page={last_page}"),
            ("home timeline, page 1", "/"),
            ("home timeline, page 20", "/?page=20"),
            ("profile, page 1", f"/user/{reader_name}"),
            ("following list", f"/user/{reader_name}/following"),
            ("hover card fragment", f"/user/{reader_name}/popup"),
        ]:
            milliseconds, statements = measure(client, engine, path)
            print(f"  {label:44} {milliseconds:10.1f} {statements:11d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, nargs="+", default=[10_000, 200_000])
    parser.add_argument("--users", type=int, default=2_000)
    options = parser.parse_args()
    for posts in options.posts:
        run(posts, options.users)


if __name__ == "__main__":
    main()
