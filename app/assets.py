"""Asset URLs that name their content: ``url_for("static", filename=...)``, and the same for a
blueprint's static files (Bootstrap-Flask's), carries ``?v=`` and a digest of the file.

A new version of a file is then a new URL: nginx lets browsers keep each one for good
(deploy/nginx-microblog.conf.template), and a page served after a deploy never runs with the
script or style sheet of the one before, kept from an earlier visit.
"""

import functools
import hashlib
import os
import stat

from flask import Flask, current_app
from werkzeug.security import safe_join

VERSION_LENGTH = 12  # hex digits of SHA-256: enough that two versions of a file never meet


def init_app(app: Flask) -> None:
    app.url_defaults(add_version)


def add_version(endpoint: str, values: dict) -> None:
    if endpoint == "static":
        folder = current_app.static_folder
    elif endpoint.endswith(".static"):
        blueprint = current_app.blueprints.get(endpoint.removesuffix(".static"))
        folder = blueprint.static_folder if blueprint else None
    else:
        return
    filename = values.get("filename")
    if "v" in values or not folder or not isinstance(filename, str):
        return
    if current_app.jinja_env.auto_reload:  # development: files change under a running app
        version = version_on_disk(folder, filename)
    else:  # a release's files are its own until its workers restart
        version = version_of_release(folder, filename)
    if version:
        values["v"] = version


@functools.lru_cache(maxsize=1024)
def version_of_release(folder: str, filename: str) -> str | None:
    """version_on_disk, looked up once per process: a page links to several assets, and a
    look at the disk for each would cost a page about as much as building all its URLs."""
    return version_on_disk(folder, filename)


def version_on_disk(folder: str, filename: str) -> str | None:
    """The digest of the file, or None when there is no such file (its URL is left as is,
    for Flask to refuse or to serve as it would)."""
    path = safe_join(folder, filename)
    if path is None:
        return None
    try:
        found = os.stat(path)
        if not stat.S_ISREG(found.st_mode):
            return None
        # Read once per version: a file changed on disk is read again.
        return digest_of(path, found.st_mtime_ns, found.st_size)
    except (OSError, ValueError):  # gone meanwhile (a deploy), or a name no file can have
        return None


@functools.lru_cache(maxsize=1024)
def digest_of(path: str, mtime_ns: int, size: int) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()[:VERSION_LENGTH]
