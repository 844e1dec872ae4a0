"""``flask seed``: realistic demo data, inserted in bulk."""

import random
import time
from datetime import timedelta

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
    Post,
    User,
    username_skeleton,
    utcnow,
)

BATCH_SIZE = 10_000
HISTORY = timedelta(days=365)


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
    """Add demo users and posts (each user can log in with --password)."""
    started = time.perf_counter()
    fake = Faker()
    rng = random.Random(random_seed)
    if random_seed is not None:
        fake.seed_instance(random_seed)

    now = utcnow()
    # Bulk inserts bypass the model, so the look-alike key is computed here.
    taken = {username_skeleton(name) for name in db.session.scalars(sa.select(User.username))}
    password_hash = generate_password_hash(password)  # one hash: scrypt is slow by design
    user_rows = []
    while len(user_rows) < users:
        suffix = str(rng.randrange(1000))
        username = fake.user_name()[: USERNAME_MAX_LENGTH - len(suffix)] + suffix
        skeleton = username_skeleton(username)
        if skeleton in taken:
            continue
        taken.add(skeleton)
        joined = now - rng.random() * HISTORY
        user_rows.append(
            {
                "username": username,
                "username_skeleton": skeleton,
                "email": f"{username.lower()}@example.com",
                "password_hash": password_hash,
                "about_me": fake.sentence(nb_words=12),
                "member_since": joined,
                "email_confirmed_at": joined,  # demo users can post and follow at once
                "last_seen": joined + rng.random() * (now - joined),
            }
        )
    insert_in_batches(User, user_rows)

    author_ids = db.session.scalars(sa.select(User.id).order_by(User.id)).all()
    if posts and not author_ids:
        raise click.UsageError("There are no users to write the posts: add --users.")
    post_rows = (
        {
            "body": fake.paragraph(nb_sentences=rng.randint(1, 4))[:POST_MAX_LENGTH],
            "author_id": rng.choice(author_ids),
            "created_at": now - rng.random() * HISTORY,
        }
        for _ in range(posts)
    )
    insert_in_batches(Post, post_rows)

    new_user_ids = author_ids[len(author_ids) - users :]  # inserted last: the highest ids
    follow_rows = []
    for follower_id in new_user_ids:
        # One spare pick, in case the sample holds the follower themself.
        picks = rng.sample(author_ids, min(follows + 1, len(author_ids)))
        followed = [user_id for user_id in picks if user_id != follower_id][:follows]
        follow_rows += [{"follower_id": follower_id, "followed_id": f} for f in followed]
    insert_in_batches(Follow, follow_rows)
    User.recount()  # bulk inserts bypass the counters
    db.session.commit()
    elapsed = time.perf_counter() - started
    click.echo(
        f"Added {users} users (password: {password}), {posts} posts and "
        f"{len(follow_rows)} follows in {elapsed:.1f} s."
    )


def insert_in_batches(model: type[db.Model], rows) -> None:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH_SIZE:
            db.session.execute(sa.insert(model), batch)
            batch = []
    if batch:
        db.session.execute(sa.insert(model), batch)
