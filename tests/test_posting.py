"""A post form makes one post, however often it arrives: resubmitted, retried or raced."""

import threading

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.forms import SubmissionKeyField
from app.models import SUBMISSION_KEY_LENGTH, Post, User, is_submission_key, new_submission_key
from config import TestingConfig
from tests.conftest import PASSWORD, file_database_uri
from tests.helpers import app_with_users, field_value, post_form, text_of


def stored_posts(app) -> list[tuple[int, str, str | None]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(Post.author_id, Post.body, Post.submission_key).order_by(Post.id)
        )
        return [tuple(row) for row in rows]


def posts_count(app, user_id: int) -> int:
    with app.app_context():
        return db.session.get(User, user_id).posts_count


def post_id_with_key(app, key: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Post.id).where(Post.submission_key == key))


def test_the_post_form_carries_a_fresh_key_each_time_it_is_shown(client, login):
    login()
    keys = [field_value(client.get("/"), "submission_key") for _ in range(3)]
    assert all(is_submission_key(key) for key in keys)
    assert len(set(keys)) == 3


def test_a_form_sent_twice_makes_one_post_and_lands_on_it(app, client, login):
    ann = login("ann")
    form = post_form("Hello once")
    first = client.post("/", data=form)
    assert first.location == "/"
    again = client.post("/", data=form, follow_redirects=True)
    post_id = post_id_with_key(app, form["submission_key"])
    assert again.request.path == f"/post/{post_id}"
    assert "You already posted this." in text_of(again)
    assert "Hello once" in text_of(again)
    assert stored_posts(app) == [(ann, "Hello once", form["submission_key"])]
    assert posts_count(app, ann) == 1


def test_a_retry_with_changed_text_says_the_change_was_not_posted(app, client, login):
    ann = login("ann")
    form = post_form("What I sent")
    client.post("/", data=form)
    retry = client.post("/", data=form | {"body": "What I sent, edited"}, follow_redirects=True)
    assert "Your changed text was not posted." in text_of(retry)
    assert "You already posted this." not in text_of(retry)
    assert [body for _, body, _ in stored_posts(app)] == ["What I sent"]
    assert posts_count(app, ann) == 1


def test_a_new_form_after_a_post_makes_a_new_post(app, client, login):
    login()
    client.post("/", data=post_form("same words"))
    client.post("/", data=post_form("same words"))  # the same text, posted on purpose twice
    assert len(stored_posts(app)) == 2


def test_keys_are_per_author(app, client, login, make_user):
    bob = make_user("bob")
    form = post_form("first with this key")
    with app.app_context():
        db.session.get(User, bob).publish("bob's post", submission_key=form["submission_key"])
        db.session.commit()
    ann = login("ann")
    response = client.post("/", data=form)
    assert response.location == "/"
    assert sorted(author for author, _, _ in stored_posts(app)) == sorted([ann, bob])


def test_a_submission_racing_in_between_lookup_and_insert_is_caught_by_the_index(
    app, client, login
):
    """The worst timing, made certain: another request with the same form commits its post
    after this one looked for it and before this one inserts."""
    ann = login("ann")
    form = post_form("raced")
    with app.app_context():
        engine = db.engine

    raced: list[bool] = []

    def commit_the_other_request_first(session, flush_context, instances) -> None:
        if raced:
            return
        raced.append(True)
        with engine.begin() as other:
            key = form["submission_key"]
            other.execute(sa.insert(Post).values(body="raced", author_id=ann, submission_key=key))
            other.execute(
                sa.update(User).where(User.id == ann).values(posts_count=User.posts_count + 1)
            )

    sa.event.listen(db.session, "before_flush", commit_the_other_request_first)
    try:
        response = client.post("/", data=form, follow_redirects=True)
    finally:
        sa.event.remove(db.session, "before_flush", commit_the_other_request_first)
    assert raced
    post_id = post_id_with_key(app, form["submission_key"])
    assert response.request.path == f"/post/{post_id}"
    assert "You already posted this." in text_of(response)
    assert len(stored_posts(app)) == 1
    assert posts_count(app, ann) == 1  # this request's increment was rolled back with its row


def test_concurrent_submissions_of_one_form_make_one_post(tmp_path):
    class FileConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = file_database_uri(tmp_path)
        POST_RATE_LIMIT = "1000 per minute"

    app = app_with_users(FileConfig, "ann")
    clients = [app.test_client() for _ in range(4)]
    for client in clients:
        client.post("/auth/login", data={"username": "ann", "password": PASSWORD})
    forms = [post_form(f"post {n}") for n in range(5)]
    statuses: list[tuple[int, str]] = []

    def send(client, barrier: threading.Barrier, form: dict[str, str]) -> None:
        barrier.wait()
        response = client.post("/", data=form)
        statuses.append((response.status_code, response.location))

    try:
        for form in forms:
            barrier = threading.Barrier(len(clients))
            threads = [
                threading.Thread(target=send, args=(client, barrier, form)) for client in clients
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert [body for _, body, _ in stored_posts(app)] == [f"post {n}" for n in range(5)]
        assert [location for _, location in statuses].count("/") == len(forms)
        assert all(status == 302 for status, _ in statuses)
        with app.app_context():
            assert db.session.scalar(sa.select(User.posts_count)) == len(forms)
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize(
    "key",
    [
        None,  # not sent at all
        "",
        "short",
        "a" * (SUBMISSION_KEY_LENGTH - 1),
        "a" * (SUBMISSION_KEY_LENGTH + 1),
        "a" * 10_000,
        "a" * (SUBMISSION_KEY_LENGTH - 1) + "\x00",
        "a" * (SUBMISSION_KEY_LENGTH - 1) + "+",  # base64, but not the URL-safe kind
        "a" * (SUBMISSION_KEY_LENGTH - 1) + "é",
        " " + "a" * (SUBMISSION_KEY_LENGTH - 1),
        "a" * (SUBMISSION_KEY_LENGTH - 1) + "\n",
        [new_submission_key(), new_submission_key()],  # two values for one field
    ],
)
def test_a_missing_or_malformed_key_is_a_form_error_and_the_page_can_post_again(
    app, client, login, key
):
    login()
    data = {"body": "Keep my words"}
    if key is not None:
        data["submission_key"] = key
    response = client.post("/", data=data)
    assert response.status_code == 200
    assert SubmissionKeyField.EXPIRED in text_of(response)
    assert stored_posts(app) == []
    assert field_value(response, "body") == "Keep my words"
    fresh_key = field_value(response, "submission_key")
    assert is_submission_key(fresh_key)
    assert (
        client.post("/", data={"body": "Keep my words", "submission_key": fresh_key}).status_code
        == 302
    )
    assert len(stored_posts(app)) == 1


def test_a_json_body_is_refused_before_the_key_is_read(app, client, login):
    login()
    response = client.post("/", json={"body": "hello", "submission_key": 12345})
    assert response.status_code == 415
    assert stored_posts(app) == []


def test_a_form_error_in_the_text_keeps_the_key(client, login):
    login()
    form = post_form("x" * 281)
    response = client.post("/", data=form)
    assert "cannot be longer than 280 characters" in text_of(response)
    assert field_value(response, "submission_key") == form["submission_key"]


def test_editing_a_post_needs_no_key(app, client, login):
    login("ann")
    client.post("/", data=post_form("draft"))
    post_id = post_id_with_key(app, stored_posts(app)[0][2])
    assert field_value(client.get(f"/post/{post_id}/edit"), "submission_key") is None
    response = client.post(f"/post/{post_id}/edit", data={"body": "final"})
    assert response.location == f"/post/{post_id}"
    assert [body for _, body, _ in stored_posts(app)] == ["final"]


def test_sending_a_form_again_still_counts_against_the_post_limit(app, client, login):
    app.config["POST_RATE_LIMIT"] = "2 per minute"
    login()
    form = post_form("once")
    assert [client.post("/", data=form).status_code for _ in range(3)] == [302, 302, 429]
    assert len(stored_posts(app)) == 1
