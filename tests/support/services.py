"""Real services for tests and the benchmark: Redis, PostgreSQL and Jabber server processes.

Every helper here starts a real program on a free loopback port, waits for it
with a bounded deadline, and stops it by PID. Nothing is left running: each
helper registers itself for an atexit sweep in case a test run is interrupted
before fixture teardown.

Tests configure a server process through environment overrides, not Django's
``settings`` fixture, because the server runs in another process: pass e.g.
``{"JABBER_PRESENCE_TIMEOUT": "3", "JABBER_PRESENCE_PRUNE_INTERVAL": "1"}`` to
:class:`ServerProcess` (and to :func:`migrate` / ``create_user_session`` when
the setting matters there too).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import http.client
import os
import pwd
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from jabber.management.commands.serve import server_command

REPO_ROOT = Path(__file__).resolve().parents[2]
REDIS_BINARY = "/usr/bin/redis-server"
CHROMIUM_BINARY = "/usr/bin/chromium"
POSTGRES_BIN_DIRS = ("/usr/local/bin", "/usr/lib/postgresql/15/bin")
POSTGRES_OS_USER = "postgres"
POSTGRES_ROLE = "jabber"
POSTGRES_PASSWORD = "jabber"
POSTGRES_DATABASE = "jabber"

# Variables a server must never inherit from the developer's shell: a test that
# wants Redis or a database says so explicitly.
UNINHERITED_VARIABLES = ("DATABASE_URL", "REDIS_URL")
DEFAULT_APP_ENV = {
    "DJANGO_SETTINGS_MODULE": "jabber.settings",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "jabber-test-secret-key-shared-by-every-test-process",
    "PYTHONUNBUFFERED": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
}

_PR_SET_PDEATHSIG = 1
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_handed_out_ports: set[int] = set()
_running: set[Stoppable] = set()


class ServiceError(RuntimeError):
    """A service could not be started or stopped; the message carries its log."""


class Stoppable:
    """Base for helpers that own a process; registered for the atexit sweep."""

    def stop(self) -> None:
        """Stop the process; safe to call twice."""
        raise NotImplementedError

    def _track(self) -> None:
        _running.add(self)

    def _untrack(self) -> None:
        _running.discard(self)


@atexit.register
def _stop_everything() -> None:
    for service in list(_running):
        with contextlib.suppress(Exception):
            service.stop()


def is_strict() -> bool:
    """Tell whether a missing service fails the run (JABBER_TEST_STRICT=1) instead of skipping."""
    return os.environ.get("JABBER_TEST_STRICT", "").strip().lower() in {"1", "true", "yes", "on"}


def require(condition: object, reason: str) -> None:
    """Skip the test when ``condition`` is false, or fail it under JABBER_TEST_STRICT=1."""
    if condition:
        return
    import pytest

    if is_strict():
        pytest.fail(f"{reason} (JABBER_TEST_STRICT=1)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """Return a loopback TCP port that is free now and not handed out before in this run."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port not in _handed_out_ports:
            _handed_out_ports.add(port)
            return port
    raise ServiceError("no free loopback port found")


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    """Tell whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(
    check: Callable[[], bool],
    timeout: float,
    description: str,
    interval: float = 0.05,
    alive: Callable[[], bool] | None = None,
) -> None:
    """Poll ``check`` until true; raise ServiceError after ``timeout`` s or once not ``alive()``."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if alive is not None and not alive():
            raise ServiceError(f"{description}: the process exited")
        if time.monotonic() >= deadline:
            raise ServiceError(f"{description}: not ready after {timeout:g} s")
        time.sleep(interval)


def log_tail(path: Path, lines: int = 60) -> str:
    """Return the last ``lines`` lines of a log file, or a note that it is missing."""
    try:
        text = path.read_text(errors="replace")
    except OSError as error:
        return f"(no log at {path}: {error})"
    return "\n".join(text.splitlines()[-lines:])


def _die_with_parent() -> None:
    # A test run killed hard (pytest-timeout's thread method ends in os._exit)
    # skips every teardown; the kernel then stops our children for us.
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _spawn(command: list[str], log_path: Path, **options: object) -> subprocess.Popen[bytes]:
    # The death signal fires when the spawning *thread* exits, so a child
    # started from a worker thread would die with that thread: main thread only.
    guard = sys.platform == "linux" and threading.current_thread() is threading.main_thread()
    log = open(log_path, "ab")  # the child keeps writing to it
    try:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent if guard else None,
            **options,
        )
    finally:
        log.close()


def _terminate(process: subprocess.Popen[bytes] | None, timeout: float) -> None:
    """SIGTERM the process group of ``process``, then SIGKILL it after ``timeout`` s."""
    if process is None:
        return
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    _kill(process)


def _kill(process: subprocess.Popen[bytes] | None) -> None:
    """SIGKILL what is left of the process group of ``process`` and reap it."""
    if process is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


def _keep_files() -> bool:
    return os.environ.get("JABBER_TEST_KEEP", "") == "1"


# --------------------------------------------------------------------- Redis


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            connection.sendall(b"*1\r\n$4\r\nPING\r\n")
            return connection.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer(Stoppable):
    """A throwaway redis-server on a loopback port, with no persistence."""

    def __init__(
        self, binary: str = REDIS_BINARY, startup_timeout: float = 15.0, core: int | None = None
    ) -> None:
        self.binary = binary
        self.startup_timeout = startup_timeout
        # The benchmark keeps Redis off the server's core.
        self.core = core
        self.directory = Path(tempfile.mkdtemp(prefix="jabber-redis-"))
        self.log_path = self.directory / "redis.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The redis:// URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start on a free port (or the current one after a stop) and wait for PING."""
        attempts = 1 if self.port else 3
        for attempt in range(attempts):
            if not self.port or attempt:
                self.port = free_port()
            try:
                self._start_once()
                return self
            except ServiceError:
                if attempt == attempts - 1:
                    raise
        return self

    def _start_once(self) -> None:
        command = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.directory),
            "--daemonize", "no",
        ]  # fmt: skip
        if self.core is not None:
            command = ["taskset", "-c", str(self.core), *command]
        self.process = _spawn(command, self.log_path, cwd=self.directory)
        self._track()
        process = self.process
        try:
            wait_until(
                lambda: _redis_ping(self.port),
                self.startup_timeout,
                f"redis-server on port {self.port}",
                alive=lambda: process.poll() is None,
            )
        except ServiceError as error:
            _kill(process)
            raise ServiceError(f"{error}\n--- {self.log_path}\n{log_tail(self.log_path)}") from None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the server, SIGKILL it after ``timeout`` s; the port is kept for a restart."""
        _terminate(self.process, timeout)
        self.process = None
        self._untrack()

    def kill(self) -> None:
        """SIGKILL the server, as a crash would."""
        _kill(self.process)
        self.process = None
        self._untrack()

    def restart(self) -> RedisServer:
        """Stop, then start again on the same port with an empty data set."""
        self.stop()
        return self.start()

    def client(self):  # -> redis.Redis
        """Return a redis-py client for database 0."""
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def flushall(self) -> None:
        """Empty every database."""
        with self.client() as client:
            client.flushall()

    def close(self) -> None:
        """Stop the server and remove its directory."""
        self.stop()
        if not _keep_files():
            shutil.rmtree(self.directory, ignore_errors=True)


# ---------------------------------------------------------------- PostgreSQL


def postgres_binary(name: str) -> str | None:
    """Return the path of a PostgreSQL server program (initdb, pg_ctl), or None."""
    for directory in POSTGRES_BIN_DIRS:
        candidate = Path(directory) / name
        if candidate.exists():
            return str(candidate)
    return shutil.which(name)


def postgres_os_user() -> pwd.struct_passwd | None:
    """Return the account PostgreSQL runs as: ``postgres`` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid())
    try:
        return pwd.getpwnam(POSTGRES_OS_USER)
    except KeyError:
        return None


class PostgresServer(Stoppable):
    """A throwaway PostgreSQL cluster on a loopback port with trust authentication.

    PostgreSQL refuses to run as root, so when we are root every server program
    runs as the ``postgres`` account, in a directory under /tmp that it owns.
    """

    def __init__(self, startup_timeout: float = 60.0) -> None:
        self.startup_timeout = startup_timeout
        self.account = postgres_os_user()
        if self.account is None:
            raise ServiceError("no 'postgres' account to run PostgreSQL as")
        # Not under pytest's tmp_path: its parents are 0700 root, which the
        # postgres account cannot traverse.
        self.directory = Path(tempfile.mkdtemp(prefix="jabber-pg-", dir="/tmp"))
        self.data_directory = self.directory / "data"
        self.socket_directory = self.directory / "socket"
        self.log_path = self.directory / "postgres.log"
        self.port = 0
        self.socket_directory.mkdir()
        for path in (self.directory, self.socket_directory):
            os.chown(path, self.account.pw_uid, self.account.pw_gid)
            path.chmod(0o700)
        self.directory.chmod(0o755)
        self._initialised = False
        self._started = False

    @property
    def url(self) -> str:
        """The URL of the ``jabber`` database as the ``jabber`` role."""
        return self.database_url(POSTGRES_DATABASE)

    @property
    def admin_url(self) -> str:
        """The URL of the ``postgres`` database as the superuser."""
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def database_url(self, name: str) -> str:
        """Return the URL of database ``name`` as the ``jabber`` role."""
        return f"postgres://{POSTGRES_ROLE}@127.0.0.1:{self.port}/{name}"

    def _run(self, command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        """Run a server program as the PostgreSQL account; raise with its output on failure."""
        options: dict[str, object] = {}
        if os.geteuid() == 0:
            options = {
                "user": self.account.pw_uid,
                "group": self.account.pw_gid,
                "extra_groups": [],
                "env": {**os.environ, "HOME": str(self.directory), "USER": POSTGRES_OS_USER},
            }
        # pg_ctl's server inherits our stdout unless -l names a log; every
        # caller passes -l, so capturing here cannot hang on the server's pipe.
        result = subprocess.run(
            command,
            cwd=self.directory,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **options,
        )
        if result.returncode:
            raise ServiceError(
                f"{' '.join(command)} exited with {result.returncode}\n"
                f"{result.stdout}{result.stderr}\n--- {self.log_path}\n{log_tail(self.log_path)}"
            )
        return result

    def start(self) -> PostgresServer:
        """Create the cluster if needed, start it, and create the ``jabber`` role and database."""
        if not self._initialised:
            self._run(
                [
                    postgres_binary("initdb") or "initdb",
                    "--pgdata", str(self.data_directory),
                    "--auth=trust",
                    "--username=postgres",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
                timeout=120,
            )  # fmt: skip
            self._initialised = True
        attempts = 1 if self.port else 3
        for attempt in range(attempts):
            if not self.port or attempt:
                self.port = free_port()
            try:
                self._start_once()
                break
            except ServiceError:
                if attempt == attempts - 1:
                    raise
        if not self._has_role():
            self.execute(
                f"CREATE ROLE {POSTGRES_ROLE} LOGIN CREATEDB PASSWORD '{POSTGRES_PASSWORD}'"
            )
            self.create_database(POSTGRES_DATABASE)
        return self

    def _start_once(self) -> None:
        options = (
            f"-p {self.port} -k {self.socket_directory} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._started = True
        self._track()
        try:
            self._run(
                [
                    postgres_binary("pg_ctl") or "pg_ctl",
                    "--pgdata", str(self.data_directory),
                    "--log", str(self.log_path),
                    "--options", options,
                    "--wait",
                    "--timeout", str(int(self.startup_timeout)),
                    "start",
                ],
                timeout=self.startup_timeout + 10,
            )  # fmt: skip
        except (ServiceError, subprocess.TimeoutExpired) as error:
            self.stop()
            raise ServiceError(str(error)) from None
        wait_until(lambda: port_is_open(self.port), 10, f"PostgreSQL on port {self.port}")

    def _has_role(self) -> bool:
        rows = self.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (POSTGRES_ROLE,))
        return bool(rows)

    def execute(self, sql: str, parameters: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        """Run one statement as the superuser outside a transaction; return its rows."""
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=10) as connection:
            cursor = connection.execute(sql, parameters)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create database ``name`` owned by ``jabber`` (a copy of ``template``); return its URL."""
        _check_identifier(name)
        clause = ""
        if template:
            _check_identifier(template)
            clause = f" TEMPLATE {template}"
        self.execute(f"CREATE DATABASE {name} OWNER {POSTGRES_ROLE}{clause}")
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` if it exists, disconnecting its sessions."""
        _check_identifier(name)
        self.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def postmaster_pid(self) -> int | None:
        """Return the PID of the running postmaster, from postmaster.pid."""
        try:
            first_line = (self.data_directory / "postmaster.pid").read_text().split("\n", 1)[0]
            return int(first_line)
        except (OSError, ValueError):
            return None

    def stop(self, timeout: float = 30.0) -> None:
        """Stop with ``pg_ctl stop -m fast``; SIGQUIT then SIGKILL the postmaster if that fails."""
        if not self._started:
            return
        pid = self.postmaster_pid()
        with contextlib.suppress(ServiceError, subprocess.TimeoutExpired):
            self._run(
                [
                    postgres_binary("pg_ctl") or "pg_ctl",
                    "--pgdata", str(self.data_directory),
                    "--mode", "fast",
                    "--wait",
                    "--timeout", str(int(timeout)),
                    "stop",
                ],
                timeout=timeout + 10,
            )  # fmt: skip
        if pid is not None and _pid_alive(pid):
            # SIGQUIT is PostgreSQL's immediate shutdown: the postmaster takes
            # its backends down with it, which SIGKILL would leave behind.
            _signal_pid(pid, signal.SIGQUIT)
            with contextlib.suppress(ServiceError):
                wait_until(lambda: not _pid_alive(pid), 10, "postmaster exit")
            _signal_pid(pid, signal.SIGKILL)
        self._started = False
        self._untrack()

    def close(self) -> None:
        """Stop the server and remove its directory."""
        self.stop()
        if not _keep_files():
            shutil.rmtree(self.directory, ignore_errors=True)


def _check_identifier(name: str) -> None:
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a plain lower-case SQL identifier: {name!r}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers signal 0; it is gone for our purposes.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (OSError, IndexError):
        return True


def _signal_pid(pid: int, number: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, number)


# ----------------------------------------------------------- the Jabber app


def app_env(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the environment of a Jabber subprocess: ours, test defaults, then ``overrides``.

    DATABASE_URL and REDIS_URL are never inherited from the calling shell.
    """
    environment = {
        name: value for name, value in os.environ.items() if name not in UNINHERITED_VARIABLES
    }
    environment.update(DEFAULT_APP_ENV)
    environment.update(overrides or {})
    existing = environment.get("PYTHONPATH")
    environment["PYTHONPATH"] = f"{REPO_ROOT}{os.pathsep}{existing}" if existing else str(REPO_ROOT)
    return environment


def _listens_on(pid: int, port: int) -> bool:
    """Tell whether process ``pid`` holds the socket listening on loopback ``port`` (Linux)."""
    try:
        table = Path("/proc/net/tcp").read_text().splitlines()[1:]
        descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return True  # no /proc to ask: trust the answer
    address = f"0100007F:{port:04X}"
    listening = {
        f"socket:[{fields[9]}]"
        for fields in (line.split() for line in table)
        if fields[1] == address and fields[3] == "0A"
    }
    for descriptor in descriptors:
        with contextlib.suppress(OSError):
            if os.readlink(descriptor) in listening:
                return True
    return False


def sqlite_url(path: Path | str) -> str:
    """Return the DATABASE_URL of an SQLite file at an absolute ``path``."""
    return f"sqlite:///{Path(path).resolve()}"


def run_manage(
    env: Mapping[str, str], *arguments: str, timeout: float = 300.0
) -> subprocess.CompletedProcess[str]:
    """Run ``manage.py`` with ``arguments`` in a subprocess; raise with its output on failure."""
    command = [sys.executable, str(REPO_ROOT / "manage.py"), *arguments]
    result = subprocess.run(
        command,
        cwd=REPO_ROOT,
        env=app_env(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode:
        raise ServiceError(
            f"manage.py {' '.join(arguments)} exited with {result.returncode}\n"
            f"{result.stdout[-4000:]}{result.stderr[-8000:]}"
        )
    return result


def migrate(env: Mapping[str, str], timeout: float = 300.0) -> None:
    """Apply every migration to the database named by ``env["DATABASE_URL"]``."""
    if "DATABASE_URL" not in env:
        raise ValueError("migrate() needs DATABASE_URL; the default would touch the dev database")
    run_manage(env, "migrate", "--noinput", timeout=timeout)


# Each kind is a server and (for uvicorn) a WebSocket implementation, all started
# by ``manage.py serve``'s command line. "uvicorn" is uvicorn's default choice
# (Sans-I/O since uvicorn 0.35); "uvicorn-websockets" the older, deprecated one.
SERVER_KINDS = {
    "daphne": ("daphne", "websockets-sansio"),
    "uvicorn": ("uvicorn", "auto"),
    "uvicorn-sansio": ("uvicorn", "websockets-sansio"),
    "uvicorn-websockets": ("uvicorn", "websockets"),
}


def database_rows(env: Mapping[str, str], sql: str, parameters: tuple = ()) -> list[tuple]:
    """Run one read-only query (``?`` placeholders) on the servers' database, from outside."""
    url = env["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"), timeout=20)) as db:
            return db.execute(sql, parameters).fetchall()
    import psycopg  # only the PostgreSQL suite needs it

    with psycopg.connect(url, connect_timeout=10) as db:
        return db.execute(sql.replace("?", "%s"), parameters).fetchall()


class ServerProcess(Stoppable):
    """A real Jabber ASGI server (daphne or uvicorn) in its own process.

    ``env`` holds overrides on top of :func:`app_env`: DATABASE_URL (required,
    and not pytest-django's in-memory database), REDIS_URL, and any ``JABBER_*``
    setting a test wants shortened, e.g. ``JABBER_PRESENCE_TIMEOUT``. ``core``
    pins the server to one CPU. ``command`` replaces Jabber's command line with
    another server's (the benchmark's reference servers); ``kind`` then only
    names its log.
    """

    def __init__(
        self,
        env: Mapping[str, str],
        kind: str = "daphne",
        port: int | None = None,
        log_dir: Path | str | None = None,
        startup_timeout: float = 30.0,
        core: int | None = None,
        command: Callable[[int], list[str]] | None = None,
    ) -> None:
        if kind not in SERVER_KINDS and command is None:
            raise ValueError(f"kind must be one of {list(SERVER_KINDS)}, not {kind!r}")
        if "DATABASE_URL" not in env and command is None:
            raise ValueError("ServerProcess needs DATABASE_URL (a file or server database)")
        self.env = dict(env)
        self.kind = kind
        self.port = port or free_port()
        # A port we chose may be taken by another run on this machine before the
        # server binds it; a first start may then move to another (see start).
        self._port_chosen_here = port is None
        self.startup_timeout = startup_timeout
        self.core = core
        self.other_command = command
        directory = Path(log_dir) if log_dir else Path(tempfile.mkdtemp(prefix="jabber-server-"))
        directory.mkdir(parents=True, exist_ok=True)
        self.log_path = directory / f"{kind}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's http:// origin, without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """The server's ws:// origin, without a trailing slash."""
        return f"ws://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self.process.pid if self.process else None

    def command(self) -> list[str]:
        """Return the command line that starts the server: ``manage.py serve``'s, for Jabber."""
        if self.other_command is not None:
            command = self.other_command(self.port)
        else:
            server, websocket = SERVER_KINDS[self.kind]
            command = server_command(
                server,
                port=self.port,
                max_frame=self.max_frame(),
                websocket=websocket,
                log_level="warning",
                access_log=False,
            )
        if self.core is not None:
            command = ["taskset", "-c", str(self.core), *command]
        return command

    def max_frame(self) -> int:
        """The server's JABBER_MAX_FRAME: its override in ``env``, else this process's setting.

        The serve command reads the server's own setting; this reads it without
        starting Django in a second process for every server. Under pytest the
        settings are already loaded; the benchmark loads them here.
        """
        if "JABBER_MAX_FRAME" in self.env:
            return int(self.env["JABBER_MAX_FRAME"])
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", DEFAULT_APP_ENV["DJANGO_SETTINGS_MODULE"])
        from django.conf import settings

        return settings.JABBER_MAX_FRAME

    def start(self, healthy: bool = True) -> ServerProcess:
        """Start (again, same port); wait for /healthz 200, or any answer unless ``healthy``."""
        if self.process is not None and self.process.poll() is None:
            raise ServiceError(f"{self.kind} on port {self.port} is already running")
        first_start = self.process is None
        for attempt in range(3):
            try:
                return self._start_once(healthy)
            except ServiceError as error:
                # Only a port nobody knows yet may change, and only when it was taken.
                taken = "already in use" in str(error).lower()
                if not (taken and first_start and self._port_chosen_here) or attempt == 2:
                    raise
                self.port = free_port()
                self.log_path = self.log_path.with_name(f"{self.kind}-{self.port}.log")
        raise AssertionError("unreachable")

    def _start_once(self, healthy: bool) -> ServerProcess:
        with open(self.log_path, "ab") as log:
            log.write(f"--- starting: {' '.join(self.command())}\n".encode())
        self.process = _spawn(self.command(), self.log_path, cwd=REPO_ROOT, env=app_env(self.env))
        self._track()
        try:
            self._wait_healthy(healthy)
        except ServiceError:
            self.kill()
            raise
        return self

    def _wait_healthy(self, healthy: bool) -> None:
        process = self.process
        assert process is not None
        last_answer = "no answer"
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if process.poll() is not None:
                raise ServiceError(
                    f"{self.kind} on port {self.port} exited with {process.returncode} "
                    f"before answering /healthz\n--- {self.log_path}\n{self.log_tail()}"
                )
            answer = self.healthz()
            if answer is not None:
                status, body = answer
                # Another run's server may hold the port while ours fails to bind it.
                if (status == 200 or not healthy) and _listens_on(process.pid, self.port):
                    return
                last_answer = f"{status} {body}"
            if time.monotonic() >= deadline:
                raise ServiceError(
                    f"{self.kind} on port {self.port}: /healthz not 200 after "
                    f"{self.startup_timeout:g} s (last: {last_answer})\n"
                    f"--- {self.log_path}\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def healthz(self, timeout: float = 5.0) -> tuple[int, str] | None:
        """GET /healthz once; return (status, body), or None when nothing answers."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            return response.status, response.read().decode(errors="replace")
        except (OSError, http.client.HTTPException):
            return None
        finally:
            connection.close()

    def kill(self) -> None:
        """SIGKILL the server, as ``kill -9`` would."""
        _kill(self.process)
        self._untrack()

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the server, then SIGKILL it after ``timeout`` s."""
        _terminate(self.process, timeout)
        self._untrack()

    def restart(self, healthy: bool = True) -> ServerProcess:
        """Stop, then start again on the same port."""
        self.stop()
        return self.start(healthy=healthy)

    def log_text(self) -> str:
        """Return everything the server has written to stdout and stderr."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        """Return the last ``lines`` lines of the server's log."""
        return log_tail(self.log_path, lines)
