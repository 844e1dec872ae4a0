"""gunicorn settings: `make serve`, or `gunicorn -c gunicorn.conf.py microblog:app`.

Read from the environment (and .env, which config.py loads), like the app's own settings. Only
config.py is imported here, not the app: whatever the master imports, its workers inherit on
fork, and a reload (SIGHUP) would then keep serving the old code.
"""

import os

from config import ProductionConfig, env_int, resolve_config

app_config = resolve_config(None)  # the class create_app() will use: MICROBLOG_CONFIG


def default_workers() -> int:
    # The cores this process may use (a container's share, not the host's), where the OS says.
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:
        cores = os.cpu_count() or 1
    # gunicorn's advice for sync workers, capped: each worker keeps up to DATABASE_POOL_SIZE +
    # DATABASE_MAX_OVERFLOW (10) database connections, and PostgreSQL admits 100 by default.
    return min(2 * cores + 1, 8)


# Loopback only: nginx on this host is the way in. (gunicorn's own default with $PORT set is
# 0.0.0.0:$PORT, which would let clients around the proxy and its headers.) Another address,
# or unix:/path, is an explicit GUNICORN_BIND; several are comma-separated.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
workers = env_int("WEB_CONCURRENCY", default_workers())
# Sync workers, one request at a time each: nginx buffers slow clients, so a worker is busy only
# while the app works. They close each connection after its response, so keepalive does not
# apply to them.
worker_class = "sync"
# Longer than the database's statement timeout (DATABASE_STATEMENT_TIMEOUT_MS, 15 s): a slow
# query ends in the app's own error page, not in a killed worker.
timeout = 30
# On SIGTERM or SIGHUP, requests in flight get this long to finish (systemd's TimeoutStopSec
# must be longer; its default is 90 s).
graceful_timeout = 30
# Not preloaded: each worker builds the app itself after the fork, so no database connection,
# Redis client or socket is ever shared between processes, and SIGHUP loads new code.
preload_app = False
# The control socket (gunicornc) would go under $HOME, where several masters clash.
control_socket_disable = True

# gunicorn takes the scheme from X-Forwarded-Proto only from these peers. The app believes
# X-Forwarded-* only when TRUSTED_PROXIES says proxies are in front (ProxyFix, app/__init__.py),
# so without them nobody is believed here either; with them, the proxies' addresses
# (FORWARDED_ALLOW_IPS, gunicorn's own variable; default: a proxy on this host).
if app_config.TRUSTED_PROXIES:
    forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
    if "*" in forwarded_allow_ips.split(","):
        raise RuntimeError(
            "FORWARDED_ALLOW_IPS=* would believe X-Forwarded-* from any client: "
            "list the proxies' addresses or networks instead, e.g. 10.0.0.0/24."
        )
else:
    forwarded_allow_ips = ""

# With LOG_FORMAT=json (production's default) the app writes one JSON line per request itself
# (app/logs.py), with the request id, user and real client address gunicorn does not know, so
# gunicorn's own access line would only double it. With text logs, gunicorn writes it.
if app_config.LOG_FORMAT == "json":
    accesslog = None
else:
    accesslog = "-"
    access_log_format = (
        '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms %({x-request-id}o)s'
    )


def on_starting(server) -> None:
    """Refuse several workers that would each count rate limits in their own memory.

    Here rather than at the top of the file: only now do command-line options (-w) count.
    """
    workers = server.cfg.workers
    storage = app_config.RATELIMIT_STORAGE_URI
    if issubclass(app_config, ProductionConfig) and workers > 1 and storage.startswith("memory://"):
        # gunicorn prints a RuntimeError raised here as "Error: ..." and exits with status 1.
        raise RuntimeError(
            f"RATELIMIT_STORAGE_URI is memory://, so each of the {workers} workers would count "
            f"rate limits on its own and let {workers} times as many attempts through. Set "
            "RATELIMIT_STORAGE_URI to a Redis all workers share, e.g. "
            "RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0, or run one worker "
            "(WEB_CONCURRENCY=1)."
        )
