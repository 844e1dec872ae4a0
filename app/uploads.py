"""Requests that carry a file: the few views that take one accept more than every other view.

The app's ``MAX_CONTENT_LENGTH`` is a few forms' worth. A view marked ``@accepts_upload(key)``
accepts a request of up to its file's limit (``config[key]``) and a form's envelope around it.
The limit must hold before CSRF protection reads the form, ahead of any view code, so the
request itself looks it up from the view its URL matched.

Such a view also gets a larger ``MAX_FORM_MEMORY_SIZE``: Werkzeug's multipart parser checks
each read of a file (64 KiB) and the few bytes it held back from the last one against that
limit too, so at the app's 64 KiB nearly every real file would be refused.
"""

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Request, current_app
from flask_login import current_user

View = TypeVar("View", bound=Callable)
# Room for the multipart envelope, the CSRF token and the submit button around the file.
FORM_ENVELOPE = 64 * 1024
UPLOAD_FORM_MEMORY = 1024 * 1024


def accepts_upload(limit_key: str) -> Callable[[View], View]:
    def mark(view: View) -> View:
        view.upload_limit_key = limit_key
        return view

    return mark


def upload_request_limit(limit: int) -> int:
    """The largest request that carries a file of ``limit`` bytes (nginx's limit too)."""
    return limit + FORM_ENVELOPE


class UploadRequest(Request):
    @property
    def upload_limit_key(self) -> str | None:
        """The view's file limit, for a signed-in user only: a visitor, whom the view turns
        away, gets no room to send megabytes that would be read first."""
        view = current_app.view_functions.get(self.endpoint) if self.endpoint else None
        limit_key = getattr(view, "upload_limit_key", None)
        if limit_key is None or not current_user.is_authenticated:
            return None
        return limit_key

    @property
    def max_content_length(self) -> int | None:
        if (limit_key := self.upload_limit_key) is None:
            return super().max_content_length
        return upload_request_limit(current_app.config[limit_key])

    @property
    def max_form_memory_size(self) -> int | None:
        if self.upload_limit_key is None:
            return super().max_form_memory_size
        return UPLOAD_FORM_MEMORY


def init_app(app: Flask) -> None:
    app.request_class = UploadRequest
