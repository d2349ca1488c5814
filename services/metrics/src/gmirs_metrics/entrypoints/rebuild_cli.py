"""`gmirs-metrics rebuild`: rebuild the read models from the topics while the service runs."""

from __future__ import annotations

import argparse
import dataclasses
import json

from gmirs_metrics.projections.rebuild import RebuildError, rebuild
from gmirs_metrics.settings import MetricsSettings
from gmirs_runtime.cli import ExtraCommand
from gmirs_runtime.settings import ServiceSettings


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds to catch up with the topics before giving up (default: the setting)",
    )


async def _run(settings: ServiceSettings, args: argparse.Namespace) -> int:
    assert isinstance(settings, MetricsSettings)
    if args.timeout is not None:
        settings = settings.model_copy(update={"rebuild_timeout_seconds": args.timeout})
    try:
        report = await rebuild(settings)
    except RebuildError as exc:
        print(json.dumps({"rebuilt": False, "reason": str(exc)}))
        return 1
    print(json.dumps({"rebuilt": True, **dataclasses.asdict(report)}))
    return 0


REBUILD_COMMAND = ExtraCommand(
    help="rebuild the read models from the start of the topics beside the live ones, then switch",
    configure=_configure,
    run=_run,
)
