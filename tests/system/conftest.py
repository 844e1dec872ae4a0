"""The production shape, started by each test: nginx (HTTPS, the deploy/ site file) in front of
gunicorn (4 workers), PostgreSQL and a Redis of the test's own. Traffic stays on 127.0.0.0/8."""

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import flask_bootstrap
import psycopg
import pytest

from tests.helpers import RedisServer, free_port
from tests.system.clients import Recorder

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
SITE_TEMPLATE = REPO / "deploy" / "nginx-microblog.conf.template"
# The Bootstrap 5 files the app links to under /bootstrap/static/ (BOOTSTRAP_SERVE_LOCAL).
BOOTSTRAP_STATIC = (
    Path(flask_bootstrap.__file__).parent / "static" / flask_bootstrap.Bootstrap5.static_folder
)
SITE_VARIABLES = (
    "SERVER_NAME",
    "HTTP_PORT",
    "HTTPS_PORT",
    "PUBLIC_ORIGIN",
    "TLS_CERTIFICATE",
    "TLS_CERTIFICATE_KEY",
    "UPSTREAM_SERVERS",
    "STATIC_ROOT",
    "BOOTSTRAP_STATIC_ROOT",
    "LOG_DIR",
)
SERVER_NAME = "127.0.0.1"
SHARED_POSTGRES = ("127.0.0.1", 5432)
STARTUP_TIMEOUT = 30  # seconds for any server to start answering, or to stop
WORKERS = 4

FIGURES: list[str] = []  # what the tests measured, repeated in pytest's summary


def pytest_terminal_summary(terminalreporter) -> None:
    if FIGURES:
        terminalreporter.section("system test figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


@pytest.fixture
def report() -> Callable[[str], None]:
    """Print a measured figure now (pytest -s) and again in the summary at the end."""

    def report(line: str) -> None:
        print(line)
        FIGURES.append(line)

    return report


def wait_until(condition: Callable[[], bool], timeout: float, what: str, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout} s waiting for {what}")
        time.sleep(step)


def port_open(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


def postgres_reachable(host: str, port: int) -> str | None:
    try:
        psycopg.connect(
            host=host, port=port, user="postgres", dbname="postgres", connect_timeout=3
        ).close()
    except psycopg.Error as error:
        return str(error).strip()
    return None


@pytest.fixture(scope="session", autouse=True)
def production_parts() -> None:
    """Skip the system suite, saying how to get each missing part."""
    missing = []
    for program, how in (
        ("nginx", "apt-get install -y nginx"),
        ("redis-server", "apt-get install -y redis-server"),
        ("openssl", "apt-get install -y openssl"),
        ("envsubst", "apt-get install -y gettext-base"),
        ("pg_dump", "apt-get install -y postgresql-client"),
    ):
        if shutil.which(program) is None:
            missing.append(f"{program} (`{how}`)")
    if error := postgres_reachable(*SHARED_POSTGRES):
        missing.append(
            "PostgreSQL on 127.0.0.1:5432, user postgres, trust auth (start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`): " + error
        )
    if missing:
        pytest.skip("System tests need " + "; ".join(missing))


class Processes:
    """Child processes of one test; whatever still runs at the end is stopped."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: list[subprocess.Popen] = []

    def start(self, name: str, argv: list[str], **options) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115  (the child writes it)
        with log:
            process = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, **options,
            )  # fmt: skip
        self.running.append(process)
        return process

    def stop(self, process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(STARTUP_TIMEOUT)
            except subprocess.TimeoutExpired:
                # The session it leads holds only what it started (gunicorn's workers).
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(STARTUP_TIMEOUT)
        if process in self.running:
            self.running.remove(process)

    def stop_all(self) -> None:
        for process in reversed(list(self.running)):
            self.stop(process)


def run(argv: list[str], **options) -> subprocess.CompletedProcess:
    """A command that must succeed within a minute; its output is in the failure message."""
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, **options)
    assert result.returncode == 0, f"{argv} failed: {result.stdout}{result.stderr}"
    return result


@dataclass
class Postgres:
    host: str
    port: int
    created: list[str] = field(default_factory=list)

    def connect(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(host=self.host, port=self.port, user="postgres", dbname=dbname,
                               autocommit=True, connect_timeout=3)  # fmt: skip

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://postgres@{self.host}:{self.port}/{dbname}"

    def create_database(self) -> str:
        name = f"microblog_system_{uuid.uuid4().hex[:12]}"
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return name

    def drop_databases(self) -> None:
        with self.connect() as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def query(self, dbname: str, sql: str, *params) -> list[tuple]:
        with self.connect(dbname) as conn:
            return conn.execute(sql, params).fetchall()

    def row_counts(self, dbname: str) -> dict[str, int]:
        tables = [row[0] for row in self.query(
            dbname, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        )]  # fmt: skip
        return {t: self.query(dbname, f'SELECT count(*) FROM "{t}"')[0][0] for t in tables}


class Cluster(Postgres):
    """A throwaway PostgreSQL server of the test's own, which it may stop and start."""

    def __init__(self, processes: Processes) -> None:
        super().__init__("127.0.0.1", free_port())
        bindir = shutil.which("pg_config") and run(["pg_config", "--bindir"]).stdout.strip()
        if not bindir or not (Path(bindir) / "initdb").exists():
            pytest.skip("needs the PostgreSQL server programs: `apt-get install -y postgresql`")
        self.bin = Path(bindir)
        # PostgreSQL refuses to run as root; the postgres account must own the directory.
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.dir = Path(tempfile.mkdtemp(prefix="microblog-pg-"))
        if self.as_owner:
            shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.kept_log = processes.log_dir / "postgres.log"
        run([*self.as_owner, self.bin / "initdb", "-D", self.data, "-U", "postgres",
             "--auth=trust", "--no-sync"])  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        run([*self.as_owner, self.bin / "pg_ctl", "-D", self.data, "-l", self.log,
             "-o", options, "-w", "-t", str(STARTUP_TIMEOUT), "start"])  # fmt: skip

    def stop(self) -> None:
        run([*self.as_owner, self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w",
             "-t", str(STARTUP_TIMEOUT), "stop"])  # fmt: skip

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop()
        if self.log.exists():
            shutil.copy(self.log, self.kept_log)
        shutil.rmtree(self.dir)


@dataclass
class AppHost:
    """One app host: a gunicorn master and its workers, bound to an address of its own."""

    name: str
    address: str
    port: int
    log: Path
    process: subprocess.Popen

    @property
    def upstream(self) -> str:
        return f"{self.address}:{self.port}"

    def workers(self) -> set[int]:
        children = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                # Fields after the command name (which may hold spaces): state, then ppid.
                fields = stat.read_text().rpartition(")")[2].split()
                if int(fields[1]) == self.process.pid:
                    children.add(int(stat.parent.name))
        return children


@dataclass
class Stack:
    base_url: str
    http_url: str
    ca: Path
    postgres: Postgres
    database: str
    redis: RedisServer
    hosts: list[AppHost]
    nginx_log: Path
    processes: Processes
    recorder: Recorder

    def count(self, sql: str, *params) -> int:
        return self.postgres.query(self.database, sql, *params)[0][0]

    def logged_by_nginx(self, token: str, count: int) -> list[str]:
        """nginx's access-log lines holding ``token``, once there are ``count`` of them: nginx
        writes a line after the response has gone, so a client can be quicker than its log."""

        def lines() -> list[str]:
            return [line for line in self.nginx_log.read_text().splitlines() if token in line]

        wait_until(lambda: len(lines()) >= count, 5, f"{count} nginx log lines with {token}")
        return lines()

    def upstreams_of(self, token: str, count: int) -> list[str]:
        """The app hosts nginx tried for each of the ``count`` requests whose URL holds
        ``token``."""
        return [
            line.partition(" upstream=")[2].partition(" ")[0]
            for line in self.logged_by_nginx(token, count)
        ]


def make_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "tls.crt", directory / "tls.key"
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", f"/CN={SERVER_NAME}",
         "-addext", f"subjectAltName=IP:{SERVER_NAME}", "-keyout", key, "-out", cert])  # fmt: skip
    return cert, key


def render_site(directory: Path, variables: dict[str, str]) -> Path:
    """The deploy/ template, rendered as the operator does: envsubst with an explicit list."""
    site = directory / "microblog.conf"
    names = " ".join(f"${{{name}}}" for name in SITE_VARIABLES)
    result = subprocess.run(
        ["envsubst", names], input=SITE_TEMPLATE.read_text(), capture_output=True, text=True,
        env={"PATH": os.environ["PATH"], **variables}, timeout=10, check=True,
    )  # fmt: skip
    site.write_text(result.stdout)
    return site


def nginx_conf(directory: Path, temp: Path, site: Path) -> Path:
    """The part of nginx.conf that a distribution ships; the site file is the one under test."""
    conf = directory / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
error_log {directory}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    access_log {directory}/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {site};
}}
""")
    return conf


class StackFactory:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.processes = Processes(log_dir)
        self.databases: list[Postgres] = []
        self.redis_servers: list[RedisServer] = []
        self.clusters: list[Cluster] = []
        self.secret_key = secrets.token_urlsafe(48)
        # nginx's workers (user nobody) buffer bodies there: pytest's own tmp dirs are private.
        self.nginx_temp = Path(tempfile.mkdtemp(prefix="microblog-nginx-"))
        self.nginx_temp.chmod(0o755)

    def cluster(self) -> Cluster:
        cluster = Cluster(self.processes)
        self.clusters.append(cluster)
        cluster.start()
        return cluster

    def app_env(self, stack_env: dict[str, str]) -> dict[str, str]:
        return {
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(self.log_dir),
            "LANG": "C.UTF-8",
            "MICROBLOG_CONFIG": "production",
            "SECRET_KEY": self.secret_key,
            "TRUSTED_PROXIES": "1",
            "TRUSTED_HOSTS": SERVER_NAME,
            "GRAVATAR_ENABLED": "false",  # no outside requests
            # Accounts act at once: confirming by mail is the unit and browser tests' subject,
            # the stack's is workers, hosts and outages.
            "REQUIRE_EMAIL_CONFIRMATION": "false",
            "WEB_CONCURRENCY": str(WORKERS),
            **stack_env,
        }

    def start_host(self, name: str, address: str, port: int, env: dict[str, str]) -> AppHost:
        env = {**env, "GUNICORN_BIND": f"{address}:{port}"}
        process = self.processes.start(
            name, [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "microblog:app"],
            cwd=REPO, env=env,
        )  # fmt: skip
        return AppHost(name, address, port, self.log_dir / f"{name}.log", process)

    def __call__(
        self,
        *,
        hosts: int = 1,
        env: dict[str, str] | None = None,
        postgres: Postgres | None = None,
        database: str | None = None,
    ) -> Stack:
        postgres = postgres or Postgres(*SHARED_POSTGRES)
        self.databases.append(postgres)
        database = database or postgres.create_database()
        redis_server = RedisServer()
        self.redis_servers.append(redis_server)
        redis_server.start()

        https_port, http_port = free_port(), free_port()
        base_url = f"https://{SERVER_NAME}:{https_port}"
        app_env = self.app_env({
            "DATABASE_URL": postgres.url(database),
            "RATELIMIT_STORAGE_URI": redis_server.url,
            "APP_BASE_URL": base_url,
            **(env or {}),
        })  # fmt: skip
        run([str(VENV_BIN / "flask"), "db", "upgrade"], cwd=REPO, env=app_env)

        # Several app hosts: one address each (127.0.0.11, .12, ...), the same port.
        app_port = free_port()
        app_hosts = [
            self.start_host(f"host{n}", f"127.0.0.{10 + n}", app_port, app_env)
            for n in range(1, hosts + 1)
        ]
        nginx_dir = self.log_dir / f"nginx{len(self.databases)}"  # one per stack of the test
        nginx_dir.mkdir(exist_ok=True)
        cert, key = make_certificate(nginx_dir)
        site = render_site(nginx_dir, {
            "SERVER_NAME": SERVER_NAME,
            "HTTP_PORT": str(http_port),
            "HTTPS_PORT": str(https_port),
            "PUBLIC_ORIGIN": base_url,
            "TLS_CERTIFICATE": str(cert),
            "TLS_CERTIFICATE_KEY": str(key),
            "UPSTREAM_SERVERS": " ".join(f"server {h.upstream};" for h in app_hosts),
            "STATIC_ROOT": str(REPO / "app" / "static"),
            "BOOTSTRAP_STATIC_ROOT": str(BOOTSTRAP_STATIC),
            "LOG_DIR": str(nginx_dir),
        })  # fmt: skip
        conf = nginx_conf(nginx_dir, self.nginx_temp, site)
        self.processes.start("nginx", [
            "nginx", "-p", str(nginx_dir), "-c", str(conf), "-e", str(nginx_dir / "error.log"),
            "-g", f"daemon off; pid {nginx_dir}/nginx.pid;",
        ])  # fmt: skip
        wait_until(lambda: port_open("127.0.0.1", https_port), STARTUP_TIMEOUT, "nginx")
        for host in app_hosts:
            wait_until(
                lambda host=host: (
                    len(host.workers()) == WORKERS and port_open(host.address, host.port)
                ),
                STARTUP_TIMEOUT,
                f"gunicorn {host.name} with {WORKERS} workers (log: {host.log})",
            )
        return Stack(
            base_url=base_url,
            http_url=f"http://{SERVER_NAME}:{http_port}",
            ca=cert,
            postgres=postgres,
            database=database,
            redis=redis_server,
            hosts=app_hosts,
            nginx_log=nginx_dir / "microblog-access.log",
            processes=self.processes,
            recorder=Recorder(),
        )

    def close(self) -> None:
        self.processes.stop_all()
        for redis_server in self.redis_servers:
            redis_server.stop()
        for postgres in self.databases:
            with contextlib.suppress(psycopg.OperationalError):  # a cluster being removed
                postgres.drop_databases()
        for cluster in self.clusters:
            cluster.remove()
        shutil.rmtree(self.nginx_temp)


@pytest.fixture
def start_stack(tmp_path: Path) -> Iterator[StackFactory]:
    """Start the production shape with ``start_stack(hosts=, env=, postgres=, database=)``."""
    factory = StackFactory(tmp_path)
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture
def isolated_database() -> None:
    """The suite's per-test schema (tests/conftest.py, with TEST_DATABASE_URL) has nothing to
    isolate here: the apps run in processes of their own, on databases these tests create."""
