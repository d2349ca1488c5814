"""`gmirs-notify run | migrate | dead-letters | openapi`."""

from __future__ import annotations

import sys

from gmirs_notify.bootstrap import MIGRATIONS, build, openapi
from gmirs_notify.settings import NotifySettings
from gmirs_runtime.cli import ServiceCommand
from gmirs_runtime.cli import main as run_cli

COMMAND = ServiceCommand(
    name="notify", load_settings=NotifySettings, build=build, migrations=MIGRATIONS, openapi=openapi
)


def main() -> None:
    sys.exit(run_cli(COMMAND))


if __name__ == "__main__":
    main()
