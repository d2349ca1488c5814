"""Start a fake as a real child process on a free loopback port, and always stop it.

End-to-end tests need the fakes to behave like separate systems (own process, own port, real HTTP),
so this is the one place that knows how to launch and tear them down.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

REPO_ROOT = Path(__file__).resolve().parents[2]
_STOP_TIMEOUT_S = 10.0
_POLL_INTERVAL_S = 0.05


@dataclass(frozen=True)
class RunningFake:
    """A fake process that is listening on `port`."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    """Ask the kernel for a loopback port that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """Block until something accepts connections on `port`; fail fast if `process` died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=_POLL_INTERVAL_S * 4):
                return
        except OSError:
            time.sleep(_POLL_INTERVAL_S)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout_s} s")


@contextmanager
def run_fake(
    module: str, *args: str, port: int | None = None, startup_timeout_s: float = 20.0
) -> Iterator[RunningFake]:
    """Run ``python -m <module> --port P <args>`` from the repo root while the block runs."""
    chosen = port if port is not None else free_port()
    command = [sys.executable, "-m", module, "--port", str(chosen), *args]
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT)
        try:
            try:
                wait_for_port(chosen, process, startup_timeout_s)
            except (RuntimeError, TimeoutError) as exc:
                raise RuntimeError(f"{module} did not start: {exc}\n{_tail(output)}") from exc
            yield RunningFake(process=process, port=chosen)
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate politely, then kill if the process ignores it."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=_STOP_TIMEOUT_S)


def _tail(output: IO[bytes], limit: int = 4000) -> str:
    """Return the end of a child's captured output, for a useful startup error."""
    output.seek(0)
    return output.read().decode(errors="replace")[-limit:]
