"""`gmirs-metrics run | migrate | dead-letters | outbox | openapi | pack | rebuild`."""

from __future__ import annotations

import sys

from gmirs_metrics.bootstrap import MIGRATIONS, build, openapi
from gmirs_metrics.entrypoints.pack_cli import pack_command
from gmirs_metrics.entrypoints.rebuild_cli import REBUILD_COMMAND
from gmirs_metrics.settings import MetricsSettings
from gmirs_runtime.cli import ServiceCommand
from gmirs_runtime.cli import main as run_cli

COMMAND = ServiceCommand(
    name="metrics",
    load_settings=MetricsSettings,
    build=build,
    migrations=MIGRATIONS,
    openapi=openapi,
    extra={"pack": pack_command(build), "rebuild": REBUILD_COMMAND},
)


def main() -> None:
    sys.exit(run_cli(COMMAND))


if __name__ == "__main__":
    main()
