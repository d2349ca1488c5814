"""`gmirs-case run | migrate | dead-letters | outbox | openapi`."""

from __future__ import annotations

import sys

from gmirs_case.bootstrap import MIGRATIONS, build, openapi
from gmirs_case.settings import CaseSettings
from gmirs_runtime.cli import ServiceCommand
from gmirs_runtime.cli import main as run_cli

COMMAND = ServiceCommand(
    name="case", load_settings=CaseSettings, build=build, migrations=MIGRATIONS, openapi=openapi
)


def main() -> None:
    sys.exit(run_cli(COMMAND))


if __name__ == "__main__":
    main()
