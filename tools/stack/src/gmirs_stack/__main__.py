"""`python -m gmirs_stack up`: the whole platform on embedded defaults, until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from gmirs_runtime.local.ports import PortInUseError
from gmirs_runtime.local.processes import ProcessStartError
from gmirs_stack.config import Ports
from gmirs_stack.stack import REPO_ROOT, LocalStack, describe


def main() -> None:
    parser = argparse.ArgumentParser(prog="gmirs-stack")
    sub = parser.add_subparsers(dest="action", required=True)
    up = sub.add_parser("up", help="start everything and wait for Ctrl-C")
    up.add_argument("--root", type=Path, default=REPO_ROOT / ".local", help="data, logs, secrets")
    args = parser.parse_args()
    sys.exit(asyncio.run(_up(args.root)))


async def _up(root: Path) -> int:
    stack = LocalStack(root, Ports())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stack.start()
    except (PortInUseError, ProcessStartError, RuntimeError) as exc:
        print(f"gmirs-stack: cannot start: {exc}", file=sys.stderr)
        await stack.stop()
        return 1
    print(describe(stack), flush=True)
    await stop.wait()
    print("Stopping...", flush=True)
    await stack.stop()
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    main()
