"""Child processes for the dev stack and tests: own process group, a log file, bounded readiness, sure stop.

Signals: `stop` goes to the leader only (a wrapper such as `uv run` forwards it, so the real server is not
signalled twice); `kill`, `pause` and `resume` go to the whole group, because those signals cannot be forwarded.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path

from gmirs_runtime.local.ports import tcp_accepts

ReadyCheck = Callable[[], Awaitable[bool]]

_PR_SET_PDEATHSIG = 1
_LOG_TAIL_BYTES = 16_384


class ProcessStartError(RuntimeError):
    """A managed process exited, or never became ready, while starting."""


class ManagedProcess:
    """One child process whose output goes to `log_path` and which never outlives its owner by accident.

    With `die_with_parent` (Linux) the child gets `stop_signal` when the thread that started it ends, so a
    crashed or SIGKILLed owner leaves nothing running; start it from a long-lived thread (the event loop's).
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        inherit_env: bool = True,
        cwd: Path | None = None,
        user: str | None = None,
        stop_signal: signal.Signals = signal.SIGTERM,
        die_with_parent: bool = True,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = dict(env or {})
        self.inherit_env = inherit_env
        self.cwd = cwd
        self.user = user
        self.stop_signal = stop_signal
        self.die_with_parent = die_with_parent and sys.platform == "linux"
        self._popen: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen is not None else None

    @property
    def returncode(self) -> int | None:
        """Exit status once the process has ended (negative: killed by that signal), else None."""
        if self._popen is None or not self._leader_exited():
            return None
        self._reap()
        return self._popen.returncode

    @property
    def is_running(self) -> bool:
        return self._popen is not None and not self._leader_exited()

    def start(self) -> None:
        """Spawn the process in a new session (own process group), appending its output to the log file."""
        if self.is_running:
            raise RuntimeError(f"{self.name} is already running (pid {self.pid})")
        _ = self.returncode  # reap an earlier, ended run
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env} if self.inherit_env else dict(self.env)
        with self.log_path.open("ab") as log:
            self._log_offset = log.tell()
            self._popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.cwd,
                user=self.user,
                start_new_session=True,
                # Only a pre-resolved prctl call runs between fork and exec, so threads are no hazard.
                preexec_fn=self._preexec(),  # noqa: PLW1509
            )

    def _preexec(self) -> Callable[[], None] | None:
        return _death_signal_setter(self.stop_signal) if self.die_with_parent else None

    async def wait_ready(
        self, check: ReadyCheck | int, *, timeout: float = 30.0, interval: float = 0.05
    ) -> None:
        """Wait until `check` (an async predicate, or a port accepting TCP on 127.0.0.1) passes.

        Raises ProcessStartError with the log tail if the process exits first or `timeout` passes.
        """
        probe = _port_probe(check) if isinstance(check, int) else check
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = max(deadline - loop.time(), interval)
            try:
                if await asyncio.wait_for(probe(), remaining):
                    return
            except TimeoutError:
                pass
            self._raise_if_exited("exited before it was ready")
            if loop.time() >= deadline:
                raise ProcessStartError(self._describe(f"was not ready after {timeout:g}s"))
            await asyncio.sleep(interval)

    async def wait_exit(self, timeout: float) -> int | None:
        """Wait up to `timeout` seconds for the process to end; its return code, or None if still running."""
        deadline = time.monotonic() + timeout
        while self.is_running and time.monotonic() < deadline:  # noqa: ASYNC110 - no event for a child's exit
            await asyncio.sleep(0.02)
        return self.returncode

    def wait_exit_sync(self, timeout: float) -> int | None:
        """Blocking `wait_exit`."""
        deadline = time.monotonic() + timeout
        while self.is_running and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.returncode

    async def stop(self, timeout: float = 10.0) -> int | None:
        """Send the stop signal, wait up to `timeout`, then SIGKILL the group. Safe to call twice."""
        if not self._send_stop():
            return self.returncode
        if await self.wait_exit(timeout) is None:
            self.kill()
            await self.wait_exit(5.0)
        return self.returncode

    def stop_sync(self, timeout: float = 10.0) -> int | None:
        """Blocking `stop` for code without an event loop (atexit, signal handlers, plain scripts)."""
        if not self._send_stop():
            return self.returncode
        if self.wait_exit_sync(timeout) is None:
            self.kill()
            self.wait_exit_sync(5.0)
        return self.returncode

    def kill(self) -> None:
        """SIGKILL the whole process group (a crash, as far as the process can tell); returns once the
        leader is gone, which takes milliseconds."""
        self._signal_group(signal.SIGKILL)
        self.wait_exit_sync(5.0)

    def pause(self) -> None:
        """SIGSTOP the group: the process keeps its sockets but answers nothing (a hung server).

        Returns once every thread of the leader is stopped; signal delivery is not instant, and a busy
        server on another core could otherwise answer one more request.
        """
        self._signal_group(signal.SIGSTOP)
        self._wait_for_threads(stopped=True)

    def resume(self) -> None:
        """SIGCONT the group after `pause`."""
        self._signal_group(signal.SIGCONT)
        self._wait_for_threads(stopped=False)

    def log_tail(self, max_lines: int = 40) -> str:
        """The last lines this run wrote to the log (earlier runs appended to the same file are skipped)."""
        try:
            with self.log_path.open("rb") as log:
                size = log.seek(0, os.SEEK_END)
                log.seek(max(self._log_offset, size - _LOG_TAIL_BYTES))
                data = log.read()
        except FileNotFoundError:
            return ""
        lines = data.decode("utf-8", errors="replace").splitlines()
        return "\n".join(lines[-max_lines:])

    def _send_stop(self) -> bool:
        if not self.is_running or self._popen is None:
            return False
        os.kill(self._popen.pid, self.stop_signal)  # unreaped, so the pid is still ours
        self._signal_group(signal.SIGCONT)  # a paused process must run to handle the stop
        return True

    def _signal_group(self, sig: signal.Signals) -> None:
        # Only while the leader is unreaped: until then its pid cannot be reused as someone else's group id.
        if self._popen is None or self._popen.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._popen.pid, sig)

    def _wait_for_threads(self, *, stopped: bool, timeout: float = 2.0) -> None:
        """Poll /proc until every thread in the group is (or is no longer) in state T; Linux only."""
        if self.pid is None or not Path("/proc/self/task").is_dir():
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.is_running:
            states = _group_thread_states(self.pid)
            if states and all((state == "T") == stopped for state in states):
                return
            time.sleep(0.001)

    def _leader_exited(self) -> bool:
        """Peek (without reaping) whether the leader ended, so its group id stays valid for `_reap`."""
        if self._popen is None or self._popen.returncode is not None:
            return True
        try:
            info = os.waitid(os.P_PID, self._popen.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return info is not None

    def _reap(self) -> None:
        """The leader ended: SIGKILL whatever is left in its group (orphans otherwise), then reap it."""
        if self._popen is not None and self._popen.returncode is None:
            self._signal_group(signal.SIGKILL)
            self._popen.wait()

    def _raise_if_exited(self, what: str) -> None:
        if self._popen is None:
            raise ProcessStartError(f"{self.name} was never started")
        if self.returncode is not None:
            raise ProcessStartError(self._describe(f"{what} (exit status {self.returncode})"))

    def _describe(self, what: str) -> str:
        tail = self.log_tail() or "(no output)"
        return f"{self.name} {what}; log {self.log_path}, last lines:\n{tail}"


def _group_thread_states(pgid: int) -> list[str]:
    """State letters of every thread of every process in process group `pgid`."""
    states = []
    for task in Path("/proc").glob("[0-9]*/task/*/stat"):
        try:
            text = task.read_text()
        except OSError:
            continue  # ended meanwhile
        state, _ppid, pgrp = text[text.rfind(")") + 2 :].split(maxsplit=3)[:3]
        if int(pgrp) == pgid:
            states.append(state)
    return states


def _port_probe(port: int) -> ReadyCheck:
    return functools.partial(tcp_accepts, port)


def _death_signal_setter(sig: signal.Signals) -> Callable[[], None]:
    """Resolve prctl in the parent so the child, between fork and exec, only makes one C call."""
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    number = int(sig)

    def set_death_signal() -> None:
        prctl(_PR_SET_PDEATHSIG, number)

    return set_death_signal
