"""``flask seed``: realistic demo data, inserted in bulk (a million posts in about a minute)."""

import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from itertools import accumulate

import click
import sqlalchemy as sa
from faker import Faker
from flask.cli import with_appcontext
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import (
    POST_MAX_LENGTH,
    USERNAME_MAX_LENGTH,
    Follow,
    Notification,
    NotificationKind,
    Post,
    PostTag,
    Tag,
    User,
    recount,
    username_skeleton,
    utcnow,
)

HISTORY = timedelta(days=365)
# Faker takes 50-250 microseconds a call: a minute per million posts, several seconds for
# 20,000 usernames. Texts are made from pools of its output instead, picked at random.
SENTENCE_POOL_SIZE = 5_000
# Some write much more than others, as on real sites: the n-th busiest author writes about
# n ** -AUTHOR_SKEW times as much as the busiest. With 20,000 users the busiest writes 3% of
# the posts, the median author 40% of the mean.
AUTHOR_SKEW = 0.8
# One post in ten answers an earlier one, most often a recent one, as conversations go; the
# author answered is told, as a reply notifies.
REPLY_SHARE = 0.1
# One post in five carries a hashtag, from a few hundred, some far more used than others (the
# n-th most used about n ** -TAG_SKEW times as often as the first).
TAG_SHARE = 0.2
TAG_POOL_SIZE = 300
TAG_SKEW = 1.0
USERNAME_POOL_SIZE = 2_000
USERNAME_SUFFIXES = 10_000  # names are a pool name plus a number below this
# SQLite's page cache while seeding, in KiB (its default is 2 MiB): a follow index filled in
# random order otherwise spills to disk on every few rows.
SQLITE_SEED_CACHE_KIB = 512 * 1024


@click.command("seed")
@click.option("--users", default=20, show_default=True, type=click.IntRange(min=0))
@click.option("--posts", default=200, show_default=True, type=click.IntRange(min=0))
@click.option(
    "--follows", default=5, show_default=True, type=click.IntRange(min=0), help="Per new user."
)
@click.option("--password", default="microblog", show_default=True, help="For every new user.")
@click.option("--random-seed", type=int, help="Make the data the same on every run.")
@with_appcontext
def seed_command(
    users: int, posts: int, follows: int, password: str, random_seed: int | None
) -> None:
    """Add demo users and posts (each user can log in with --password).

    Posts are spread over the last year, after any post already there, and inserted oldest
    first, so their ids follow time as they do on a live site. One in ten answers an earlier
    post of the same run, and notifies its author; one in five carries a hashtag.
    """
    started = time.perf_counter()
    fake = Faker()
    rng = random.Random(random_seed)
    if random_seed is not None:
        fake.seed_instance(random_seed)
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_SEED_CACHE_KIB}")
    elif connection.dialect.name == "postgresql":
        # Copying a million rows is one statement: past the app's timeout for a request's.
        connection.exec_driver_sql("SET LOCAL statement_timeout = 0")

    now = utcnow()
    sentences = sentence_pool(fake, rng, min(SENTENCE_POOL_SIZE, users + posts))
    password_hash = generate_password_hash(password)  # one hash for all: scrypt is slow
    # Bulk inserts bypass the model, so the look-alike key is computed here.
    taken = {username_skeleton(name) for name in db.session.scalars(sa.select(User.username))}
    insert_rows(
        User,
        (
            "username",
            "username_skeleton",
            "email",
            "password_hash",
            "about_me",
            "member_since",
            "email_confirmed_at",
            "last_seen",
        ),
        new_users(fake, rng, users, taken, sentences, password_hash, now),
    )

    author_ids = db.session.scalars(sa.select(User.id).order_by(User.id)).all()
    if posts and not author_ids:
        raise click.UsageError("There are no users to write the posts: add --users.")
    newest = db.session.scalar(sa.select(sa.func.max(Post.created_at)))
    since = max(now - HISTORY, newest) if newest else now - HISTORY
    first_id = next_post_id()  # a reply names the post it answers before either exists
    authors = post_authors(rng, posts, author_ids)
    replies: list[tuple[int, int]] = []  # (reply, answered), as offsets from first_id
    tag_picks = skewed_picks(rng, [word.lower() for word in fake.words(TAG_POOL_SIZE)], posts)
    tagged: list[tuple[int, str]] = []  # (post, tag), the post as an offset from first_id
    insert_rows(
        Post,
        ("body", "author_id", "created_at", "reply_to_id"),
        new_posts(rng, sentences, authors, since, now, first_id, replies, tag_picks, tagged),
    )
    tag_ids = tag_ids_for({tag for _, tag in tagged})
    insert_rows(PostTag, ("tag_id", "post_id"), ((tag_ids[tag], first_id + n) for n, tag in tagged))
    insert_rows(
        Notification,
        ("user_id", "actor_id", "post_id", "kind", "created_at"),
        (
            (authors[answered], authors[reply], first_id + reply, NotificationKind.REPLY, now)
            for reply, answered in replies
            if authors[answered] != authors[reply]
        ),
    )

    new_user_ids = author_ids[len(author_ids) - users :]  # inserted last: the highest ids
    added_follows = insert_rows(
        Follow,
        ("follower_id", "followed_id"),
        new_follows(rng, new_user_ids, author_ids, follows),
        same={"created_at": now},
    )
    recount()  # bulk inserts bypass the counters
    db.session.commit()
    elapsed = time.perf_counter() - started
    click.echo(
        f"Added {users} users (password: {password}), {posts} posts and "
        f"{added_follows} follows in {elapsed:.1f} s."
    )


def sentence_pool(fake: Faker, rng: random.Random, size: int) -> list[str]:
    return [fake.sentence(nb_words=rng.randint(3, 16)) for _ in range(max(size, 1))]


def new_users(
    fake: Faker,
    rng: random.Random,
    count: int,
    taken: set[str],
    sentences: list[str],
    password_hash: str,
    now: datetime,
) -> Iterator[tuple]:
    names = [fake.user_name() for _ in range(min(count, USERNAME_POOL_SIZE))]
    made = 0
    while made < count:
        suffix = str(rng.randrange(USERNAME_SUFFIXES))
        username = rng.choice(names)[: USERNAME_MAX_LENGTH - len(suffix)] + suffix
        skeleton = username_skeleton(username)
        if skeleton in taken:
            continue
        taken.add(skeleton)
        made += 1
        joined = now - rng.random() * HISTORY
        last_seen = joined + rng.random() * (now - joined)
        about_me = " ".join(rng.choices(sentences, k=2))[:POST_MAX_LENGTH]
        # Confirmed since they joined: demo users can post and follow at once.
        email = f"{username.lower()}@example.com"
        yield username, skeleton, email, password_hash, about_me, joined, joined, last_seen


def next_post_id() -> int:
    """The id the next post inserted gets, while nobody else writes posts: PostgreSQL's
    sequence may be past the newest post (rolled back or deleted posts used ids up)."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        sequence = connection.exec_driver_sql("SELECT pg_get_serial_sequence('post', 'id')")
        last, called = connection.exec_driver_sql(
            f"SELECT last_value, is_called FROM {sequence.scalar_one()}"
        ).one()
        return last + 1 if called else last
    return (db.session.scalar(sa.select(sa.func.max(Post.id))) or 0) + 1


def skewed_picks(rng: random.Random, words: list[str], count: int) -> list[str]:
    """``count`` picks of ``words``, some far more often than others (TAG_SKEW)."""
    words = list(dict.fromkeys(words))  # Faker repeats itself
    weights = accumulate(rank**-TAG_SKEW for rank in range(1, len(words) + 1))
    return rng.choices(words, cum_weights=list(weights), k=count)


def tag_ids_for(keys: set[str]) -> dict[str, int]:
    """The id of each tag, made (uncounted: recount() counts) where it is new."""
    existing = dict(db.session.execute(sa.select(Tag.key, Tag.id).where(Tag.key.in_(keys))).all())
    db.session.add_all(Tag(name=key, key=key) for key in keys - existing.keys())
    db.session.flush()
    return dict(db.session.execute(sa.select(Tag.key, Tag.id).where(Tag.key.in_(keys))).all())


def post_authors(rng: random.Random, count: int, author_ids: list[int]) -> list[int]:
    """The author of each of ``count`` posts, some much busier than others (AUTHOR_SKEW)."""
    ranks = list(range(1, len(author_ids) + 1))
    rng.shuffle(ranks)  # how busy each author is, unrelated to when they joined
    weights = accumulate(rank**-AUTHOR_SKEW for rank in ranks)
    return rng.choices(author_ids, cum_weights=list(weights), k=count)


def new_posts(
    rng: random.Random,
    sentences: list[str],
    authors: list[int],
    since: datetime,
    until: datetime,
    first_id: int,
    replies: list[tuple[int, int]],
    tag_picks: list[str],
    tagged: list[tuple[int, str]],
) -> Iterator[tuple]:
    """A post by each of ``authors``, oldest first, one in each equal slice of ``since`` to
    ``until``; each reply is added to ``replies`` as it is made, and each post that ends with
    a hashtag (its pick from ``tag_picks``) to ``tagged``."""
    step = (until - since) / max(len(authors), 1)
    for n, author_id in enumerate(authors):
        body = " ".join(rng.choices(sentences, k=rng.randint(1, 4)))
        if rng.random() < TAG_SHARE:
            tag = tag_picks[n]
            body = f"{body[: POST_MAX_LENGTH - len(tag) - 2]} #{tag}"
            tagged.append((n, tag))
        body = body[:POST_MAX_LENGTH]
        reply_to_id = None
        if n and rng.random() < REPLY_SHARE:
            answered = max(0, n - 1 - int(rng.expovariate(1 / 1000)))  # mostly recent posts
            replies.append((n, answered))
            reply_to_id = first_id + answered
        yield body, author_id, since + step * (n + rng.random()), reply_to_id


def new_follows(
    rng: random.Random, follower_ids: list[int], user_ids: list[int], per_user: int
) -> Iterator[tuple]:
    for follower_id in follower_ids:
        # One spare pick, in case the sample holds the follower themself.
        picks = rng.sample(user_ids, min(per_user + 1, len(user_ids)))
        followed = sorted(user_id for user_id in picks if user_id != follower_id)[:per_user]
        for followed_id in followed:  # in key order: the primary key's index grows at its end
            yield follower_id, followed_id


def insert_rows(
    model: type[db.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence],
    same: dict[str, object] | None = None,
) -> int:
    """Insert ``rows`` (values in the order of ``columns``) in bulk; return how many.

    ``rows`` must not use the database: on PostgreSQL the connection is busy copying.

    Straight through the driver, several times faster than SQLAlchemy's executemany at a
    million rows: PostgreSQL's COPY, SQLite's executemany. Values go through each column's
    type as SQLAlchemy would send them; ``same`` gives columns one value for every row, and
    the columns left out get their Python-side defaults (server defaults apply by themselves).
    """
    table = model.__table__
    same = same or {}
    defaults = [
        column
        for column in table.columns
        if column.name not in columns and column.name not in same and column.default is not None
    ]
    for column in defaults:
        if not (column.default.is_scalar or column.default.is_callable):
            raise TypeError(f"{table.name}.{column.name}: unsupported default {column.default}")
    connection = db.session.connection()
    dialect = connection.dialect

    def processor(name: str) -> Callable[[object], object] | None:
        # The dialect's own type: SQLite's DATETIME writes its own text format, for one.
        return table.c[name].type.dialect_impl(dialect).bind_processor(dialect)

    def processed(name: str, value: object) -> object:
        process = processor(name)
        return value if process is None else process(value)

    names = [*columns, *(column.name for column in defaults), *same]
    fixed = tuple(processed(name, value) for name, value in same.items())
    varying = [*columns, *(column.name for column in defaults)]
    converted = [
        (index, process) for index, name in enumerate(varying) if (process := processor(name))
    ]
    count = 0

    def prepared() -> Iterator[Sequence]:
        nonlocal count
        for row in rows:
            count += 1
            if defaults:
                row = (*row, *(default_value(column) for column in defaults))
            if converted:
                row = list(row)
                for index, process in converted:
                    row[index] = process(row[index])
            yield (*row, *fixed)

    quote = dialect.identifier_preparer.quote
    table_name = dialect.identifier_preparer.format_table(table)
    column_list = ", ".join(quote(name) for name in names)
    cursor = connection.connection.cursor()
    try:
        if dialect.name == "postgresql":
            with (
                foreign_keys_checked_at_end(connection, table_name),
                cursor.copy(f"COPY {table_name} ({column_list}) FROM STDIN") as copy,
            ):
                for row in prepared():
                    copy.write_row(row)
        else:  # SQLite, whose driver takes qmark parameters
            placeholders = ", ".join("?" for _ in names)
            insert = f"INSERT INTO {table_name} ({column_list}) VALUES ({placeholders})"
            cursor.executemany(insert, prepared())
    finally:
        cursor.close()
    return count


@contextmanager
def foreign_keys_checked_at_end(connection: sa.Connection, table_name: str) -> Iterator[None]:
    """On PostgreSQL, the table's foreign keys dropped, then added back (so checked) at the end.

    Checking every copied row costs four fifths of the copy's time; adding a constraint back
    checks all rows in one join. Both happen in the seed's transaction: a failure leaves the
    constraints as they were.
    """
    constraints = connection.execute(
        sa.text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = to_regclass(:table) AND contype = 'f'"
        ),
        {"table": table_name},
    ).all()
    quote = connection.dialect.identifier_preparer.quote
    for name, _ in constraints:
        connection.exec_driver_sql(f"ALTER TABLE {table_name} DROP CONSTRAINT {quote(name)}")
    yield
    for name, definition in constraints:
        connection.exec_driver_sql(
            f"ALTER TABLE {table_name} ADD CONSTRAINT {quote(name)} {definition}"
        )


def default_value(column: sa.Column) -> object:
    default = column.default
    return default.arg(None) if default.is_callable else default.arg
