"""Security headers on every response, and the per-request nonce scripts carry."""

import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g

from app.avatars import GRAVATAR_ORIGIN, gravatar_enabled


def csp_nonce() -> str:
    """This response's script nonce; the same value for every call in one request."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def content_security_policy() -> str:
    config = current_app.config
    scripts = ["'self'", f"'nonce-{csp_nonce()}'"]
    moment_origin = origin_of(config["MOMENT_JS_URL"])
    if moment_origin:
        scripts.append(moment_origin)
    images = ["'self'", "data:"]  # Bootstrap draws its small icons as data: SVGs
    # Any page may show the avatar of a user who chose Gravatar (hover cards arrive later).
    if gravatar_enabled():
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


def origin_of(url: str) -> str | None:
    """``https://host[:port]`` of an absolute URL; None for a path on this site."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy()
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"  # frame-ancestors for browsers without CSP 2
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")  # a view may tighten
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), geolocation=(), microphone=(), payment=()"
    hsts_seconds = current_app.config["HSTS_SECONDS"]
    if hsts_seconds:
        headers["Strict-Transport-Security"] = f"max-age={hsts_seconds}; includeSubDomains"
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
    app.add_template_global(csp_nonce)
