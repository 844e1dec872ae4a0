"""Asset URLs name their content (app/assets.py): a new version of a file is a new URL."""

import hashlib
import os
import re
from pathlib import Path

import pytest
from flask import url_for

from app.assets import VERSION_LENGTH


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:VERSION_LENGTH]


def test_every_asset_a_page_links_to_carries_the_digest_of_what_it_serves(app, client):
    html = client.get("/").text
    links = re.findall(r'(?:href|src)="(/(?:static|bootstrap/static)/[^"]+)"', html)
    assert any(link.startswith("/bootstrap/") for link in links), links
    assert any(link.startswith("/static/js/") for link in links), links
    for link in links:
        versioned = re.fullmatch(rf"([^?]+)\?v=([0-9a-f]{{{VERSION_LENGTH}}})", link)
        assert versioned, f"{link} names no version"
        path, version = versioned.groups()
        with client.get(link) as served:
            assert served.status_code == 200, link
            content = served.get_data()
        assert hashlib.sha256(content).hexdigest()[:VERSION_LENGTH] == version, path


@pytest.fixture
def assets_in(app, tmp_path):
    """The app's static files are read from a folder of the test's own."""
    (tmp_path / "static").mkdir()
    folder, app.static_folder = app.static_folder, str(tmp_path / "static")
    yield tmp_path / "static"
    app.static_folder = folder


def rewritten(script: Path, text: str) -> None:
    script.write_text(text)
    later = os.stat(script).st_mtime_ns + 1_000_000_000  # however coarse the file system's clock
    os.utime(script, ns=(later, later))


def test_in_development_a_changed_file_gets_a_new_url(app, assets_in):
    app.jinja_env.auto_reload = True  # as with FLASK_DEBUG (make run), or TEMPLATES_AUTO_RELOAD
    script = assets_in / "site.js"
    script.write_text("let version = 1;")
    with app.test_request_context():
        first = url_for("static", filename="site.js")
        assert first == f"/static/site.js?v={digest(script)}"
        assert url_for("static", filename="site.js") == first  # the same while unchanged
        rewritten(script, "let version = 22;")
        assert url_for("static", filename="site.js") == f"/static/site.js?v={digest(script)}"
        assert url_for("static", filename="site.js") != first


def test_in_production_a_file_is_looked_at_once_per_process(app, assets_in, monkeypatch):
    assert not app.jinja_env.auto_reload
    script = assets_in / "release.js"
    script.write_text("let release = 1;")
    with app.test_request_context():
        first = url_for("static", filename="release.js")
        assert first == f"/static/release.js?v={digest(script)}"
        looks = []
        monkeypatch.setattr(os, "stat", lambda path: looks.append(path))
        assert [url_for("static", filename="release.js") for _ in range(3)] == [first] * 3
        assert looks == []  # a release's files change with its workers, which then restart


@pytest.mark.parametrize("filename", ["missing.js", "folder", "../outside.js", "a\0.js", 5])
def test_a_url_for_no_file_is_left_as_it_is(app, assets_in, filename):
    (assets_in / "folder").mkdir()
    (assets_in.parent / "outside.js").write_text("not an asset")
    with app.test_request_context():
        assert "?v=" not in url_for("static", filename=filename)


def test_a_version_given_is_kept(app):
    with app.test_request_context():
        assert (
            url_for("static", filename="css/app.css", v="pinned") == "/static/css/app.css?v=pinned"
        )
