"""ManagedProcess with real child processes: readiness, failure reports, stop/kill/pause, no orphans."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gmirs_runtime.local.ports import free_port
from gmirs_runtime.local.processes import ManagedProcess, ProcessStartError
from gmirs_runtime.testing.kafka import eventually

PY = sys.executable


def python(name: str, code: str, log: Path) -> ManagedProcess:
    return ManagedProcess(name, [PY, "-c", textwrap.dedent(code)], log_path=log)


def state(pid: int) -> str | None:
    """Process state letter from /proc (R, S, T, Z, ...), or None if the pid is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    return text[text.rfind(")") + 2]


def gone(pid: int) -> bool:
    return state(pid) in (None, "Z")


async def test_failing_start_reports_exit_status_and_log_tail(tmp_path: Path) -> None:
    proc = python(
        "doomed", "import sys; print('config error: no such key'); sys.exit(3)", tmp_path / "log"
    )
    proc.start()
    with pytest.raises(ProcessStartError) as caught:
        await proc.wait_ready(free_port(), timeout=10)
    message = str(caught.value)
    assert "doomed exited before it was ready (exit status 3)" in message
    assert "config error: no such key" in message
    assert proc.returncode == 3


async def test_log_tail_skips_earlier_runs(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_text("output of an earlier run\n")
    proc = python("doomed", "print('this run')", log)
    proc.start()
    assert await proc.wait_exit(10) == 0
    assert proc.log_tail() == "this run"


async def test_not_ready_within_timeout_is_an_error(tmp_path: Path) -> None:
    proc = python("sleeper", "import time; time.sleep(60)", tmp_path / "log")
    proc.start()

    async def never() -> bool:
        return False

    try:
        with pytest.raises(ProcessStartError, match=r"sleeper was not ready after 0\.3s"):
            await proc.wait_ready(never, timeout=0.3)
        assert proc.is_running
    finally:
        assert await proc.stop() == -signal.SIGTERM
    assert not proc.is_running


async def test_ready_by_port_then_stop(tmp_path: Path) -> None:
    port = free_port()
    proc = ManagedProcess(
        "http",
        [PY, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
        log_path=tmp_path / "log",
    )
    proc.start()
    try:
        await proc.wait_ready(port, timeout=10)
        assert proc.is_running
        assert proc.returncode is None
    finally:
        await proc.stop()
    assert proc.returncode == -signal.SIGTERM


async def test_stop_escalates_to_sigkill(tmp_path: Path) -> None:
    log = tmp_path / "log"
    code = """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print('ignoring SIGTERM', flush=True)
        time.sleep(60)
    """
    proc = python("stubborn", code, log)
    proc.start()

    async def says_ready() -> bool:
        return "ignoring SIGTERM" in log.read_text()

    await proc.wait_ready(says_ready, timeout=10)
    assert await proc.stop(timeout=0.3) == -signal.SIGKILL


async def test_pause_resume_and_stop_while_paused(tmp_path: Path) -> None:
    proc = python("sleeper", "import time; time.sleep(60)", tmp_path / "log")
    proc.start()
    assert proc.pid is not None
    pid = proc.pid
    proc.pause()
    await eventually(lambda: _async(state(pid) == "T"), timeout=5, what="process stopped")
    proc.resume()
    await eventually(lambda: _async(state(pid) != "T"), timeout=5, what="process continued")
    proc.pause()
    assert proc.stop_sync(timeout=5) == -signal.SIGTERM  # SIGCONT lets the paused process die


@pytest.mark.parametrize("end", ["kill", "stop"])
async def test_kill_and_stop_end_the_whole_group(tmp_path: Path, end: str) -> None:
    log = tmp_path / "log"
    proc = ManagedProcess("shell", ["sh", "-c", "sleep 60 & echo $!; wait"], log_path=log)
    proc.start()

    async def printed_pid() -> bool:
        return log.read_text().strip() != ""

    await eventually(printed_pid, timeout=5)
    grandchild = int(log.read_text())
    assert not gone(grandchild)
    if end == "kill":
        proc.kill()
    else:
        await proc.stop(timeout=5)
    assert proc.returncode is not None
    await eventually(lambda: _async(gone(grandchild)), timeout=5, what="grandchild ended")


async def test_child_dies_with_its_owner(tmp_path: Path) -> None:
    owner_code = f"""
        import asyncio
        from pathlib import Path
        from gmirs_runtime.local.processes import ManagedProcess
        proc = ManagedProcess("sleeper", ["sleep", "60"], log_path=Path({str(tmp_path / "log")!r}))
        proc.start()
        print(proc.pid, flush=True)
        asyncio.run(asyncio.sleep(60))
    """
    owner = subprocess.Popen(
        [PY, "-c", textwrap.dedent(owner_code)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert owner.stdout is not None
        child = int(owner.stdout.readline())
        assert not gone(child)
        owner.kill()  # the owner cannot clean up: only the death signal can end the child
        owner.wait(10)
        await eventually(lambda: _async(gone(child)), timeout=5, what="child ended with owner")
    finally:
        owner.kill()
        owner.wait(10)
        if owner.stdout is not None:
            owner.stdout.close()


async def _async(value: bool) -> bool:
    return value


def test_environment_is_passed(tmp_path: Path) -> None:
    log = tmp_path / "log"
    proc = ManagedProcess(
        "env",
        [PY, "-c", "import os; print(os.environ['GMIRS_PROBE'], 'HOME' in os.environ)"],
        log_path=log,
        env={"GMIRS_PROBE": "from-test"},
        inherit_env=False,
    )
    proc.start()
    assert proc.wait_exit_sync(10) == 0
    assert log.read_text().strip() == "from-test False"
    assert os.environ.get("GMIRS_PROBE") is None
