"""Moderation: roles and their permissions, reports, the admin area, hidden posts,
suspensions and the audit log."""

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (
    ActionKind,
    Moderation,
    ModerationAction,
    NotAllowed,
    Post,
    PostTag,
    Report,
    Role,
    SiteCount,
    Tag,
    User,
    UserSession,
    recount,
)
from tests.conftest import PASSWORD
from tests.helpers import (
    picture_file,
    post_form,
    processed_picture,
    publish,
    signed_in_client,
    text_of,
)

ROLES = (Role.USER, Role.MODERATOR, Role.ADMIN)


def give_role(app, user_id: int, role: Role) -> None:
    with app.app_context():
        db.session.get(User, user_id).role = role
        db.session.commit()


def reason_of(app, post_id: int) -> tuple[bool, str | None]:
    with app.app_context():
        post = db.session.get(Post, post_id)
        return post.hidden, post.hidden_reason


def audit(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        actions = db.session.scalars(sa.select(ModerationAction).order_by(ModerationAction.id))
        return [(action.actor_name, action.kind.value, action.target_name) for action in actions]


def counts_are_exact(app) -> None:
    """Every stored count equals a recount: no drift."""
    with app.app_context():

        def snapshot():
            return (
                db.session.execute(sa.select(User.id, User.posts_count).order_by(User.id)).all(),
                db.session.execute(sa.select(Post.id, Post.replies_count).order_by(Post.id)).all(),
                db.session.execute(sa.select(Tag.id, Tag.posts_count).order_by(Tag.id)).all(),
                SiteCount.of(SiteCount.POSTS),
            )

        stored = snapshot()
        recount()
        assert snapshot() == stored
        db.session.rollback()


# The permission matrix -----------------------------------------------------------------

# What each role may do to an account of each role (and to itself): the rule that
# nobody acts on a higher role or on themself, and what each role's permissions allow.
ACTIONS = ("hide", "restore", "dismiss", "picture", "suspend", "unsuspend", "role")
ALLOWED = {
    Role.USER: set(),
    Role.MODERATOR: {"hide", "restore", "dismiss", "picture"},
    Role.ADMIN: set(ACTIONS),
}
TARGETS = ("user", "moderator", "admin", "self")


def expected(actor: Role, action: str, target: str) -> int:
    """The status an action answers with: 404 outside the admin area's audience, 403 when the
    role lacks the permission or the target is out of reach, else a redirect."""
    if actor == Role.USER:
        return 404
    if action not in ALLOWED[actor]:
        return 403
    if target == "self" or Role(target).rank > actor.rank:
        return 403
    return 302


def permission_matrix_rows() -> list[str]:
    """The matrix as the closing note shows it."""
    rows = []
    for actor in ROLES:
        for action in ACTIONS:
            cells = [str(expected(actor, action, target)) for target in TARGETS]
            rows.append(f"| {actor} | {action} | " + " | ".join(cells) + " |")
    return rows


@pytest.mark.parametrize("actor", ROLES, ids=str)
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("target", TARGETS)
def test_permission_matrix(app, make_user, actor, action, target):
    actor_id = make_user("actor")
    give_role(app, actor_id, actor)
    if target == "self":
        target_id = actor_id
    else:
        target_id = make_user("target")
        give_role(app, target_id, Role(target))
    reporter_id = make_user("reporter")
    post_id = publish(app, target_id, "A post to act on")
    with app.app_context():
        target_user = db.session.get(User, target_id)
        if action == "restore":
            Moderation(by=None).hide_post(db.session.get(Post, post_id), "spam")
        if action == "unsuspend":
            Moderation(by=None).suspend(target_user, "spam")
        if action == "picture":
            target_user.use_picture(processed_picture())
        Report.file(db.session.get(User, reporter_id), "spam", post=db.session.get(Post, post_id))
        db.session.commit()
        report_id = db.session.scalar(sa.select(Report.id))
        username = target_user.username
    client = signed_in_client(app, actor_id)
    url, data = {
        "hide": (f"/admin/posts/{post_id}/hide", {"reason": "spam"}),
        "restore": (f"/admin/posts/{post_id}/restore", {}),
        "dismiss": (f"/admin/reports/{report_id}/dismiss", {}),
        "suspend": (f"/admin/users/{username}/suspend", {"reason": "spam", "days": "3"}),
        "unsuspend": (f"/admin/users/{username}/unsuspend", {}),
        "picture": (f"/admin/users/{username}/remove-picture", {}),
        "role": (
            f"/admin/users/{username}/role",
            {"role": "user" if target == "moderator" else "moderator"},
        ),
    }[action]
    before = audit(app)
    response = client.post(url, data=data)
    want = expected(actor, action, target)
    assert response.status_code == want
    if want == 403:
        page = text_of(response)
        if action not in ALLOWED[actor]:
            assert f"Your role ({actor}) does not allow that." in page
        elif target == "self":
            assert "You cannot do that to your own account." in page
        else:
            assert f"target has a higher role ({target}) than yours." in page
    after = audit(app)
    if want == 302:
        assert len(after) == len(before) + 1  # every action leaves its record
    else:
        assert after == before  # and a refused one none, nor any change
    counts_are_exact(app)


@pytest.mark.parametrize("role", [None, Role.USER], ids=["visitor", "user"])
@pytest.mark.parametrize("path", ["/admin/", "/admin/reports", "/admin/users", "/admin/audit"])
def test_the_admin_area_is_a_404_for_anyone_but_moderators(app, client, make_user, role, path):
    if role is not None:
        client = signed_in_client(app, make_user("ann"))
    assert client.get(path).status_code == 404
    assert client.get("/").status_code == 200
    assert "/admin/" not in client.get("/explore").get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.ADMIN], ids=str)
def test_moderators_and_admins_see_every_admin_page(app, make_user, role):
    user_id = make_user("mod")
    give_role(app, user_id, role)
    client = signed_in_client(app, user_id)
    for path in ("/admin/", "/admin/reports", "/admin/users", "/admin/audit", "/admin/users/mod"):
        assert client.get(path).status_code == 200, path
    assert 'href="/admin/"' in client.get("/explore").get_data(as_text=True)


def test_an_admin_cannot_give_a_role_above_their_own_nor_a_moderator_any(app, make_user):
    admin_id, moderator_id, user_id = make_user("root"), make_user("mod"), make_user("ann")
    give_role(app, admin_id, Role.ADMIN)
    give_role(app, moderator_id, Role.MODERATOR)
    with app.app_context():
        moderator, ann = db.session.get(User, moderator_id), db.session.get(User, user_id)
        with pytest.raises(NotAllowed):
            Moderation(by=moderator).set_role(ann, Role.MODERATOR)
        admin = db.session.get(User, admin_id)
        assert Moderation(by=admin).set_role(ann, Role.ADMIN)
        assert not Moderation(by=admin).set_role(ann, Role.ADMIN)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": ""}, "Give a reason"),
        ({"reason": "x" * 281}, "280"),
        ({"reason": "bad\x00"}, "control characters"),
    ],
)
def test_a_hide_without_a_good_reason_is_refused_with_a_message(app, make_user, data, message):
    mod_id, ann_id = make_user("mod"), make_user("ann")
    give_role(app, mod_id, Role.MODERATOR)
    post_id = publish(app, ann_id, "Hello")
    client = signed_in_client(app, mod_id)
    response = client.post(f"/admin/posts/{post_id}/hide", data=data, follow_redirects=True)
    assert response.status_code == 200
    assert message in text_of(response)
    assert reason_of(app, post_id) == (False, None)
    assert audit(app) == []


@pytest.mark.parametrize("days", ["0", "-1", "3651", "many", "1e9", "99999999999999999999"])
def test_a_suspension_of_a_bad_period_is_refused_with_a_message(app, make_user, days):
    admin_id, ann_id = make_user("root"), make_user("ann")
    give_role(app, admin_id, Role.ADMIN)
    client = signed_in_client(app, admin_id)
    response = client.post(
        "/admin/users/ann/suspend", data={"reason": "spam", "days": days}, follow_redirects=True
    )
    assert response.status_code == 200
    assert "Days" in text_of(response)
    with app.app_context():
        assert not db.session.get(User, ann_id).is_suspended


def test_an_unknown_role_is_refused_with_a_message(app, make_user):
    admin_id = make_user("root")
    make_user("ann")
    give_role(app, admin_id, Role.ADMIN)
    client = signed_in_client(app, admin_id)
    response = client.post("/admin/users/ann/role", data={"role": "god"}, follow_redirects=True)
    assert "Not a valid choice" in text_of(response)
    assert audit(app) == []


# Reports -------------------------------------------------------------------------------


def report_form(reason: str = "spam", note: str = "") -> dict[str, str]:
    return {"reason": reason, "note": note}


def test_a_user_reports_a_post_once_while_the_report_is_open(app, make_user):
    ann_id, bob_id = make_user("ann"), make_user("bob")
    post_id = publish(app, bob_id, "Buy cheap watches")
    client = signed_in_client(app, ann_id)
    page = client.get(f"/post/{post_id}/report")
    assert page.status_code == 200 and "Buy cheap watches" in text_of(page)
    response = client.post(f"/post/{post_id}/report", data=report_form(note="third today"))
    assert response.status_code == 302
    again = client.post(f"/post/{post_id}/report", data=report_form("abuse"), follow_redirects=True)
    assert "reported this already" in text_of(again)
    with app.app_context():
        reports = db.session.scalars(sa.select(Report)).all()
        assert [(r.reporter_id, r.user_id, r.post_id, r.reason, r.note) for r in reports] == [
            (ann_id, bob_id, post_id, "spam", "third today")
        ]


def test_reports_of_a_post_and_of_its_author_are_two_targets(app, make_user):
    ann_id, bob_id = make_user("ann"), make_user("bob")
    post_id = publish(app, bob_id, "Spam")
    client = signed_in_client(app, ann_id)
    assert client.post(f"/post/{post_id}/report", data=report_form()).status_code == 302
    assert client.post("/user/bob/report", data=report_form("abuse")).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": ""}, "Choose a reason"),
        ({"reason": "boredom"}, "Not a valid choice"),
        ({"reason": "spam", "note": "x" * 501}, "500"),
        ({"reason": "spam", "note": "\x00"}, "control characters"),
    ],
)
def test_a_bad_report_is_refused_with_a_message(app, make_user, data, message):
    ann_id, bob_id = make_user("ann"), make_user("bob")
    post_id = publish(app, bob_id, "Hello")
    client = signed_in_client(app, ann_id)
    response = client.post(f"/post/{post_id}/report", data=data)
    assert response.status_code == 422
    assert message in text_of(response)
    response = client.post("/user/bob/report", data=data)
    assert response.status_code == 422
    assert message in text_of(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 0


def test_nobody_reports_themself_or_their_own_post(app, make_user):
    ann_id = make_user("ann")
    post_id = publish(app, ann_id, "Mine")
    client = signed_in_client(app, ann_id)
    assert client.post(f"/post/{post_id}/report", data=report_form()).status_code == 400
    assert client.post("/user/ann/report", data=report_form()).status_code == 400
    assert client.get("/user/ann/safety").status_code == 400


def test_reports_need_a_signed_in_user(app, client, make_user):
    bob_id = make_user("bob")
    post_id = publish(app, bob_id, "Hello")
    response = client.post(f"/post/{post_id}/report", data=report_form())
    assert response.status_code == 302 and "/auth/login" in response.location
    assert client.post("/user/bob/report", data=report_form()).status_code == 302


def test_reports_are_rate_limited(app, make_user):
    app.config["REPORT_RATE_LIMIT"] = "2 per hour"
    ann_id = make_user("ann")
    names = ["bob", "cyd", "dee"]
    for name in names:
        make_user(name)
    client = signed_in_client(app, ann_id)
    statuses = [
        client.post(f"/user/{name}/report", data=report_form()).status_code for name in names
    ]
    assert statuses == [302, 302, 429]


def test_the_queue_groups_reports_by_target_oldest_first_with_every_reporter(app, make_user):
    mod_id, bob_id = make_user("mod"), make_user("bob")
    give_role(app, mod_id, Role.MODERATOR)
    first = publish(app, bob_id, "First spam")
    second = publish(app, bob_id, "Second spam")
    for name, post_id in (("r1", second), ("r2", first), ("r3", second)):
        client = signed_in_client(app, make_user(name))
        client.post(f"/post/{post_id}/report", data=report_form(note=f"from {name}"))
    client = signed_in_client(app, mod_id)
    page = text_of(client.get("/admin/reports"))
    assert "2 entries with open reports" in page
    assert page.index("Second spam") < page.index("First spam")  # reported first
    assert "from r1" in page and "from r3" in page and "2 reports" in page


def test_dismissing_closes_every_open_report_on_the_target_and_is_audited(app, make_user):
    mod_id, bob_id = make_user("mod"), make_user("bob")
    give_role(app, mod_id, Role.MODERATOR)
    post_id = publish(app, bob_id, "Borderline")
    for name in ("r1", "r2"):
        signed_in_client(app, make_user(name)).post(f"/post/{post_id}/report", data=report_form())
    with app.app_context():
        report_id = db.session.scalar(sa.select(sa.func.min(Report.id)))
    client = signed_in_client(app, mod_id)
    response = client.post(f"/admin/reports/{report_id}/dismiss", follow_redirects=True)
    assert "Dismissed 2 reports." in text_of(response)
    assert "No open reports." in text_of(response)
    assert audit(app) == [("mod", "dismissed reports", "bob")]
    again = client.post(f"/admin/reports/{report_id}/dismiss", follow_redirects=True)
    assert "handled already" in text_of(again)
    assert reason_of(app, post_id) == (False, None)


@pytest.mark.parametrize("rows", [10, 50])
def test_admin_pages_read_a_bounded_number_of_statements(app, make_user, sql_log, rows):
    app.config["POSTS_PER_PAGE"] = 100
    admin_id = make_user("root")
    give_role(app, admin_id, Role.ADMIN)
    with app.app_context():
        admin = db.session.get(User, admin_id)
        for n in range(rows):
            author = User(username=f"spammer{n}", email=f"s{n}@example.com", password_hash="x")
            reporter = User(username=f"reporter{n}", email=f"r{n}@example.com", password_hash="x")
            db.session.add_all([author, reporter])
            db.session.flush()
            post = author.publish(f"Spam number {n}")
            db.session.flush()
            Report.file(reporter, "spam", post=post)
            Report.file(reporter, "abuse", user=author)
            if n % 2:
                Moderation(by=admin).hide_post(post, "spam")
        db.session.commit()
    client = signed_in_client(app, admin_id)
    counts = {}
    for path in (
        "/admin/",
        "/admin/reports",
        "/admin/users",
        "/admin/users?q=spam",
        "/admin/audit",
    ):
        sql_log.clear()
        assert client.get(path).status_code == 200
        counts[path] = len(sql_log)
    assert counts == {
        "/admin/": 5,  # session, users, posts, open reports, sign-ups and posts a day
        "/admin/reports": 6,  # session, entries, their count, accounts, posts, reports
        "/admin/users": 3,  # session, count, page
        "/admin/users?q=spam": 3,
        "/admin/audit": 3,
    }


def test_the_dashboard_counts_sign_ups_and_posts_per_day(app, make_user, clock):
    admin_id = make_user("root")
    give_role(app, admin_id, Role.ADMIN)
    publish(app, admin_id, "Today")
    clock.advance(days=-3)
    old_id = make_user("old")
    publish(app, old_id, "Three days ago")
    publish(app, old_id, "Also three days ago")
    clock.advance(days=3)
    page = text_of(signed_in_client(app, admin_id).get("/admin/"))
    assert "Users 2" in page and "Posts 3" in page and "Open reports 0" in page
    today = clock().date()
    three_days_ago = (clock() - timedelta(days=3)).date()
    assert f"{today.isoformat()} 1 1" in page
    assert f"{three_days_ago.isoformat()} 1 2" in page


def test_users_are_found_by_name_or_email_prefix_newest_first(app, make_user):
    admin_id = make_user("root")
    give_role(app, admin_id, Role.ADMIN)
    make_user("annie", email="a1@example.com")
    make_user("bob", email="annabel@example.org")
    make_user("carl")
    client = signed_in_client(app, admin_id)
    page = client.get("/admin/users?q=ANN").get_data(as_text=True)
    assert re.findall(r'<th scope="row"><a href="/admin/users/(\w+)"', page) == ["bob", "annie"]
    for hostile in ("%", "_", "\x00", "' OR 1=1 --", "a" * 5000):
        assert client.get("/admin/users", query_string={"q": hostile}).status_code == 200


# Hidden posts --------------------------------------------------------------------------


def test_a_hidden_post_leaves_every_list_count_and_search(app, make_user):
    mod_id, ann_id, bob_id = make_user("mod"), make_user("ann"), make_user("bob")
    give_role(app, mod_id, Role.MODERATOR)
    parent = publish(app, ann_id, "A question about #gardening")
    reply = publish(app, bob_id, "Spammy answer about #gardening seeds", reply_to=parent)
    with app.app_context():
        db.session.get(User, ann_id).follow(db.session.get(User, bob_id))
        db.session.commit()
    reader = signed_in_client(app, ann_id)
    assert "Spammy answer" in text_of(reader.get("/"))

    mod = signed_in_client(app, mod_id)
    response = mod.post(f"/admin/posts/{reply}/hide", data={"reason": "advertising"})
    assert response.status_code == 302
    for path in (
        "/",
        "/explore",
        "/user/bob",
        "/tag/gardening",
        f"/post/{parent}",
        "/search?q=seeds",
    ):
        assert "Spammy answer" not in text_of(reader.get(path)), path
    assert reader.get(f"/post/{reply}").status_code == 404
    assert signed_in_client(app, make_user("visitor")).get(f"/post/{reply}").status_code == 404
    with app.app_context():
        assert db.session.get(User, bob_id).posts_count == 0
        assert db.session.get(Post, parent).replies_count == 0
        assert db.session.scalar(sa.select(Tag.posts_count).where(Tag.key == "gardening")) == 1
        assert SiteCount.of(SiteCount.POSTS) == 1
    counts_are_exact(app)

    # Its author sees it, and why; so do moderators, who may restore it.
    author = signed_in_client(app, bob_id)
    page = text_of(author.get(f"/post/{reply}"))
    assert "Hidden by a moderator: advertising" in page
    assert author.get(f"/post/{reply}/edit").status_code == 403
    assert "Restore post" in text_of(mod.get(f"/post/{reply}"))

    mod.post(f"/admin/posts/{reply}/restore")
    assert "Spammy answer" in text_of(reader.get("/tag/gardening"))
    assert "Spammy answer" in text_of(reader.get("/search?q=seeds"))
    with app.app_context():
        assert db.session.get(Post, parent).replies_count == 1
    counts_are_exact(app)
    assert audit(app) == [("mod", "hid a post", "bob"), ("mod", "restored a post", "bob")]


def test_hiding_a_post_resolves_its_reports_and_takes_back_its_notifications(app, make_user):
    mod_id, ann_id, bob_id = make_user("mod"), make_user("ann"), make_user("bob")
    give_role(app, mod_id, Role.MODERATOR)
    post_id = publish(app, bob_id, "Hey @ann look at this")
    signed_in_client(app, ann_id).post(f"/post/{post_id}/report", data=report_form())
    with app.app_context():
        assert db.session.get(User, ann_id).unread_notifications == 1
    signed_in_client(app, mod_id).post(f"/admin/posts/{post_id}/hide", data={"reason": "spam"})
    with app.app_context():
        assert db.session.get(User, ann_id).unread_notifications == 0
        report = db.session.scalar(sa.select(Report))
        assert (report.resolution, report.resolved_by_id) == ("post hidden", mod_id)


def test_an_author_can_delete_their_hidden_post_and_the_counts_hold(app, make_user):
    mod_id, bob_id = make_user("mod"), make_user("bob")
    give_role(app, mod_id, Role.MODERATOR)
    post_id = publish(app, bob_id, "Hide me #tag")
    signed_in_client(app, mod_id).post(f"/admin/posts/{post_id}/hide", data={"reason": "spam"})
    response = signed_in_client(app, bob_id).post(f"/post/{post_id}/delete")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Post, post_id) is None
    counts_are_exact(app)


def test_a_hidden_post_takes_no_likes_or_replies_from_others(app, make_user):
    mod_id, ann_id, bob_id = make_user("mod"), make_user("ann"), make_user("bob")
    give_role(app, mod_id, Role.MODERATOR)
    post_id = publish(app, bob_id, "Hidden")
    signed_in_client(app, mod_id).post(f"/admin/posts/{post_id}/hide", data={"reason": "spam"})
    ann = signed_in_client(app, ann_id)
    assert ann.post(f"/post/{post_id}/like").status_code == 404
    assert ann.post(f"/post/{post_id}/reply", data=post_form("hi")).status_code == 404
    assert ann.get(f"/post/{post_id}/likes").status_code == 404


# Suspensions ---------------------------------------------------------------------------


def test_a_suspension_ends_every_session_refuses_sign_in_and_hides_the_posts(
    app, client, make_user
):
    admin_id, ann_id, bob_id = make_user("root"), make_user("ann"), make_user("bob")
    give_role(app, admin_id, Role.ADMIN)
    publish(app, bob_id, "Spam #deals here")
    bob = signed_in_client(app, bob_id)
    assert bob.get("/settings/profile").status_code == 200
    response = signed_in_client(app, admin_id).post(
        "/admin/users/bob/suspend", data={"reason": "Posting spam", "days": "7"}
    )
    assert response.status_code == 302
    assert bob.get("/settings/profile").status_code == 302  # signed out at once
    with app.app_context():
        assert UserSession.live_for(bob_id) == []

    response = client.post("/auth/login", data={"username": "bob", "password": PASSWORD})
    page = text_of(response)
    assert response.status_code == 403
    assert "Your account is suspended until" in page and "Posting spam" in page

    reader = signed_in_client(app, ann_id)
    for path in ("/explore", "/tag/deals", "/search?q=spam"):
        assert "Spam #deals" not in text_of(reader.get(path)), path
    profile = text_of(reader.get("/user/bob"))
    assert "Suspended" in profile and "This account is suspended" in profile
    counts_are_exact(app)


def test_lifting_a_suspension_brings_back_the_posts_no_moderator_hid(app, make_user):
    admin_id, bob_id = make_user("root"), make_user("bob")
    give_role(app, admin_id, Role.ADMIN)
    kept = publish(app, bob_id, "A fine post #fine")
    hidden = publish(app, bob_id, "A bad post")
    admin = signed_in_client(app, admin_id)
    admin.post(f"/admin/posts/{hidden}/hide", data={"reason": "rude"})
    admin.post("/admin/users/bob/suspend", data={"reason": "repeat offender", "days": ""})
    with app.app_context():
        assert db.session.get(User, bob_id).suspended_until is None  # indefinitely
    response = admin.post("/admin/users/bob/unsuspend", follow_redirects=True)
    assert "suspension is lifted" in text_of(response)
    assert reason_of(app, kept) == (False, None)
    assert reason_of(app, hidden) == (True, "rude")
    assert "A fine post" in text_of(admin.get("/tag/fine"))
    counts_are_exact(app)
    assert [kind for _, kind, _ in audit(app)] == [
        ActionKind.HIDE_POST,
        ActionKind.SUSPEND,
        ActionKind.UNSUSPEND,
    ]


def test_a_suspension_that_ran_out_is_lifted_at_sign_in_or_by_the_command(
    app, client, make_user, clock
):
    admin_id, bob_id, cy_id = make_user("root"), make_user("bob"), make_user("cyd")
    give_role(app, admin_id, Role.ADMIN)
    publish(app, bob_id, "Bob's post")
    publish(app, cy_id, "Cy's post")
    admin = signed_in_client(app, admin_id)
    admin.post("/admin/users/bob/suspend", data={"reason": "cool off", "days": "1"})
    admin.post("/admin/users/cyd/suspend", data={"reason": "cool off", "days": "1"})
    clock.advance(days=1, seconds=1)
    response = client.post("/auth/login", data={"username": "bob", "password": PASSWORD})
    assert response.status_code == 302
    result = app.test_cli_runner().invoke(args=["users", "lift-suspensions"])
    assert "Lifted 1 suspension." in result.output
    with app.app_context():
        assert not db.session.get(User, bob_id).is_suspended
        assert not db.session.get(User, cy_id).is_suspended
        assert SiteCount.of(SiteCount.POSTS) == 2
    assert ("schedule", "lifted the suspension of", "bob") in audit(app)


def test_suspended_posts_leave_tags_and_come_back(app, make_user):
    admin_id, bob_id = make_user("root"), make_user("bob")
    give_role(app, admin_id, Role.ADMIN)
    for n in range(3):
        publish(app, bob_id, f"Post {n} #topic #other{n}")
    with app.app_context():
        moderation = Moderation(by=db.session.get(User, admin_id))
        moderation.suspend(db.session.get(User, bob_id), "spam")
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PostTag)) == 0
        moderation.unsuspend(db.session.get(User, bob_id))
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PostTag)) == 6
    counts_are_exact(app)


# The audit log and the command line -----------------------------------------------------


def test_the_audit_log_shows_every_action_newest_first(app, make_user):
    admin_id, bob_id = make_user("root"), make_user("bob")
    give_role(app, admin_id, Role.ADMIN)
    post_id = publish(app, bob_id, "Hello")
    admin = signed_in_client(app, admin_id)
    admin.post(f"/admin/posts/{post_id}/hide", data={"reason": "test reason"})
    admin.post("/admin/users/bob/role", data={"role": "moderator"})
    page = text_of(admin.get("/admin/audit"))
    assert page.index("root changed the role of bob (user to moderator)") < page.index(
        f"root hid a post post {post_id} by bob"
    )
    assert "reason: test reason" in page


def test_the_audit_log_outlives_the_accounts_it_names(app, make_user):
    admin_id, bob_id = make_user("root"), make_user("bob")
    give_role(app, admin_id, Role.ADMIN)
    signed_in_client(app, admin_id).post("/admin/users/bob/suspend", data={"reason": "spam"})
    with app.app_context():
        from app.models import delete_account

        delete_account(db.session.get(User, bob_id))
        db.session.commit()
    assert audit(app) == [("root", "suspended", "bob")]


def test_the_command_line_gives_roles_and_lists_them(app, make_user):
    make_user("ann")
    make_user("bob")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "set-role", "ann", "admin"])
    assert result.exit_code == 0 and "ann is now admin." in result.output
    result = runner.invoke(args=["users", "set-role", "ANN", "admin"])
    assert "ann is already admin." in result.output
    result = runner.invoke(args=["users", "list", "--role", "admin"])
    assert result.output.splitlines() == ["ann\tadmin\tann@example.com\tactive"]
    assert runner.invoke(args=["users", "set-role", "nobody", "admin"]).exit_code == 2
    assert runner.invoke(args=["users", "set-role", "ann", "god"]).exit_code == 2
    assert audit(app) == [("command line", "changed the role of", "ann")]
    result = runner.invoke(args=["users", "list", "--suspended"])
    assert result.output == ""


# What a fresh-eyes review found ---------------------------------------------------------


def test_a_suspended_account_is_not_signed_in_by_a_confirmation_link(app, client, make_user):
    admin_id = make_user("root")
    give_role(app, admin_id, Role.ADMIN)
    bob_id = make_user("bob", confirmed=False)
    with app.app_context():
        token = db.session.get(User, bob_id).email_confirmation_token()
    signed_in_client(app, admin_id).post("/admin/users/bob/suspend", data={"reason": "spam"})
    response = client.post(f"/auth/confirm/{token}")
    assert response.status_code == 403
    assert "Your account is suspended until a moderator lifts it. Reason: spam" in text_of(response)
    assert client.get("/settings/profile").status_code == 302
    with app.app_context():
        assert UserSession.live_for(bob_id) == []
        with pytest.raises(NotAllowed):
            db.session.get(User, bob_id).publish("a request under way")


def test_a_post_hidden_by_a_suspension_cannot_be_edited_nor_answered(app, make_user):
    admin_id, bob_id = make_user("root"), make_user("bob")
    give_role(app, admin_id, Role.ADMIN)
    post_id = publish(app, bob_id, "Hello #tag")
    with app.app_context():
        Moderation(by=None).suspend(db.session.get(User, bob_id), "spam")
        db.session.commit()
        with pytest.raises(NotAllowed):
            db.session.get(User, bob_id).edit_post(db.session.get(Post, post_id), "Hi #other")
        db.session.rollback()
    admin = signed_in_client(app, admin_id)
    response = admin.post(f"/post/{post_id}/reply", data=post_form("hi"))
    assert response.status_code == 403 and "takes no replies" in text_of(response)
    admin.post("/admin/users/bob/unsuspend")
    assert "Hello #tag" in text_of(admin.get("/tag/tag"))
    counts_are_exact(app)


def test_a_block_keeps_no_post_from_a_moderator(app, make_user):
    mod_id, bob_id = make_user("mod"), make_user("bob")
    give_role(app, mod_id, Role.MODERATOR)
    post_id = publish(app, bob_id, "Spam")
    signed_in_client(app, bob_id).post("/user/mod/block")
    mod = signed_in_client(app, mod_id)
    assert mod.get(f"/post/{post_id}").status_code == 200
    assert mod.post(f"/admin/posts/{post_id}/hide", data={"reason": "spam"}).status_code == 302


def test_a_stale_dismissal_leaves_newer_reports_open(app, make_user):
    mod_id, bob_id = make_user("mod"), make_user("bob")
    give_role(app, mod_id, Role.MODERATOR)
    post_id = publish(app, bob_id, "Borderline")
    first, second = (signed_in_client(app, make_user(name)) for name in ("rep1", "rep2"))
    first.post(f"/post/{post_id}/report", data=report_form())
    with app.app_context():
        old_report = db.session.scalar(sa.select(Report.id))
    mod = signed_in_client(app, mod_id)
    mod.post(f"/admin/reports/{old_report}/dismiss")
    second.post(f"/post/{post_id}/report", data=report_form())
    response = mod.post(f"/admin/reports/{old_report}/dismiss", follow_redirects=True)
    assert "handled already" in text_of(response)
    assert "1 entry with open reports" in text_of(mod.get("/admin/reports"))


def test_the_queue_shows_the_oldest_reports_of_an_entry_and_how_many_more(
    app, make_user, monkeypatch
):
    monkeypatch.setattr("app.models.moderation.REPORTS_SHOWN", 2)
    mod_id, bob_id = make_user("mod"), make_user("bob")
    give_role(app, mod_id, Role.MODERATOR)
    post_id = publish(app, bob_id, "Spam")
    for n in range(5):
        reporter = signed_in_client(app, make_user(f"rep{n}"))
        reporter.post(f"/post/{post_id}/report", data=report_form(note=f"note {n}"))
    page = text_of(signed_in_client(app, mod_id).get("/admin/reports"))
    assert "5 reports" in page and "and 3 more" in page
    assert "note 0" in page and "note 1" in page and "note 2" not in page


def test_a_moderator_removes_an_offensive_picture_from_the_account_page(app, make_user):
    mod_id, bob_id = make_user("mod"), make_user("bob")
    give_role(app, mod_id, Role.MODERATOR)
    bob = signed_in_client(app, bob_id)
    upload = {"avatar": (io.BytesIO(picture_file()), "me.png", "image/png")}
    bob.post("/settings/avatar", data=upload, content_type="multipart/form-data")
    with app.app_context():
        digest = db.session.get(User, bob_id).avatar_digest
    moderator = signed_in_client(app, mod_id)
    page = moderator.get("/admin/users/bob").get_data(as_text=True)
    assert f"/avatar/{digest}-128.webp" in page and "Remove picture" in page
    response = moderator.post("/admin/users/bob/remove-picture", follow_redirects=True)
    assert "bob’s picture is deleted." in text_of(response)
    assert "Remove picture" not in response.get_data(as_text=True)
    assert moderator.get(f"/avatar/{digest}-64.webp").status_code == 404
    assert audit(app) == [("mod", "removed the picture of", "bob")]
    again = moderator.post("/admin/users/bob/remove-picture", follow_redirects=True)
    assert "bob has no uploaded picture, or another since you looked." in text_of(again)
    assert len(audit(app)) == 1


def test_a_picture_changed_since_the_moderator_looked_stays(app, make_user):
    mod_id, bob_id = make_user("mod"), make_user("bob")
    give_role(app, mod_id, Role.MODERATOR)
    with app.app_context():
        db.session.get(User, bob_id).use_picture(processed_picture(colour=(0, 0, 200)))
        db.session.commit()
    moderator = signed_in_client(app, mod_id)
    seen = moderator.get("/admin/users/bob").get_data(as_text=True)
    (shown_digest,) = re.findall(r'name="digest" value="([0-9a-f]{32})"', seen)
    with app.app_context():  # bob uploads another before the moderator clicks
        db.session.get(User, bob_id).use_picture(processed_picture(colour=(0, 200, 0)))
        db.session.commit()
        current = db.session.get(User, bob_id).avatar_digest
    assert current != shown_digest
    response = moderator.post(
        "/admin/users/bob/remove-picture", data={"digest": shown_digest}, follow_redirects=True
    )
    assert "or another since you looked" in text_of(response)
    with app.app_context():
        assert db.session.get(User, bob_id).avatar_digest == current
    assert audit(app) == []
