"""`gmirs-referral-intake run | migrate | dead-letters | openapi | quarantine | import-pilot`."""

from __future__ import annotations

import sys

from gmirs_referral_intake.bootstrap import MIGRATIONS, build, openapi
from gmirs_referral_intake.entrypoints.pilot_cli import IMPORT_PILOT_COMMAND
from gmirs_referral_intake.entrypoints.quarantine_cli import QUARANTINE_COMMAND
from gmirs_referral_intake.settings import IntakeSettings
from gmirs_runtime.cli import ServiceCommand
from gmirs_runtime.cli import main as run_cli

COMMAND = ServiceCommand(
    name="referral-intake",
    load_settings=IntakeSettings,
    build=build,
    migrations=MIGRATIONS,
    openapi=openapi,
    extra={"quarantine": QUARANTINE_COMMAND, "import-pilot": IMPORT_PILOT_COMMAND},
)


def main() -> None:
    sys.exit(run_cli(COMMAND))


if __name__ == "__main__":
    main()
