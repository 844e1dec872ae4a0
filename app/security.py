"""Security headers on every response, and the per-request nonce scripts carry."""

import functools
import secrets

from flask import Flask, Response, current_app, g

from app.avatars import GRAVATAR_ORIGIN, gravatar_enabled


def csp_nonce() -> str:
    """This response's script nonce; the same value for every call in one request."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


# Where each response's nonce goes in the policy, which is otherwise the same for every one.
NONCE_SLOT = "<nonce>"


def content_security_policy() -> str:
    return policy_with_nonce_slot(gravatar_enabled()).replace(NONCE_SLOT, csp_nonce())


@functools.cache
def policy_with_nonce_slot(gravatar: bool) -> str:
    """The policy, built once per setting rather than for every response."""
    # The nonce alone: every script tag carries it (moment.js from its CDN too, pinned by its
    # integrity hash). A host in this list would admit every script on that host, including
    # libraries known to turn an injected attribute into running code.
    scripts = [f"'nonce-{NONCE_SLOT}'"]
    images = ["'self'", "data:"]  # Bootstrap draws its small icons as data: SVGs
    # Any page may show the avatar of a user who chose Gravatar (hover cards arrive later).
    if gravatar:
        images.append(GRAVATAR_ORIGIN)
    directives = {
        "default-src": ["'self'"],
        "script-src": scripts,
        "style-src": ["'self'"],
        "img-src": images,
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def is_private() -> bool:
    """Whether the response depended on who is signed in, or carries a CSRF token (a form).

    Only users loaded while answering count: a stylesheet never loads one, and an answer given
    while the database is down must not try.
    """
    user = g.get("_login_user")
    csrf_field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    return (user is not None and user.is_authenticated) or csrf_field in g


def revalidated_privately(response: Response) -> bool:
    """Whether the view chose ``private, no-cache``: a copy for this browser alone, which it
    must check with the server (ETag) before each use. Only a view whose answer carries no
    form token and whose ETag names the viewer may (the hover card)."""
    cache_control = response.cache_control
    return bool(cache_control.private and cache_control.no_cache) and "ETag" in response.headers


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    # A view may set a stricter policy of its own (the avatars, which allow nothing).
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"  # frame-ancestors for browsers without CSP 2
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")  # a view may tighten
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), geolocation=(), microphone=(), payment=()"
    if is_private() and not revalidated_privately(response):
        # Neither a shared proxy nor the browser's history may keep a copy: the next person at
        # a shared computer must not page back into someone's account or reuse their form.
        headers["Cache-Control"] = "no-store"
    hsts_seconds = current_app.config["HSTS_SECONDS"]
    if hsts_seconds:
        headers["Strict-Transport-Security"] = f"max-age={hsts_seconds}; includeSubDomains"
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
    app.add_template_global(csp_nonce)
