"""gunicorn.conf.py: read in-process for its settings, and run for real where it starts gunicorn."""

import json
import os
import runpy
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from gunicorn.config import Config as GunicornConfig

from config import BASE_DIR, Config
from tests.test_health import free_port

CONF = BASE_DIR / "gunicorn.conf.py"
GOOD_KEY = "k" * 48


def settings(monkeypatch, **environ) -> dict:
    """gunicorn.conf.py's settings under this environment, checked by gunicorn's validators."""
    for name in ("WEB_CONCURRENCY", "GUNICORN_BIND", "FORWARDED_ALLOW_IPS", "MICROBLOG_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    namespace = runpy.run_path(str(CONF))
    checked = GunicornConfig()
    for name, value in namespace.items():
        if name in checked.settings:
            checked.set(name, value)
    return {name: setting.get() for name, setting in checked.settings.items()}


def test_workers_default_to_the_cores_and_follow_web_concurrency(monkeypatch):
    cores = len(os.sched_getaffinity(0))
    assert settings(monkeypatch)["workers"] == min(2 * cores + 1, 8)
    assert settings(monkeypatch, WEB_CONCURRENCY="3")["workers"] == 3


def test_it_listens_on_loopback_unless_told_otherwise(monkeypatch):
    monkeypatch.setenv("PORT", "9000")  # gunicorn alone would listen on 0.0.0.0:9000
    assert settings(monkeypatch)["bind"] == ["127.0.0.1:8000"]
    bind = "unix:/run/microblog.sock,127.0.0.1:8001"
    assert settings(monkeypatch, GUNICORN_BIND=bind)["bind"] == bind.split(",")


def test_no_control_socket_and_no_preload(monkeypatch):
    chosen = settings(monkeypatch)
    assert chosen["control_socket_disable"] is True
    assert chosen["preload_app"] is False


def test_forwarded_headers_are_believed_from_nobody_without_trusted_proxies(monkeypatch):
    monkeypatch.setattr(Config, "TRUSTED_PROXIES", 0)
    assert settings(monkeypatch, FORWARDED_ALLOW_IPS="10.0.0.5")["forwarded_allow_ips"] == []


def test_forwarded_headers_are_believed_from_the_listed_proxies_only(monkeypatch):
    monkeypatch.setattr(Config, "TRUSTED_PROXIES", 1)
    assert settings(monkeypatch)["forwarded_allow_ips"] == ["127.0.0.1", "::1"]
    chosen = settings(monkeypatch, FORWARDED_ALLOW_IPS="10.0.0.0/24")
    assert chosen["forwarded_allow_ips"] == ["10.0.0.0/24"]
    with pytest.raises(RuntimeError, match="list the proxies"):
        settings(monkeypatch, FORWARDED_ALLOW_IPS="10.0.0.5,*")


def test_text_logs_get_gunicorns_access_log_on_stdout(monkeypatch):
    monkeypatch.setattr(Config, "LOG_FORMAT", "text")
    chosen = settings(monkeypatch)
    assert chosen["accesslog"] == "-"
    assert "%({x-request-id}o)s" in chosen["access_log_format"]


def test_json_logs_leave_the_access_line_to_the_app(monkeypatch):
    assert settings(monkeypatch, MICROBLOG_CONFIG="production")["accesslog"] is None


def gunicorn(tmp_path: Path, *args: str, **environ: str) -> subprocess.Popen:
    """gunicorn with this repository's config, production settings and a HOME of its own."""
    env = {name: value for name, value in os.environ.items() if name != "XDG_RUNTIME_DIR"}
    env |= {
        "HOME": str(tmp_path),  # where gunicorn 27 would put its control socket
        "MICROBLOG_CONFIG": "production",
        "SECRET_KEY": GOOD_KEY,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'microblog.db'}",
        "RATELIMIT_STORAGE_URI": "memory://",
        "TRUSTED_PROXIES": "0",
        "LOG_FORMAT": "json",
        "WEB_CONCURRENCY": "1",
        **environ,
    }
    command = [sys.executable, "-m", "gunicorn", "-c", str(CONF), *args, "microblog:app"]
    return subprocess.Popen(
        command, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_several_workers_on_memory_storage_are_refused_in_production(tmp_path):
    server = gunicorn(tmp_path, "--workers", "2", "--bind", f"127.0.0.1:{free_port()}")
    out, err = server.communicate(timeout=30)
    assert server.returncode == 1
    assert "RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0" in err
    assert "Booting worker" not in err


def test_gunicorn_serves_with_one_json_line_per_request_and_no_control_socket(tmp_path):
    port = free_port()
    # Two workers are fine once limits are counted in Redis (not contacted by these requests).
    server = gunicorn(
        tmp_path,
        WEB_CONCURRENCY="2",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0",
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=15).ok
                break
            except requests.ConnectionError:
                assert server.poll() is None, server.stderr.read()
                assert time.monotonic() < deadline, "gunicorn did not answer within 20 s"
                time.sleep(0.1)
        response = requests.get(f"http://127.0.0.1:{port}/missing", timeout=5)
    finally:
        server.terminate()
        out, err = server.communicate(timeout=40)
    assert response.status_code == 404
    lines = [json.loads(line) for line in out.splitlines()]  # stdout is JSON only
    requests_logged = [line for line in lines if "status" in line]  # the others: config warnings
    assert [(line["path"], line["status"]) for line in requests_logged] == [("/missing", 404)]
    assert requests_logged[0]["request_id"] == response.headers["X-Request-ID"]
    assert "Booting worker" in err
    assert not (tmp_path / ".gunicorn").exists()
