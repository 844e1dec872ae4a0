"""Every page, as visitor and member, on a desktop and a phone: axe-core finds no serious or
critical violation (target size included) and the Nu HTML Checker no error.

A page added later is one line in SCREENS (with an action when it needs a state: a form sent
with errors, a dialog open).
"""

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, BrowserContext, Page, Response, expect

from app.avatars import AvatarSource
from app.extensions import db
from app.models import Moderation, Post, Report, ReportReason, Role, User
from tests.e2e.conftest import new_context, npm_file
from tests.e2e.test_journeys import HIDDEN_FORM_FIELD, log_in, register, tab_to
from tests.helpers import processed_picture, start_session

pytestmark = [pytest.mark.e2e, pytest.mark.a11y]

AXE_PACKAGE = "axe-core@4.14.1"
VNU_PACKAGE = "vnu-jar@26.9.27"
# Every rule axe runs by default, and target size (WCAG 2.2 AA), which it leaves out.
AXE_OPTIONS = {"rules": {"target-size": {"enabled": True}}, "resultTypes": ["violations"]}
FAILING_IMPACTS = {"serious", "critical"}

VIEWPORTS = {
    "desktop": {"viewport": {"width": 1200, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
VISITOR, MEMBER = "visitor", "member"
NEWCOMER = "newcomer"  # signed in, address not confirmed yet
ACCOUNTS = {MEMBER: "ann", NEWCOMER: "cara"}


def faded_in(page: Page, selector: str) -> None:
    """Wait for the end of Bootstrap's fade: halfway, contrast is measured on faint colours."""
    expect(page.locator(selector)).to_be_visible()
    page.wait_for_function(
        "selector => getComputedStyle(document.querySelector(selector)).opacity === '1'",
        arg=selector,
    )


def open_hover_card(page: Page) -> None:
    page.locator("article a.user_popup").first.focus()  # hover needs a mouse; focus works on both
    faded_in(page, ".popover.show")


def open_delete_dialog(page: Page) -> None:
    page.locator("article").get_by_role("button", name="Delete").first.click()
    expect(page.get_by_role("dialog", name="Delete this post?")).to_be_visible()
    faded_in(page, ".modal.show")


def open_phone_menu(page: Page) -> None:
    toggler = page.get_by_role("button", name="Toggle navigation")
    if toggler.is_visible():  # only on narrow screens
        toggler.click()
        expect(page.locator("#navbar-links.show")).to_be_visible()


def new_post_waiting(page: Page) -> None:
    """A post written elsewhere (by the same reader, through the page's own cookies): the open
    page offers to show it."""
    form = page.request.get("/").text()
    fields = dict(HIDDEN_FORM_FIELD.findall(form))
    response = page.request.post("/", form=fields | {"body": "Written elsewhere"}, max_redirects=0)
    assert response.status == 302, response.status
    expect(page.get_by_role("button", name="Show 1 new post")).to_be_visible()


def send_empty_form(page: Page) -> None:
    """Send the page's form with its text fields emptied, past the browser's own checks."""
    form = page.locator("main form.form")
    form.evaluate(
        """form => {
            form.noValidate = true;
            form.querySelectorAll("input[type=text], input[type=email], input[type=password], "
                + "textarea").forEach(field => { field.value = ""; });
        }"""
    )
    with page.expect_navigation():
        form.locator("[type=submit]").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()


def send_a_script_as_a_picture(page: Page) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    page.get_by_label("Upload a picture").set_input_files(
        {"name": "me.png", "mimeType": "image/png", "buffer": svg}
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()


@dataclass(frozen=True)
class Screen:
    name: str
    path: str  # may name {ann_post}, {bob_post} or a token (see `site`)
    who: tuple[str, ...] = (VISITOR, MEMBER)
    then: Callable[[Page], None] | None = None
    status: int = 200


SCREENS = [
    Screen("home", "/"),
    Screen("home, phone menu open", "/", then=open_phone_menu),
    Screen("home, new post sent empty", "/", (MEMBER,), send_empty_form),
    Screen("explore", "/explore"),
    Screen("explore, hover card open", "/explore", then=open_hover_card),
    Screen("explore, a middle page", "/explore?page=4"),  # the pager, with a gap in it
    Screen("explore, a new post waiting", "/explore", (MEMBER,), new_post_waiting),
    Screen("profile", "/user/bob"),
    Screen("own profile", "/user/ann", (MEMBER,)),
    Screen("own profile, delete dialog open", "/user/ann", (MEMBER,), open_delete_dialog),
    Screen("followers", "/user/bob/followers"),
    Screen("following", "/user/bob/following"),
    Screen("post", "/post/{bob_post}"),
    Screen("thread", "/post/{thread_post}"),  # what it answers above, a reply below
    Screen("thread under a hidden post", "/post/{under_hidden_post}"),  # its place says so
    Screen("thread, reply sent empty", "/post/{thread_post}", (MEMBER,), send_empty_form),
    Screen("likes", "/post/{bob_post}/likes"),
    Screen("tag", "/tag/birds"),
    Screen("search, nothing typed", "/search"),
    Screen("search, posts found", "/search?q=birds"),  # marked words, the order links
    Screen("search, people found", "/search?q=b&type=people"),
    Screen("search, tags found", "/search?q=bi&type=tags"),
    Screen("search, nothing found", "/search?q=zyzzyva"),
    Screen("notifications", "/notifications", (MEMBER,)),
    Screen("report a post", "/post/{bob_post}/report", (MEMBER,)),
    Screen("report a post, sent empty", "/post/{bob_post}/report", (MEMBER,), send_empty_form),
    Screen("block, mute or report", "/user/bob/safety", (MEMBER,)),
    Screen("blocked and muted", "/settings/blocked", (MEMBER,)),
    Screen("profile, suspended", "/user/eve"),
    Screen("profile, blocked", "/user/finn", (MEMBER,)),
    Screen("hidden post, as a moderator", "/post/{hidden_post}", (MEMBER,)),
    Screen("admin dashboard", "/admin/", (MEMBER,)),
    Screen("admin reports", "/admin/reports", (MEMBER,)),  # a post's and an account's
    Screen("admin users", "/admin/users", (MEMBER,)),
    Screen("admin account", "/admin/users/dan", (MEMBER,)),  # an uploaded picture to remove
    Screen("admin account, suspended", "/admin/users/eve", (MEMBER,)),
    Screen("admin audit log", "/admin/audit", (MEMBER,)),
    Screen("own post", "/post/{ann_post}", (MEMBER,)),
    Screen("edit post", "/post/{ann_post}/edit", (MEMBER,)),
    Screen("edit post, sent empty", "/post/{ann_post}/edit", (MEMBER,), send_empty_form),
    Screen("edit profile", "/settings/profile", (MEMBER,)),
    Screen("edit profile, sent empty", "/settings/profile", (MEMBER,), send_empty_form),
    Screen("avatar", "/settings/avatar", (MEMBER,)),  # an uploaded picture, Gravatar offered
    Screen("avatar, a file refused", "/settings/avatar", (MEMBER,), send_a_script_as_a_picture),
    Screen("change email", "/settings/email", (MEMBER,)),
    Screen("change email, sent empty", "/settings/email", (MEMBER,), send_empty_form),
    Screen("change password", "/settings/password", (MEMBER,)),
    Screen("sessions", "/settings/sessions", (MEMBER,)),
    Screen("export", "/settings/export", (MEMBER,)),
    Screen("delete account", "/settings/delete", (MEMBER,)),
    Screen("delete account, sent empty", "/settings/delete", (MEMBER,), send_empty_form),
    Screen("log in", "/auth/login", (VISITOR,)),
    Screen("log in, sent empty", "/auth/login", (VISITOR,), send_empty_form),
    Screen("register", "/auth/register", (VISITOR,)),
    Screen("register, sent empty", "/auth/register", (VISITOR,), send_empty_form),
    Screen("check your inbox", "/auth/check_inbox", (VISITOR,)),
    Screen("home, address not confirmed", "/", (NEWCOMER,)),
    Screen("profile, address not confirmed", "/user/bob", (NEWCOMER,)),
    Screen("reset request", "/auth/reset_password_request", (VISITOR,)),
    Screen("reset password", "/auth/reset_password/{token}", (VISITOR,)),
    Screen("confirm email", "/auth/confirm/{confirm_token}", (VISITOR,)),
    Screen("confirm new email", "/auth/confirm_email_change/{change_token}", (MEMBER,)),
    Screen("not found", "/user/nobody", status=404),
    Screen("forbidden", "/post/{bob_post}/edit", (MEMBER,), status=403),
    Screen("method not allowed", "/post/{bob_post}/delete", status=405),
]


@pytest.fixture
def site(app, make_user) -> dict[str, str]:
    """ann (the member, an admin, signed in on another device too) and bob follow each other,
    have posts, a thread and likes, bob follows dan (so ann's home suggests dan), cara has not
    confirmed her address, ann asked to move to a new one; bob reported dan and a post of dan's,
    ann hid another (which bob answered), suspended eve, blocked finn and muted cara; what the
    paths name."""
    ann_id = make_user("ann", about_me="Reads a lot.", posts=2)
    make_user("bob", about_me="Bob writes about birds.", posts=3)
    make_user("cara", confirmed=False)
    make_user("dan", posts=80)  # explore has nine pages
    make_user("eve", about_me="Sells watches.", posts=2)
    make_user("finn", posts=1)
    start_session(app, ann_id)  # ann on another device too: the sessions page can end one
    with app.app_context():
        ann = db.session.scalar(sa.select(User).where(User.username == "ann"))
        bob = db.session.scalar(sa.select(User).where(User.username == "bob"))
        cara = db.session.scalar(sa.select(User).where(User.username == "cara"))
        dan = db.session.scalar(sa.select(User).where(User.username == "dan"))
        ann.follow(bob)
        bob.follow(ann)
        bob.follow(dan)  # ann's home then has a Who to follow section
        first_post = sa.select(Post.id).order_by(Post.id).limit(1)
        bobs_post = db.session.scalar(sa.select(Post).where(Post.author_id == bob.id).limit(1))
        # A thread: ann answers bob, bob answers ann; likes both ways; ann is notified.
        answer = ann.publish("Thanks @bob, see https://example.com/birds", reply_to=bobs_post)
        db.session.flush()
        bob.publish("You are welcome, @ann. #birds", reply_to=answer)
        ann.like(bobs_post)
        bob.like(answer)
        ann.role = Role.ADMIN
        eve = db.session.scalar(sa.select(User).where(User.username == "eve"))
        dans_posts = db.session.scalars(sa.select(Post).where(Post.author_id == dan.id).limit(2))
        reported, hidden = dans_posts.all()
        under_hidden = bob.publish("Where do these come from?", reply_to=hidden)
        Report.file(bob, ReportReason.SPAM, "Same link again", post=reported)
        Report.file(bob, ReportReason.ABUSE, user=dan)
        Moderation(by=ann).hide_post(hidden, "Advertising")
        Moderation(by=ann).suspend(eve, "Selling fakes", days=7)
        # The settings list has one of each; ann's feeds are read as screened.
        ann.block(db.session.scalar(sa.select(User).where(User.username == "finn")))
        ann.mute(cara)
        # Uploaded pictures: ann's on her settings page, bob's beside his posts, dan's on his
        # admin page (with Remove picture), not shown: he keeps his drawn avatar.
        for user, colour in ((ann, (240, 140, 20)), (bob, (30, 120, 200)), (dan, (90, 160, 60))):
            user.use_picture(processed_picture(colour=colour))
        dan.choose_avatar(AvatarSource.GENERATED)
        db.session.commit()
        return {
            "hidden_post": str(hidden.id),
            "ann_post": str(db.session.scalar(first_post.where(Post.author_id == ann.id))),
            "bob_post": str(bobs_post.id),
            "thread_post": str(answer.id),
            "under_hidden_post": str(under_hidden.id),
            "token": ann.password_reset_token(),
            "confirm_token": cara.email_confirmation_token(),
            "change_token": ann.email_change_token("ann.new@example.com"),
        }


@dataclass
class Walk:
    """A browser context going through the screens of one kind of reader."""

    context: BrowserContext
    who: str
    names: dict[str, str]

    def __post_init__(self) -> None:
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on(
            "console",
            lambda message: (
                "Content Security Policy" in message.text and self.errors.append(message.text)
            ),
        )
        if self.who in ACCOUNTS:
            username = ACCOUNTS[self.who]
            log_in(self.page, username)
            expect(self.page.locator("nav")).to_contain_text(f"Signed in as {username}")

    def screens(self) -> list[Screen]:
        return [screen for screen in SCREENS if self.who in screen.who]

    def show(self, screen: Screen) -> str:
        """Open the screen and bring it to its state; the HTML the server sent for it."""
        documents: list[Response] = []

        def record(response: Response) -> None:
            if response.frame == self.page.main_frame and response.request.is_navigation_request():
                documents.append(response)

        self.page.on("response", record)
        try:
            response = self.page.goto(screen.path.format(**self.names))
            assert response.status == screen.status, f"{screen.name}: {response.status}"
            if screen.then:
                screen.then(self.page)
        finally:
            self.page.remove_listener("response", record)
        [document] = [r for r in documents if not 300 <= r.status < 400][-1:]
        return document.text()


def walk(browser: Browser, server: str, moment_js: bytes, site, who: str, viewport: str) -> Walk:
    context = new_context(browser, server, moment_js, **VIEWPORTS[viewport])
    return Walk(context, who, site)


@pytest.fixture(scope="session")
def axe_source(pytestconfig) -> str:
    return npm_file(pytestconfig, AXE_PACKAGE, "axe.min.js").read_text()


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("who", [VISITOR, MEMBER, NEWCOMER])
def test_axe_finds_no_serious_violation(
    browser, server, moment_js, site, axe_source, capsys, who, viewport
):
    reader = walk(browser, server, moment_js, site, who, viewport)
    failures: list[str] = []
    notes: list[str] = []
    try:
        for screen in reader.screens():
            reader.show(screen)
            # Through the DevTools protocol, as a browser extension would: the page's
            # Content-Security-Policy, which allows no such script, stays as it is.
            reader.page.evaluate(axe_source)
            result = reader.page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
            for violation in result["violations"]:
                targets = "; ".join(" ".join(node["target"]) for node in violation["nodes"])
                line = (
                    f"{who}, {viewport}, {screen.name}: {violation['impact']} "
                    f"{violation['id']} ({violation['help']}): {targets}"
                )
                (failures if violation["impact"] in FAILING_IMPACTS else notes).append(line)
    finally:
        reader.context.close()
    if notes:
        with capsys.disabled():  # shown in every run, not only when the test fails
            print("\naxe, moderate and minor:\n  " + "\n  ".join(notes))
    assert reader.errors == [], f"JavaScript or CSP errors: {reader.errors}"
    assert failures == [], "axe, serious and critical:\n" + "\n".join(failures)


@pytest.fixture(scope="session")
def vnu_jar(pytestconfig) -> Path:
    if shutil.which("java") is None:
        pytest.skip(
            "The HTML check needs Java for the Nu HTML Checker: "
            "`sudo apt-get install -y default-jre-headless`."
        )
    return npm_file(pytestconfig, VNU_PACKAGE, "build/dist/vnu.jar")


def test_every_page_is_valid_html(browser, server, moment_js, site, vnu_jar, tmp_path):
    pages: list[Path] = []
    for who in (VISITOR, MEMBER, NEWCOMER):
        reader = walk(browser, server, moment_js, site, who, "desktop")
        try:
            for screen in reader.screens():
                path = tmp_path / f"{who}-{re.sub(r'[^a-z]+', '-', screen.name)}.html"
                path.write_text(reader.show(screen))
                pages.append(path)
        finally:
            reader.context.close()
    # One Java run for every page: each start of the JVM costs seconds.
    checked = subprocess.run(
        ["java", "-jar", str(vnu_jar), "--format", "json", "--stdout", *map(str, pages)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(checked.stdout)["messages"]
    errors = [
        f"{Path(m.get('url', '')).name} line {m.get('lastLine')}: {m['message']} "
        f"[{m.get('extract', '').strip()}]"
        for m in messages
        if m["type"] != "info"
    ]
    assert errors == [], "Nu HTML Checker errors:\n" + "\n".join(errors)


def test_the_skip_link_shows_above_the_navbar_when_focused(page):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    box = skip.bounding_box()
    on_top = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).closest('a')?.textContent.trim()",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert on_top == "Skip to content"  # not the navbar painted over it
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#content$"))


def test_focused_nav_links_have_a_solid_outline(page):
    page.goto("/")
    explore = page.locator("nav").get_by_role("link", name="Explore")
    tab_to(page, explore)
    outline = explore.evaluate(
        "link => { const s = getComputedStyle(link); return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert outline == ["solid", "2px"]


def test_post_header_targets_are_at_least_24_px_on_a_phone(phone, make_user, browser):
    make_user("al", posts=1)  # a short name makes the narrowest link
    register(phone, "ann")
    phone.get_by_label("Say something").fill("Mine")
    phone.get_by_role("button", name="Post", exact=True).click()
    phone.goto("/explore")
    targets = phone.locator(".post header a, .post header button")
    assert targets.count() == 6  # two names, two times, Edit and Delete
    for target in targets.all():
        box = target.bounding_box()
        assert box["width"] >= 24 and box["height"] >= 24, (target.inner_text(), box)


def transitions(page: Page, selector: str) -> list[str]:
    return page.locator(selector).evaluate_all(
        "elements => elements.map(e => getComputedStyle(e).transitionDuration)"
    )


def test_no_fades_for_readers_who_ask_for_reduced_motion(browser, server, moment_js, make_user):
    make_user("bob", about_me="Bob writes about birds.", posts=1)
    context = new_context(browser, server, moment_js, reduced_motion="reduce")
    page = context.new_page()
    try:
        register(page, "ann")
        seen = transitions(page, ".alert")  # the welcome message, dismissible
        page.get_by_label("Say something").fill("Mine")
        page.get_by_role("button", name="Post", exact=True).click()
        page.goto("/explore")
        page.locator("article a.user_popup").last.focus()  # bob's hover card
        expect(page.locator(".popover.show")).to_be_visible()
        seen += transitions(page, ".popover")
        page.locator("article").get_by_role("button", name="Delete").click()
        expect(page.locator(".modal.show")).to_be_visible()
        seen += transitions(page, ".modal, .modal-dialog, .modal-backdrop")
        assert len(seen) == 5
        assert set(seen) == {"0s"}
    finally:
        context.close()


def test_without_moment_js_times_stay_in_utc_and_nothing_throws(page, make_user, screenshot):
    make_user("bob", posts=1)
    page.route("https://cdnjs.cloudflare.com/**", lambda route: route.abort())  # CDN blocked
    page.goto("/explore")
    expect(page.locator("article time").first).to_have_text(re.compile(r" UTC$"))
    screenshot(page, "13-without-moment-js")
    # The page fixture fails the test on any JavaScript error.
