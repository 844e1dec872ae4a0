"""Probes for load balancers and process managers: is the process up, and can it serve?

Neither loads the user or touches the session (see record_visit in app/main/routes.py), so a
probe sets no cookie and writes no last_seen; neither is rate-limited, so a busy prober is never
turned away.
"""

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify
from limits.storage import MemoryStorage

from app.extensions import db, limiter

bp = Blueprint("health", __name__)

# Requests that are probes, not visits: they must not load the user or touch the session, and a
# healthy one is not worth a log line (app/main/routes.py, app/logs.py).
PROBE_ENDPOINTS = {"health.healthz", "health.readyz"}
# Failures here are restarts and network blips: worth asking again soon.
RETRY_AFTER_SECONDS = 5


@bp.get("/healthz")
@limiter.exempt
def healthz():
    return probe_response({"status": "ok"}, 200)


@bp.get("/readyz")
@limiter.exempt
def readyz():
    checks = {"database": database_answers()}
    ready = checks["database"]
    if not isinstance(limiter.storage, MemoryStorage):
        checks["redis"] = limiter.storage.check()
        # With the in-memory fallback, limits keep working (per process) while Redis is away:
        # the app still serves, so taking every host out of the balancer would be the outage.
        fallback = current_app.config.get("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", False)
        ready = ready and (checks["redis"] or fallback)
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": {name: "ok" if passed else "failed" for name, passed in checks.items()},
    }
    response = probe_response(body, 200 if ready else 503)
    if not ready:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def database_answers() -> bool:
    # The engine's connect timeout (DATABASE_CONNECT_TIMEOUT) bounds the wait when it is down.
    try:
        with db.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as error:
        current_app.logger.warning("Readiness check: the database does not answer: %s", error)
        return False
    return True


def probe_response(body: dict, status: int):
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"  # a cached "ok" would hide an outage
    return response
