"""EmbeddedPostgres as a real server: TCP on loopback, databases, data kept across restarts and crashes.

initdb takes about a second, so the tests share two data directories: one for the life cycle, one server
for everything else.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from gmirs_runtime.local.ports import PortInUseError, free_port
from gmirs_runtime.local.postgres import (
    SERVER_USER_WHEN_ROOT,
    EmbeddedPostgres,
    PostgresAlreadyRunningError,
)


def _temporary_data_dir() -> Iterator[Path]:
    """Outside pytest's private tmp dir: as root the server user must be able to reach it."""
    root = Path(tempfile.mkdtemp(prefix="gmirs-pg-test-"))
    yield root / "data"
    shutil.rmtree(root, ignore_errors=True)


data_dir = pytest.fixture(_temporary_data_dir)
shared_data_dir = pytest.fixture(scope="module")(_temporary_data_dir)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def server(shared_data_dir: Path) -> AsyncIterator[EmbeddedPostgres]:
    pg = EmbeddedPostgres(shared_data_dir, free_port())
    await pg.start()
    yield pg
    await pg.stop()


def server_user() -> str | None:
    return SERVER_USER_WHEN_ROOT if os.geteuid() == 0 else None


async def fetchval(dsn: str, sql: str) -> object:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def test_listens_on_loopback_tcp_with_dev_settings(
    server: EmbeddedPostgres, shared_data_dir: Path
) -> None:
    assert server.admin_dsn == f"postgresql://postgres@127.0.0.1:{server.port}/postgres"
    assert await fetchval(server.admin_dsn, "SHOW listen_addresses") == "127.0.0.1"
    assert await fetchval(server.admin_dsn, "SHOW max_connections") == "200"
    assert await fetchval(server.admin_dsn, "SHOW unix_socket_directories") == str(shared_data_dir)
    assert (shared_data_dir / f".s.PGSQL.{server.port}").is_socket()


async def test_life_cycle_keeps_data_across_stop_crash_and_stale_pid_file(data_dir: Path) -> None:
    pg = EmbeddedPostgres(data_dir, free_port())
    restarted = EmbeddedPostgres(data_dir, pg.port)  # as a new dev-stack run would be
    await pg.start()
    try:
        await pg.create_database("kept")
        conn = await asyncpg.connect(pg.dsn("kept"))
        await conn.execute("CREATE TABLE t (v text); INSERT INTO t VALUES ('survives')")
        await conn.close()

        await pg.stop()
        assert not pg.is_running
        with pytest.raises(ConnectionRefusedError):
            await asyncpg.connect(pg.admin_dsn, timeout=5)

        await pg.start()
        assert await fetchval(pg.dsn("kept"), "SELECT v FROM t") == "survives"

        assert pg.process is not None
        pg.process.kill()  # a crash: postmaster.pid stays behind
        assert pg.process.returncode == -9
        assert (data_dir / "postmaster.pid").exists()

        await restarted.start()
        assert await fetchval(restarted.dsn("kept"), "SELECT v FROM t") == "survives"
        await restarted.stop()

        # After a reboot the pid in a stale postmaster.pid may belong to an unrelated process (of the
        # server's own user: PostgreSQL itself ignores pids it may not signal).
        with subprocess.Popen(["sleep", "30"], user=server_user()) as unrelated:
            (data_dir / "postmaster.pid").write_text(f"{unrelated.pid}\n{data_dir}\n")
            await restarted.start()
            unrelated.kill()
        await restarted.drop_database("kept")
        with pytest.raises(asyncpg.InvalidCatalogNameError):
            await asyncpg.connect(restarted.dsn("kept"))
    finally:
        await pg.stop()
        await restarted.stop()


async def test_drop_database_cuts_open_connections(server: EmbeddedPostgres) -> None:
    await server.create_database("busy")
    conn = await asyncpg.connect(server.dsn("busy"))
    try:
        await server.drop_database("busy")
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
            await conn.fetchval("SELECT 1")
    finally:
        conn.terminate()
    count_sql = "SELECT count(*) FROM pg_database WHERE datname = 'busy'"
    assert await fetchval(server.admin_dsn, count_sql) == 0


async def test_database_names_are_checked(server: EmbeddedPostgres) -> None:
    with pytest.raises(ValueError, match="not a plain lowercase database name"):
        await server.create_database('x"; DROP DATABASE postgres; --')


async def test_second_server_on_a_live_data_dir_is_refused(
    server: EmbeddedPostgres, shared_data_dir: Path
) -> None:
    with pytest.raises(PostgresAlreadyRunningError, match="already running"):
        await EmbeddedPostgres(shared_data_dir, free_port()).start()
    assert await fetchval(server.admin_dsn, "SELECT 1") == 1


async def test_port_in_use_is_reported(data_dir: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"PostgreSQL cannot start: port 127.0.0.1:{port}"):
            await EmbeddedPostgres(data_dir, port).start()


CRN, NAME = "X917364", "Philippa Quartermaine"


async def _failing_statements(dsn: str) -> None:
    """Statements that fail with a person's CRN and name in their text, parameters and data."""
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute("CREATE TEMP TABLE people (crn text PRIMARY KEY, name text)")
        await conn.execute("INSERT INTO people VALUES ($1, $2)", CRN, NAME)
        failing = [
            ("INSERT INTO people VALUES ($1, $2)", (CRN, NAME)),  # DETAIL: Key (crn)=(…)
            ("SELECT $1::jsonb", (f'{{"crn": "{CRN}", "name": "{NAME}",}}',)),  # CONTEXT: data
            ("SELECT $1::uuid", (NAME,)),  # the message itself quotes the value
            (f"SELECT '{CRN}'::int, '{NAME}'::int", ()),  # the statement text
        ]
        for sql, args in failing:
            with pytest.raises(asyncpg.PostgresError):
                await conn.execute(sql, *args) if not args else await conn.fetchval(sql, *args)
    finally:
        await conn.close()


async def test_the_server_log_never_holds_statements_or_values(server: EmbeddedPostgres) -> None:
    checkpoints = server.log_path.read_text(errors="replace").count("checkpoint complete")
    await _failing_statements(server.admin_dsn)
    # A checkpoint is logged after the statements: once it is in the log, so would they be.
    await fetchval(server.admin_dsn, "CHECKPOINT")
    for _ in range(100):
        log = server.log_path.read_text(errors="replace")
        if log.count("checkpoint complete") > checkpoints:
            break
        await asyncio.sleep(0.05)
    assert log.count("checkpoint complete") > checkpoints
    for secret in (CRN, NAME, "people"):
        assert secret not in log
    assert await fetchval(server.admin_dsn, "SHOW log_min_error_statement") == "panic"
