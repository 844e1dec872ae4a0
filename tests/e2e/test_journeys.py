"""Every user journey, in Chromium, as a person would go through it."""

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from playwright.sync_api import Locator, Page, expect

from app.email import background
from app.extensions import db, mail
from app.models import Role, User
from tests.conftest import PASSWORD
from tests.e2e.conftest import new_context
from tests.helpers import picture_file

pytestmark = pytest.mark.e2e

RELATIVE_TIME = re.compile(r"^(a few seconds ago|\d+ seconds ago|a minute ago)$")
LONG_DATE_TIME = re.compile(r"^[A-Z][a-z]+ \d{1,2}, \d{4} \d{1,2}:\d\d [AP]M$")  # moment's LLL
ORANGE = (240, 140, 20)
XSS = "<img src=x onerror=alert(1)><script>alert(2)</script>"
HIDDEN_FORM_FIELD = re.compile(r'name="(csrf_token|submission_key)" type="hidden" value="([^"]+)"')


@contextmanager
def app_log() -> Iterator[list[str]]:
    """The app's log records while the block runs: with MAIL_SERVER unset, every mail is there
    in full, as a developer would read it."""
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())
    logger = logging.getLogger("app")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def confirmation_link(log: list[str]) -> str:
    [link] = re.findall(r"https?://\S+/auth/confirm/\S+", "\n".join(log))
    return link


def open_confirmation_link(page: Page, link: str) -> None:
    """Open the mailed link and press the page's button, as its reader does (opening it alone
    changes nothing: mail scanners open every link)."""
    page.goto(link)
    expect(page.get_by_role("heading", name="Confirm your email address")).to_be_visible()
    page.get_by_role("button", name="Confirm my address").click()


def register(page: Page, username: str, password: str = PASSWORD, *, confirm: bool = True) -> str:
    """Register ``username``; return the confirmation link mailed, opened unless told not to."""
    page.goto("/auth/register")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username.lower()}@example.com")
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Confirm password").fill(password)
    with app_log() as log:
        page.get_by_role("button", name="Register").click()
        expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
        background.submit(lambda: None).result(timeout=10)  # the mail thread is done
    link = confirmation_link(log)
    if confirm:
        open_confirmation_link(page, link)
        expect(page.get_by_text("Your email address is confirmed.")).to_be_visible()
    return link


def log_in(page: Page, username: str, password: str = PASSWORD, remember: bool = False) -> None:
    page.goto("/auth/login")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(password)
    if remember:
        page.get_by_label("Remember me").check()
    page.get_by_role("button", name="Log in").click()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You have been logged out.")).to_be_visible()


def signed_in_as(page: Page, username: str) -> None:
    expect(page.locator("nav")).to_contain_text(f"Signed in as {username}")


def test_1_register_confirm_post_log_out_and_log_in_with_remember_me(page, context, screenshot):
    link = register(page, "Ann", confirm=False)
    screenshot(page, "1-check-your-inbox")
    expect(page.locator("nav")).not_to_contain_text("Signed in as")
    page.goto(link)
    expect(page.get_by_text("confirm that ann@example.com is your address")).to_be_visible()
    expect(page.locator("nav")).not_to_contain_text("Signed in as")  # opening it did nothing
    screenshot(page, "1-confirm-your-email-address")
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.get_by_text("Welcome to Microblog, Ann!")).to_be_visible()
    signed_in_as(page, "Ann")
    page.get_by_label("Say something").fill("Confirmed and posting")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_text("Your post is live.")).to_be_visible()
    log_out(page)
    expect(page.locator("nav")).not_to_contain_text("Signed in as")

    log_in(page, "ann@example.com", remember=True)
    signed_in_as(page, "Ann")
    cookies = {cookie["name"]: cookie for cookie in context.cookies()}
    assert cookies["remember_token"]["httpOnly"]
    screenshot(page, "1-register-login")


def test_2_posts_appear_on_top_with_relative_times(page, screenshot):
    register(page, "ann")
    for text in ("First post", "Second post", "Third post"):
        page.get_by_label("Say something").fill(text)
        page.get_by_role("button", name="Post", exact=True).click()
        expect(page.get_by_text("Your post is live.")).to_be_visible()
        first = page.locator("article.post").first
        expect(first.locator(".post-body")).to_have_text(text)
        expect(first.locator("time")).to_have_text(RELATIVE_TIME)  # moment.js ran
    expect(page.locator("article.post .post-body")).to_have_text(
        ["Third post", "Second post", "First post"]
    )
    screenshot(page, "2-posts")


def test_3_numbered_pager_and_newer_older_links(app, page, make_user, screenshot):
    app.config["POSTS_PER_PAGE"] = 3
    make_user("ann", posts=8)  # pages of 3, 3, 2
    page.goto("/explore")
    pager = page.get_by_role("navigation", name="Pages")
    expect(pager.locator(".active")).to_have_text("1")
    expect(pager.get_by_role("link", name="‹ Newer")).to_have_count(0)
    expect(page.locator(".post-body").first).to_have_text("Post 7 by ann")

    pager.get_by_role("link", name="Older ›").click()
    expect(page).to_have_url(re.compile(r"/explore\?page=2&older_than=\d+$"))  # a cursor
    expect(pager.locator(".active")).to_have_text("2")
    expect(page.locator(".post-body").first).to_have_text("Post 4 by ann")

    pager.get_by_role("link", name="3", exact=True).click()
    expect(pager.locator(".active")).to_have_text("3")
    expect(page.locator(".post-body")).to_have_text(["Post 1 by ann", "Post 0 by ann"])
    expect(pager.get_by_role("link", name="Older ›")).to_have_count(0)
    screenshot(page, "3-pagination")

    pager.get_by_role("link", name="‹ Newer").click()
    expect(pager.locator(".active")).to_have_text("2")
    expect(page.locator(".post-body").first).to_have_text("Post 4 by ann")


def tab_to(page: Page, target: Locator, presses: int = 40) -> None:
    """Press Tab until ``target`` has the focus, as a keyboard user would."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    pytest.fail(f"Tab never reached {target}")


def popup_requests(page: Page) -> list[str]:
    requests: list[str] = []
    page.on("request", lambda request: "/popup" in request.url and requests.append(request.url))
    return requests


def decoded_width(image: Locator) -> int:
    """The width of the picture an <img> shows, once the browser has decoded it: a visible
    <img> may still be loading, and one the browser cannot decode fails the test. (Scrolled
    to first: an avatar loads lazily, and one never loaded would never be decoded.)"""
    image.scroll_into_view_if_needed()
    return image.evaluate("img => img.decode().then(() => img.naturalWidth)")


def check_hover_card(page: Page, screenshot, journey: str) -> None:
    requests = popup_requests(page)
    link = page.locator("article a.user_popup").first
    card = page.locator(".popover")

    link.hover()
    expect(card).to_be_visible()
    expect(card.locator("img.avatar")).to_be_visible()
    expect(card).to_contain_text("bob")
    expect(card).to_contain_text("Bob writes about birds.")
    expect(card).to_contain_text("2 posts")
    expect(card.locator("time")).to_have_text(LONG_DATE_TIME)  # rendered by moment.js
    assert decoded_width(card.locator("img.avatar")) > 0
    screenshot(page, journey)

    page.mouse.move(5, 5)
    expect(card).to_be_hidden()
    link.hover()
    expect(card).to_be_visible()
    assert len(requests) == 1, "the card is fetched once per page"

    page.mouse.move(5, 5)
    expect(card).to_be_hidden()
    page.locator("body").focus()
    tab_to(page, link)
    expect(card).to_be_visible()
    page.keyboard.press("Tab")  # on into the card, which stays open
    expect(card.get_by_role("link", name="bob", exact=True)).to_be_focused()
    expect(card).to_be_visible()
    page.keyboard.press("Escape")
    expect(card).to_be_hidden()
    expect(link).to_be_focused()  # back where the reader was


def test_4_hover_card_for_a_logged_in_user(page, make_user, screenshot):
    make_user("bob", about_me="Bob writes about birds.", posts=2)
    register(page, "ann")
    page.goto("/explore")
    check_hover_card(page, screenshot, "4-hover-card")


def test_4_hover_card_for_an_anonymous_visitor(page, make_user, screenshot):
    make_user("bob", about_me="Bob writes about birds.", posts=2)
    page.goto("/")
    check_hover_card(page, screenshot, "4-hover-card-anonymous")


def test_5_hostile_text_is_shown_as_text_everywhere(page, screenshot):
    # The server, not the browser's form checks, must refuse a hostile username.
    page.goto("/auth/register")
    page.locator("main form").evaluate("form => form.noValidate = true")
    page.get_by_label("Username").evaluate("input => input.removeAttribute('maxlength')")
    page.get_by_label("Username").fill(XSS)
    page.get_by_label("Email").fill("mallory@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_text("Use only letters, digits")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_value(XSS)  # echoed back as text
    register(page, "mallory")
    page.get_by_label("Say something").fill(XSS)
    page.get_by_role("button", name="Post", exact=True).click()
    page.goto("/settings/profile")
    page.get_by_label("About me").fill(XSS)
    page.get_by_role("button", name="Save").click()

    expect(page.locator(".about-me")).to_have_text(XSS)
    expect(page.locator(".post-body").first).to_have_text(XSS)
    page.goto("/explore")
    expect(page.locator(".post-body").first).to_have_text(XSS)
    page.locator("article a.user_popup").first.hover()
    expect(page.locator(".popover .about-me")).to_have_text(XSS)
    assert page.locator(".popover img").count() == 1  # the avatar; the hostile img is text
    screenshot(page, "5-hostile-text")
    page.goto("/search?q=alert")  # the words found are marked, and the rest is still text
    expect(page.locator(".post-body mark").first).to_have_text("alert")
    expect(page.locator(".post-body").first).to_have_text(XSS)
    # The page fixture fails the test if any dialog opened.


def test_6_edit_profile(page, make_user, screenshot):
    make_user("bob")
    register(page, "ann")
    page.get_by_role("link", name="Profile").click()
    page.get_by_role("link", name="Edit profile").click()

    page.get_by_label("Username").fill("BOB")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("That username is taken.")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_value("BOB")
    screenshot(page, "6-edit-profile-error")

    page.get_by_label("Username").fill("Annie")
    page.get_by_label("About me").fill("Reads a lot.\nWrites a little.")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/user/Annie$"))
    expect(page.locator("h1")).to_have_text("Annie")
    expect(page.locator(".about-me")).to_have_text("Reads a lot.\nWrites a little.")
    signed_in_as(page, "Annie")


def test_7_password_reset_by_email(page, make_user, screenshot):
    make_user("ann")
    page.goto("/auth/login")
    page.get_by_role("link", name="Forgot your password?").click()
    with mail.record_messages() as outbox:
        page.get_by_label("Email").fill("ANN@example.com")
        page.get_by_role("button", name="Send me a reset link").click()
        expect(page.get_by_text("a link to reset its password is on its way")).to_be_visible()
        background.submit(lambda: None).result(timeout=10)  # the mail thread is done
    [message] = outbox
    link = re.search(r"http://\S+/auth/reset_password/\S+", message.body).group(0)

    page.goto(link)
    page.get_by_label("New password", exact=True).fill("a new passphrase")
    page.get_by_label("Confirm new password").fill("a new passphrase")
    screenshot(page, "7-password-reset")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_text("Your password has been reset.")).to_be_visible()

    log_in(page, "ann", "a new passphrase")
    signed_in_as(page, "ann")
    page.goto(link)
    expect(
        page.get_by_text("That password reset link is invalid, expired or already used.")
    ).to_be_visible()


def test_8_logout_is_a_post_and_ends_access(page, screenshot):
    register(page, "ann")
    assert page.locator('a[href*="logout"]').count() == 0
    expect(page.locator('form[method="post"][action="/auth/logout"]')).to_have_count(1)
    log_out(page)
    page.goto("/settings/profile")
    expect(page).to_have_url(re.compile(r"/auth/login\?next=%2Fsettings%2Fprofile$"))
    expect(page.get_by_text("Please log in to access this page.")).to_be_visible()
    screenshot(page, "8-logged-out")


def test_9_not_found_page_and_form_without_csrf_token(page, screenshot):
    response = page.goto("/user/nobody")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("404 Not Found")
    screenshot(page, "9-not-found")

    page.goto("/auth/login")
    page.locator('input[name="csrf_token"]').evaluate("input => input.remove()")
    page.get_by_label("Username or email").fill("ann")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_response(re.compile(r"/auth/login$")) as answer:
        page.get_by_role("button", name="Log in").click()
    assert answer.value.status == 400
    expect(page.locator("h1")).to_have_text("400 Bad Request")
    screenshot(page, "9-csrf-rejected")


def test_10_phone_navbar_collapses_into_its_toggler(phone, screenshot):
    phone.goto("/")
    explore = phone.get_by_role("link", name="Explore")
    expect(explore).to_be_hidden()
    toggler = phone.get_by_role("button", name="Toggle navigation")
    expect(toggler).to_be_visible()
    toggler.click()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    expect(phone.locator("#navbar-links")).to_have_class(re.compile(r"\bshow\b"))  # opened
    expect(explore).to_be_visible()
    screenshot(phone, "10-phone-navbar")
    explore.click()
    expect(phone).to_have_url(re.compile(r"/explore$"))


def test_11_follow_from_the_hover_card_updates_card_and_page(page, make_user, screenshot):
    make_user("bob", about_me="Bob writes about birds.", posts=2)
    register(page, "ann")
    page.goto("/user/bob")
    page.evaluate("window.notReloaded = true")
    header_count = page.locator("section[aria-label=Profile] [class^=followers-of-]")
    expect(header_count).to_have_text("0")

    page.locator("article a.user_popup").first.hover()
    card = page.locator(".popover")
    card.get_by_role("button", name="Follow").click()
    expect(card.get_by_role("button", name="Unfollow")).to_be_visible()
    expect(card.locator("[class^=followers-of-]")).to_have_text("1")
    expect(header_count).to_have_text("1")
    profile = page.locator("section[aria-label=Profile]")
    expect(profile).to_contain_text("1 follower ")
    expect(profile.get_by_role("button", name="Unfollow")).to_be_visible()
    assert page.evaluate("window.notReloaded")
    screenshot(page, "11-follow-from-card")

    page.mouse.move(5, 5)
    expect(card).to_be_hidden()
    page.locator("article a.user_popup").first.hover()
    expect(card.get_by_role("button", name="Unfollow")).to_be_visible()  # remembered
    card.get_by_role("button", name="Unfollow").click()
    expect(header_count).to_have_text("0")

    page.reload()  # and the server agrees
    expect(header_count).to_have_text("0")
    expect(page.get_by_role("button", name="Follow")).to_be_visible()

    # By keyboard: focus the name, Tab into its card, press the button.
    link = page.locator("article a.user_popup").first
    link.focus()
    expect(card).to_be_visible()
    tab_to(page, card.get_by_role("button", name="Follow"))
    page.keyboard.press("Enter")
    expect(card.get_by_role("button", name="Unfollow")).to_be_visible()
    expect(header_count).to_have_text("1")


def test_12_a_post_form_sent_twice_makes_one_post(page, screenshot):
    register(page, "ann")
    page.get_by_label("Say something").fill("Only once, please")

    def send_posts_twice(route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        route.fetch(max_redirects=0)  # the first answer is lost on its way back: a retry
        route.fulfill(response=route.fetch(max_redirects=0))

    page.route("**/", send_posts_twice)
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_text("You already posted this.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/post/\d+$"))
    page.unroute("**/")
    page.goto("/user/ann")
    expect(page.locator("article.post .post-body")).to_have_text(["Only once, please"])
    screenshot(page, "12-post-sent-twice")


def test_13_an_unconfirmed_account_reads_asks_for_a_new_link_and_then_acts(
    page, make_user, screenshot
):
    make_user("bob", about_me="Bob writes about birds.", posts=2)
    make_user("ann", confirmed=False)  # the first link got lost
    log_in(page, "ann")
    banner = page.get_by_role("status").filter(has_text="Confirm your email address")
    expect(banner).to_be_visible()
    expect(page.get_by_label("Say something")).to_have_count(0)
    expect(page.get_by_text("You can post once your email address is confirmed")).to_be_visible()

    page.goto("/user/bob")
    page.locator("article a.user_popup").first.hover()
    card = page.locator(".popover")
    card.get_by_role("button", name="Follow").click()
    expect(card.get_by_role("alert")).to_have_text(re.compile("Confirm your email address first"))
    screenshot(page, "13-unconfirmed")

    with app_log() as log:
        banner.get_by_role("button", name="Send the link again").click()
        expect(page.get_by_text("A new confirmation link is on its way")).to_be_visible()
        background.submit(lambda: None).result(timeout=10)
    open_confirmation_link(page, confirmation_link(log))
    expect(page.get_by_text("Your email address is confirmed.")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Confirm your email")).to_have_count(0)
    page.get_by_label("Say something").fill("Here at last")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_text("Your post is live.")).to_be_visible()


def test_14_end_another_session_from_the_sessions_page(
    browser, server, moment_js, page, make_user, screenshot
):
    make_user("ann")
    laptop = new_context(browser, server, moment_js)
    other = laptop.new_page()
    log_in(other, "ann")
    signed_in_as(other, "ann")
    log_in(page, "ann")

    page.goto("/settings/sessions")
    sessions = page.locator(".session-entry")
    expect(sessions).to_have_count(2)
    this_device = sessions.filter(has_text="This device")
    expect(this_device).to_have_count(1)
    expect(this_device.get_by_role("button", name="End session")).to_have_count(0)
    screenshot(page, "14-sessions")
    sessions.filter(has_not_text="This device").get_by_role("button", name="End session").click()
    expect(page.get_by_text("That session has been ended")).to_be_visible()
    expect(sessions).to_have_count(1)

    other.reload()
    expect(other.locator("nav")).not_to_contain_text("Signed in as")
    other.goto("/settings/profile")
    expect(other).to_have_url(re.compile(r"/auth/login\?next="))
    laptop.close()


def test_15_delete_the_account_from_settings(page, make_user, screenshot):
    make_user("ann", posts=2)
    log_in(page, "ann")
    page.goto("/settings/profile")
    page.get_by_role("navigation", name="Settings").get_by_role(
        "link", name="Delete account"
    ).click()
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("Type your username to confirm").fill("bob")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Type your username, ann, to confirm.")).to_be_visible()
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("Type your username to confirm").fill("ann")
    screenshot(page, "15-delete-account")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Your account and everything in it have been deleted.")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    assert page.goto("/user/ann").status == 404


def test_16_change_the_email_address_by_the_link_mailed_to_the_new_one(page, make_user, screenshot):
    make_user("ann")
    log_in(page, "ann")
    page.goto("/settings/profile")
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Email").click()
    page.get_by_label("New email address").fill("ann.new@example.com")
    page.get_by_label("Current password").fill(PASSWORD)
    with mail.record_messages() as outbox:
        page.get_by_role("button", name="Send me a confirmation link").click()
        expect(page.get_by_text("We sent a link to ann.new@example.com.")).to_be_visible()
        background.submit(lambda: None).result(timeout=10)  # the mail thread is done
    [message] = outbox
    link = re.search(r"http://\S+/auth/confirm_email_change/\S+", message.body).group(0)

    page.goto(link)  # what a mail scanner does too: it changes nothing
    expect(page.get_by_role("heading", name="Confirm your new email address")).to_be_visible()
    page.goto("/settings/email")
    expect(page.get_by_text("Your address is ann@example.com")).to_be_visible()
    page.goto(link)
    screenshot(page, "16-confirm-new-email")
    page.get_by_role("button", name="Confirm new address").click()
    expect(page.get_by_text("Your email address is now ann.new@example.com.")).to_be_visible()
    page.goto(link)
    expect(
        page.get_by_text("That email change link is invalid, expired or already used.")
    ).to_be_visible()


def test_17_reply_to_a_post_and_read_it_in_its_thread(page, make_user, screenshot):
    make_user("bob", posts=1)
    make_user("ann")
    log_in(page, "ann")
    page.goto("/explore")
    page.locator("article", has_text="Post 0 by bob").get_by_role("link", name="Reply").click()
    page.get_by_label("Your reply").fill("Lovely, @bob! More at https://example.com/birds")
    page.get_by_role("button", name="Reply", exact=True).click()
    expect(page.get_by_text("Your reply is live.")).to_be_visible()

    # The reply's page: the post it answers above it, and whom it answers.
    earlier = page.locator("section[aria-label='Earlier in the thread']")
    expect(earlier.locator("article")).to_contain_text("Post 0 by bob")
    reply = page.locator("article", has_text="Lovely")
    expect(reply).to_contain_text("Replying to @bob")
    expect(reply.locator(".post-body a.user_popup")).to_have_text("@bob")
    expect(reply.locator(".post-body a[rel~=nofollow]")).to_have_text("example.com/birds")

    # Bob's post lists it among its replies.
    reply.get_by_role("link", name="@bob", exact=True).first.click()
    replies = page.locator("#replies")
    expect(replies.locator("#replies-heading")).to_have_text("1 reply")
    expect(replies.locator("article")).to_contain_text("Lovely, @bob!")
    screenshot(page, "17-thread")


def test_18_like_and_unlike_in_place_by_mouse_and_keyboard(page, make_user, screenshot):
    make_user("bob", posts=2)
    make_user("ann")
    log_in(page, "ann")
    page.goto("/explore")
    page.evaluate("window.notReloaded = true")
    card = page.locator("article", has_text="Post 1 by bob")
    like = card.get_by_role("button", name="Like")
    count = card.locator(".likes-count")
    expect(like).to_have_attribute("aria-pressed", "false")
    like.click()
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(count).to_have_text("1 like")
    screenshot(page, "18-feed-with-counts")

    like.focus()
    page.keyboard.press("Enter")
    expect(like).to_have_attribute("aria-pressed", "false")
    expect(count).to_have_text("0 likes")
    expect(like).to_be_focused()
    page.keyboard.press("Space")
    expect(like).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("window.notReloaded")

    page.reload()  # and the server agrees
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(count).to_have_text("1 like")


def test_19_notifications_arrive_and_the_badge_clears(page, make_user, screenshot):
    make_user("bob", posts=1)
    make_user("ann")
    log_in(page, "ann")
    page.goto("/user/bob")
    page.locator("section[aria-label=Profile]").get_by_role("button", name="Follow").click()
    page.goto("/")
    page.get_by_label("Say something").fill("Say hello to @bob")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_text("Your post is live.")).to_be_visible()
    mention = page.locator("article", has_text="Say hello").locator(".post-body a.user_popup")
    expect(mention).to_have_attribute("href", "/user/bob")
    page.locator("article", has_text="Post 0 by bob").get_by_role("button", name="Like").click()
    expect(page.locator("article", has_text="Post 0 by bob").locator(".likes-count")).to_have_text(
        "1 like"
    )
    log_out(page)

    log_in(page, "bob")
    badge = page.locator("nav .notifications-badge")
    expect(badge).to_have_text("3 unread")
    page.locator("nav").get_by_role("link", name=re.compile("^Notifications")).click()
    items = page.locator("ul.notifications > li")
    expect(items).to_have_count(3)
    expect(items.nth(0)).to_contain_text("ann liked your post.")
    expect(items.nth(1)).to_contain_text("ann mentioned you.")
    expect(items.nth(2)).to_contain_text("ann followed you.")
    expect(badge).to_have_count(0)
    screenshot(page, "19-notifications")
    page.reload()
    expect(page.get_by_text("New", exact=True)).to_have_count(0)


def test_20_new_posts_and_notifications_arrive_without_a_reload(
    page, browser, server, moment_js, make_user, screenshot
):
    make_user("ann", about_me="Ann posts from the hills.", posts=1)
    make_user("bob", posts=1)
    log_in(page, "bob")
    page.goto("/user/ann")
    page.locator("section[aria-label=Profile]").get_by_role("button", name="Follow").click()
    page.goto("/")
    page.evaluate("window.notReloaded = true")
    top = page.locator("article").first
    top_before = top.bounding_box()

    # The tutorial's second window: ann, in a browser of her own, posts.
    ann_context = new_context(browser, server, moment_js)
    try:
        ann = ann_context.new_page()
        log_in(ann, "ann")
        ann.get_by_label("Say something").fill("Fresh from the hills")
        ann.get_by_role("button", name="Post", exact=True).click()
        expect(ann.get_by_text("Your post is live.")).to_be_visible()

        show = page.get_by_role("button", name="Show 1 new post")
        expect(show).to_be_visible()  # within the check interval (1 s here)
        expect(page.locator(".live-updates")).to_have_attribute("aria-live", "polite")
        assert top.bounding_box() == top_before, "the button moved what the reader was reading"
        screenshot(page, "20-new-post-waiting")

        page.locator("body").focus()
        tab_to(page, show)  # the keyboard reaches it
        page.keyboard.press("Enter")
        fresh = page.locator("article", has_text="Fresh from the hills")
        expect(fresh).to_be_focused()  # the reader goes on from the new post
        expect(page.locator("article").first).to_have_id(fresh.get_attribute("id"))
        expect(show).to_have_count(0)
        expect(fresh.locator("time")).to_have_text(RELATIVE_TIME)  # rendered by moment.js
        expect(fresh.get_by_role("button", name=re.compile("^Like"))).to_be_visible()

        fresh.locator("a.user_popup").first.hover()  # its hover card works like any other
        card = page.locator(".popover")
        expect(card).to_contain_text("Ann posts from the hills.")
        screenshot(page, "20-new-post-shown")
        page.mouse.move(5, 5)
        expect(card).to_be_hidden()

        # ann likes bob's post: bob's badge comes by itself.
        badge = page.locator("nav .notifications-badge")
        expect(badge).to_have_count(0)
        ann.goto("/user/bob")
        ann.locator("article", has_text="Post 0 by bob").get_by_role("button", name="Like").click()
        expect(badge).to_have_text("1 unread")
        notifications = page.locator("nav").get_by_role("link", name="Notifications 1 unread")
        expect(notifications).to_be_visible()
        assert page.evaluate("window.notReloaded"), "the page was reloaded"
    finally:
        ann_context.close()


def tab_is(page: Page, visibility: str) -> None:
    """As if the reader switched to another tab ("hidden") and back ("visible")."""
    page.evaluate(
        """visibility => {
          const value = { value: visibility, configurable: true };
          Object.defineProperty(document, "visibilityState", value);
          document.dispatchEvent(new Event("visibilitychange"));
        }""",
        visibility,
    )


def test_21_replies_arrive_at_the_end_of_a_thread_and_checks_pause_and_back_off(
    page, make_user, screenshot
):
    make_user("ann", posts=1)
    log_in(page, "ann")
    page.goto("/explore")
    page.locator("article").first.locator("a.text-body-secondary").first.click()  # the thread
    expect(page.get_by_role("heading", name="0 replies")).to_be_visible()
    thread = page.url
    page.evaluate("window.notReloaded = true")

    def reply(body: str) -> None:
        """The same reader replies elsewhere (with the page's cookies, not in a tab: a second
        tab would take the page's place as the visible one)."""
        form = page.request.get(thread).text()
        fields = dict(HIDDEN_FORM_FIELD.findall(form))
        response = page.request.post(
            f"{thread}/reply", form=fields | {"body": body}, max_redirects=0
        )
        assert response.status == 302, response.status

    # A hidden tab asks nothing, and catches up as soon as it is shown.
    checks: list[str] = []
    page.on("request", lambda request: "/live/check" in request.url and checks.append(request.url))
    tab_is(page, "hidden")
    page.wait_for_timeout(1500)  # the check that was due
    checks.clear()
    reply("A reply written while the tab was hidden")
    page.wait_for_timeout(2500)
    assert checks == [], "a hidden tab went on checking"
    tab_is(page, "visible")
    show = page.get_by_role("button", name="Show 1 new post")
    expect(show).to_be_visible(timeout=1000)  # at once, not after an interval
    show.click()
    new_reply = page.locator("#replies article", has_text="while the tab was hidden")
    expect(new_reply).to_be_visible()
    expect(page.get_by_role("heading", name="1 reply", exact=True)).to_be_visible()
    screenshot(page, "21-reply-shown")
    checks.clear()
    page.wait_for_timeout(3500)
    assert len(checks) <= 4, f"{len(checks)} checks in 3.5 s at one a second"

    # The server fails: the checks space out, then resume by themselves.
    page.route("**/live/check**", lambda route: route.fulfill(status=503, body="down"))
    checks.clear()
    page.wait_for_timeout(8000)  # at 1 s: checks at about 1, 2, 4 and 8 s after the first
    assert 2 <= len(checks) <= 4, f"{len(checks)} checks in 8 s while failing"
    page.unroute("**/live/check**")
    reply("A reply after the outage")
    expect(page.get_by_role("button", name="Show 1 new post")).to_be_visible(timeout=20_000)
    assert page.evaluate("window.notReloaded"), "the page was reloaded"


def test_22_more_new_posts_than_a_page_open_the_feeds_first_page(page, make_user):
    make_user("ann", posts=1)
    page.goto("/explore")
    page.evaluate("window.notReloaded = true")
    make_user("bob", posts=12)  # more than the 10 a page holds
    page.get_by_role("button", name="Show 12 new posts").click()
    expect(page.locator("article")).to_have_count(10)
    expect(page.locator("article").first).to_contain_text("Post 11 by bob")  # the newest
    assert not page.evaluate("window.notReloaded === true"), "the first page opened afresh"


def test_23_search_from_the_navbar_open_a_tag_and_follow_a_suggestion(
    app, page, make_user, screenshot
):
    for name in ("ann", "bob", "carol"):
        make_user(name)
    with app.test_request_context():
        ann, bob, carol = (db.session.scalar(sa.select(User).filter_by(username=n)) for n in (
            "ann", "bob", "carol"
        ))  # fmt: skip
        bob.publish("Tomatoes love the #Summer sun")
        carol.publish("Summer tomatoes, <b>sliced</b>")
        carol.publish("Nothing about gardens")
        ann.follow(bob)
        bob.follow(carol)  # so ann is offered carol
        db.session.commit()
    log_in(page, "ann")

    search = page.get_by_role("search").get_by_label("Search")
    search.fill("tomatoes summer")
    search.press("Enter")
    expect(page.get_by_role("heading", name="Search", exact=True)).to_be_visible()
    results = page.locator("article")
    expect(results).to_have_count(2)
    expect(page.locator(".search-total")).to_have_text("2 posts")
    expect(results.first.locator("mark").first).to_be_visible()
    expect(page.locator("article", has_text="sliced").locator(".post-body")).to_contain_text(
        "<b>sliced</b>"  # text, never markup
    )
    screenshot(page, "23-search")

    # People: by how their name begins.
    page.get_by_role("link", name="People").click()
    expect(page.locator(".search-total")).to_be_empty()
    page.get_by_label("Search for").fill("@car")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".list-group-item", has_text="carol")).to_be_visible()

    # A tag, from a result.
    page.get_by_label("Search for").fill("tomatoes")
    page.get_by_label("Search for").press("Enter")
    page.get_by_role("link", name="Posts").click()
    page.get_by_role("link", name="#Summer").click()
    expect(page.get_by_role("heading", name="#Summer")).to_be_visible()
    expect(page.get_by_text("1 post", exact=True)).to_be_visible()

    # Who to follow, on the home timeline.
    page.goto("/")
    suggestions = page.get_by_role("region", name="Who to follow")
    expect(suggestions).to_contain_text("carol")
    suggestions.get_by_role("button", name="Follow").click()
    expect(page.get_by_text("You are following carol.")).to_be_visible()
    expect(page.get_by_role("region", name="Who to follow")).to_have_count(0)
    expect(page.locator("article", has_text="Summer tomatoes")).to_be_visible()  # on the timeline


def test_24_report_a_post_hide_it_as_a_moderator_and_suspend_its_author_as_an_admin(
    app, page, make_user, screenshot
):
    for name in ("ann", "mod", "root", "spammer"):
        make_user(name)
    with app.test_request_context():
        users = {user.username: user for user in db.session.scalars(sa.select(User))}
        users["mod"].role, users["root"].role = Role.MODERATOR, Role.ADMIN
        users["spammer"].publish("Cheap watches at example.com #deals")
        users["spammer"].publish("More cheap watches")
        db.session.commit()

    # ann reports the post from explore.
    log_in(page, "ann")
    page.goto("/explore")
    spam = page.locator("article", has_text="example.com")
    spam.get_by_role("link", name="Report").click()
    expect(page.get_by_role("heading", name="Report a post by spammer")).to_be_visible()
    page.get_by_label("Spam").check()
    page.get_by_label("Anything the moderators should know").fill("Third one today")
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_text("your report was sent to the moderators")).to_be_visible()
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)
    log_out(page)

    # A moderator finds it in the queue and hides the post.
    log_in(page, "mod")
    page.get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Reports").click()
    entry = page.locator("article.report-item")
    expect(entry).to_contain_text("Cheap watches")
    expect(entry).to_contain_text("ann: spam — “Third one today”")
    expect(entry.locator(".suspend-form")).to_have_count(0)  # an admin's action
    entry.get_by_label("Reason for hiding").fill("Advertising")
    entry.get_by_role("button", name="Hide post").click()
    expect(page.get_by_text("The post by spammer is hidden.")).to_be_visible()
    expect(page.get_by_text("No open reports.")).to_be_visible()
    page.goto("/explore")
    expect(page.locator("article", has_text="example.com")).to_have_count(0)
    log_out(page)

    # An admin suspends the author for a week.
    log_in(page, "root")
    page.goto("/admin/users")
    page.get_by_label("Username or email begins with").fill("spam")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="spammer").click()
    page.get_by_label("Reason for suspending").fill("Spam, again")
    page.get_by_label("Days").fill("7")
    page.get_by_role("button", name="Suspend spammer").click()
    expect(page.get_by_text("spammer is suspended.")).to_be_visible()
    expect(page.locator(".account-status")).to_contain_text("Spam, again")
    screenshot(page, "24-moderation")
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Audit log").click()
    entries = page.locator(".audit-entries li")
    expect(entries).to_have_count(2)
    expect(entries.first).to_contain_text("root suspended spammer")
    expect(entries.last).to_contain_text("mod hid a post")
    page.goto("/user/spammer")
    expect(page.locator(".suspended-badge")).to_be_visible()
    expect(page.locator("article")).to_have_count(0)
    log_out(page)

    # The suspended author cannot sign in, and is told why and until when.
    log_in(page, "spammer")
    expect(page.get_by_text("Your account is suspended until")).to_be_visible()
    expect(page.get_by_text("Reason: Spam, again")).to_be_visible()


def shown_picture(image: Locator) -> str:
    """The uploaded picture an avatar shows (its digest), once the browser has drawn it."""
    expect(image).to_have_attribute("src", re.compile(r"^/avatar/[0-9a-f]{32}-\d+\.webp$"))
    assert decoded_width(image) > 0
    return image.get_attribute("src").split("/")[-1].split("-")[0]


def test_25_upload_an_avatar_and_see_it_in_the_navbar_a_post_and_the_hover_card(page, screenshot):
    register(page, "ann")
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Avatar").click()

    # A script dressed as a picture is refused, and the page says why.
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    picker = page.get_by_label("Upload a picture")
    picker.set_input_files({"name": "me.png", "mimeType": "image/png", "buffer": svg})
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_text("That file is not a PNG, JPEG, WebP or GIF picture.")).to_be_visible()
    expect(page.get_by_label("Upload a picture")).to_have_attribute("aria-invalid", "true")

    picker = page.get_by_label("Upload a picture")
    picker.set_input_files(
        {"name": "me.png", "mimeType": "image/png", "buffer": picture_file(colour=ORANGE)}
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_text("Your new picture is your avatar now.")).to_be_visible()
    expect(page.get_by_label("My uploaded picture")).to_be_checked()
    digest = shown_picture(page.get_by_role("img", name="Your uploaded picture"))
    screenshot(page, "25-avatar-settings")

    assert shown_picture(page.locator("nav img.navbar-avatar")) == digest
    page.goto("/")
    page.get_by_label("Say something").fill("My new face")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_text("Your post is live.")).to_be_visible()
    page.goto("/explore")
    post = page.locator("article", has_text="My new face")
    assert shown_picture(post.locator("img.avatar")) == digest
    post.locator("a.user_popup").hover()
    card = page.locator(".popover")
    expect(card).to_be_visible()
    assert shown_picture(card.locator("img.avatar")) == digest
    screenshot(page, "25-avatar-hover-card")

    # Deleted, the picture gives way to the drawn avatar everywhere.
    page.goto("/settings/avatar")
    page.get_by_role("button", name="Delete my picture").click()
    expect(page.get_by_text("Your picture has been deleted.")).to_be_visible()
    expect(page.locator("nav img.navbar-avatar")).to_have_attribute(
        "src", re.compile(r"^/avatar/[0-9a-f]{32}\.svg$")
    )
