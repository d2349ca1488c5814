"""Export each service's OpenAPI document into contracts/openapi/, or check that none drifted.

`python -m gmirs_stack.openapi` writes the files; `--check` exits 1 naming every document whose
committed file differs from what the service serves. Each service prints its own document
(`gmirs-<service> openapi`), so no service is imported here.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from gmirs_stack.config import SERVICES
from gmirs_stack.stack import REPO_ROOT

OPENAPI_DIR = REPO_ROOT / "contracts" / "openapi"


def exported(module: str) -> str:
    """The service's OpenAPI document, canonically formatted."""
    output = subprocess.run(
        [sys.executable, "-m", module, "openapi"],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    ).stdout
    return json.dumps(json.loads(output), indent=2, sort_keys=True) + "\n"


def target(name: str) -> Path:
    return OPENAPI_DIR / f"{name}.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gmirs_stack.openapi")
    parser.add_argument("--check", action="store_true", help="fail if a committed document drifted")
    args = parser.parse_args(argv)
    drifted = []
    for spec in SERVICES:
        document, path = exported(spec.module), target(spec.name)
        if args.check:
            if not path.exists() or path.read_text() != document:
                drifted.append(str(path.relative_to(REPO_ROOT)))
        else:
            path.write_text(document)
    if drifted:
        print(
            "OpenAPI drifted (run `uv run python -m gmirs_stack.openapi`): " + ", ".join(drifted),
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
