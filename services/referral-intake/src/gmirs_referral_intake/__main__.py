"""`gmirs-referral-intake run | migrate | dead-letters | openapi`."""

from __future__ import annotations

import sys

from gmirs_referral_intake.bootstrap import MIGRATIONS, build, openapi
from gmirs_referral_intake.settings import IntakeSettings
from gmirs_runtime.cli import ServiceCommand
from gmirs_runtime.cli import main as run_cli

COMMAND = ServiceCommand(
    name="referral-intake",
    load_settings=IntakeSettings,
    build=build,
    migrations=MIGRATIONS,
    openapi=openapi,
)


def main() -> None:
    sys.exit(run_cli(COMMAND))


if __name__ == "__main__":
    main()
