"""Accessibility in the HTML the server sends; tests/e2e/test_accessibility.py checks every
page in the browser with axe-core and the Nu HTML Checker."""

import re

import pytest

from tests.helpers import post_form


def html_of(response) -> str:
    return response.get_data(as_text=True)


def test_a_field_with_errors_is_invalid_and_described_by_each_of_its_messages(client):
    html = html_of(client.post("/auth/register", data={"username": "x", "email": "nope"}))
    fields = dict(re.findall(r'<input [^>]*aria-describedby="([^"]+)"[^>]*name="(\w+)"', html))
    fields = {name: ids.split() for ids, name in fields.items()}
    assert set(fields) == {"username", "email", "password", "confirm_password"}
    for name, ids in fields.items():
        field = re.search(rf'<input [^>]*name="{name}"[^>]*>', html).group(0)
        assert 'aria-invalid="true"' in field
        for id in ids:
            message = re.search(
                rf'<div class="invalid-feedback d-block" id="{id}">([^<]+)</div>', html
            )
            assert message and message.group(1).strip(), f"{name}: no message {id}"


def test_a_field_with_several_errors_names_them_all(client):
    # Too short and not a username at all: two messages on one field.
    html = html_of(client.post("/auth/register", data={"username": "!"}))
    field = re.search(r'<input [^>]*name="username"[^>]*>', html).group(0)
    ids = re.search(r'aria-describedby="([^"]+)"', field).group(1).split()
    assert ids == ["username-error-1", "username-error-2"]
    assert all(f'id="{id}"' in html for id in ids)


def test_fields_without_errors_carry_no_error_attributes(client):
    html = html_of(client.get("/auth/register"))
    assert "aria-invalid" not in html and "aria-describedby" not in html


@pytest.mark.parametrize(
    "path", ["/auth/login", "/auth/login?next=%2Fsettings%2Fprofile", "/auth/register"]
)
def test_forms_post_back_to_their_own_address(client, path):
    html = html_of(client.get(path))
    assert 'action=""' not in html
    assert f'<form method="post" action="{path}" class="form">' in html


def test_error_pages_have_the_code_and_name_as_their_one_heading(client):
    html = html_of(client.get("/no/such/page"))
    [heading] = re.findall(r"<h1\b.*?</h1>", html, flags=re.S)
    assert re.sub(r"<[^>]+>|\s+", " ", heading).split() == ["404", "Not", "Found"]


def test_the_post_page_has_a_level_one_heading_and_cards_have_headings(client, login):
    login("ann")
    client.post("/", data=post_form("Hello"))
    home = html_of(client.get("/"))
    assert '<h3 class="visually-hidden">Post by ann</h3>' in home  # under "Your timeline"
    assert '<h2 class="visually-hidden">Post by ann</h2>' in html_of(client.get("/explore"))
    post = html_of(client.get("/post/1"))
    assert re.findall(r"<h1\b[^>]*>([^<]*)</h1>", post) == ["Post by ann"]


def test_the_delete_dialog_is_a_dialog_before_it_opens(client, login):
    login("ann")
    html = html_of(client.get("/explore"))
    dialog = re.search(r'<div class="modal fade" id="delete-post-modal"[^>]*>', html).group(0)
    assert 'role="dialog"' in dialog and 'aria-labelledby="delete-post-title"' in dialog


def test_every_page_has_a_description_and_some_their_own(client, make_user):
    make_user("bob", about_me="Bob writes about birds.", posts=1)

    def description(path: str) -> str:
        return re.search(r'<meta name="description" content="([^"]*)">', html_of(client.get(path)))[
            1
        ]

    default = description("/")
    assert default.startswith("Microblog")
    assert description("/no/such/page") == default
    assert description("/user/bob") == "bob on Microblog: Bob writes about birds."
    assert description("/post/1") == "bob on Microblog: Post 0 by bob"
    assert description("/explore") != default
