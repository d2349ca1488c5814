"""`gmirs-metrics pack --month 2026-11 --out DIR [--format xlsx --format csv --format json]`:
the monthly pack written to files, through the same audited path as the API."""

from __future__ import annotations

import argparse
import getpass
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from gmirs_metrics.adapters.pack_files import FORMATS, Packs
from gmirs_metrics.domain.periods import parse_month
from gmirs_metrics.entrypoints.pack import MONTH_PATTERN
from gmirs_runtime.cli import ExtraCommand
from gmirs_runtime.service import Service
from gmirs_runtime.settings import ServiceSettings

Build = Callable[[ServiceSettings], Awaitable[tuple[Service, Any]]]


def _month(text: str) -> str:
    if not re.fullmatch(MONTH_PATTERN, text):
        raise argparse.ArgumentTypeError("month must look like 2026-11")
    return text


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--month", required=True, type=_month, help="e.g. 2026-11")
    parser.add_argument("--out", required=True, type=Path, help="the directory to write to")
    parser.add_argument(
        "--format", action="append", choices=FORMATS, help="xlsx, csv or json (default: all)"
    )


def pack_command(build: Build) -> ExtraCommand:
    """The `pack` subcommand over a service `build` (the one `run` uses)."""

    async def run(settings: ServiceSettings, args: argparse.Namespace) -> int:
        service, infra = await build(settings)
        try:
            assert service.app is not None
            packs: Packs = service.app.state.packs
            files = await packs.make(
                parse_month(args.month),
                tuple(dict.fromkeys(args.format or FORMATS)),
                actor=f"cli:{getpass.getuser()}",
                reason=f"gmirs-metrics pack --month {args.month}",
            )
            args.out.mkdir(parents=True, exist_ok=True)
            for file in files:
                (args.out / file.filename).write_bytes(file.content)
            print(json.dumps({"written": [str(args.out / f.filename) for f in files]}))
        finally:
            await infra.engine.dispose()
        return 0

    return ExtraCommand(
        help="write a month's pack (XLSX, CSV, JSON) to a directory", configure=_configure, run=run
    )
