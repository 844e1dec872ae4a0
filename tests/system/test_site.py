"""The deploy/ nginx site as clients meet it: HTTPS only, assets from disk, one request id from
nginx to the app's log."""

import io
import json
import re
import uuid

import pytest
from PIL import Image

from tests.system.clients import Browser
from tests.system.conftest import wait_until

pytestmark = pytest.mark.system


def test_the_site_redirects_to_https_serves_assets_itself_and_passes_on_the_request_id(
    start_stack, report
):
    stack = start_stack()
    client = Browser(stack.base_url, stack.ca, "127.0.9.1", stack.recorder)

    plain = client.get(f"{stack.http_url}/explore?page=2")
    assert plain.status_code == 301
    assert plain.headers["Location"] == f"{stack.base_url}/explore?page=2"

    # Every asset a page links to, fetched as a browser would after the page: each URL names
    # its version (app/assets.py), so it is kept for good.
    home = client.get("/").text
    assets = re.findall(r'(?:href|src)="(/(?:static|bootstrap/static)/[^"?]+\?v=\w+)"', home)
    assert any(a.startswith("/bootstrap/static/") for a in assets), assets
    marker = uuid.uuid4().hex  # names these requests in nginx's log
    for url in assets:
        asset = client.get(f"{url}&trace={marker}", headers={"Accept-Encoding": "gzip"})
        assert asset.status_code == 200, url
        assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert asset.headers["X-Content-Type-Options"] == "nosniff"
        if url.split("?")[0].endswith((".css", ".js")):
            assert asset.headers["Content-Encoding"] == "gzip", url
    unversioned = client.get(f"{assets[0].split('?')[0]}?trace={marker}")
    assert unversioned.headers["Cache-Control"] == "public, no-cache"  # checked each time
    # Only the app's pages went to an app host; nginx read the assets from disk.
    assert stack.upstreams_of(marker, len(assets) + 1) == ["-"] * (len(assets) + 1)

    # Pages carry CSRF tokens: never compressed (BREACH).
    page = client.get("/auth/login", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200 and "Content-Encoding" not in page.headers

    # The id the client is given is nginx's, whatever the client claimed, and the app logs the
    # request under it with the client's own address.
    forged = client.get("/explore", headers={"X-Request-ID": "f" * 32})
    request_id = forged.headers["X-Request-ID"]
    assert request_id != "f" * 32
    (host,) = stack.hosts

    def logged() -> list[dict]:
        lines = [line for line in host.log.read_text().splitlines() if request_id in line]
        return [json.loads(line) for line in lines]

    wait_until(lambda: bool(logged()), 5, f"the app to log request {request_id}")
    (entry,) = logged()
    assert (entry["path"], entry["status"], entry["client"]) == ("/explore", 200, "127.0.9.1")
    assert len(stack.logged_by_nginx(f"rid={request_id} ", 1)) == 1

    too_large = client.request("POST", "/auth/login", data={"username": "x" * 300_000})
    assert too_large.status_code == 413
    report(
        f"nginx site: http -> {plain.headers['Location']}; {len(assets)} assets, gzip, "
        f"'{asset.headers['Cache-Control']}', not proxied; request id {request_id} in the app log; "
        f"a 300 kB body: {too_large.status_code}"
    )


def test_an_avatar_uploads_through_nginx_is_served_for_good_and_a_huge_one_is_told_why(
    start_stack, report
):
    stack = start_stack()
    client = Browser(stack.base_url, stack.ca, "127.0.9.2", stack.recorder)
    client.register("ann")

    def upload(data: bytes):
        action, fields = client.form("/settings/avatar", "avatar")
        fields.pop("avatar", None)
        return client.request(
            "POST", action, data=fields, files={"avatar": ("me.png", data, "image/png")}
        )

    picture = io.BytesIO()
    Image.new("RGB", (640, 480), (240, 140, 20)).save(picture, "PNG")
    assert upload(picture.getvalue()).status_code == 302
    page = client.get("/settings/avatar").text
    (url,) = set(re.findall(r'src="(/avatar/[0-9a-f]{32}-64\.webp)"', page))
    served = client.get(url)
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/webp"
    assert "immutable" in served.headers["Cache-Control"]
    assert served.headers["X-Content-Type-Options"] == "nosniff"

    # Over nginx's limit: nginx refuses the body, and the app's page says what went wrong.
    huge = upload(b"\0" * 11 * 2**20)
    assert huge.status_code == 413
    assert "That file is over 10 MB. Please upload a smaller picture." in huge.text
    report(f"avatar through nginx: uploaded, {url} served 'immutable'; 11 MB: 413 with the form")
