"""ServiceSettings: environment and secret files in, insecure production configuration refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from gmirs_runtime.settings import ServiceSettings

SAFE = {
    "DEMO_SERVICE_NAME": "demo",
    "DEMO_DATABASE_URL": "postgresql://demo:Zr8-long-random-Pw@db.internal:5432/demo",
    "DEMO_DATABASE_SCHEMA": "demo",
    "DEMO_HTTP_PORT": "8080",
    "DEMO_AUTH_ISSUER": "https://auth.example.net",
    "DEMO_AUTH_AUDIENCE": "demo-api",
    "DEMO_AUTH_JWKS_URL": "https://auth.example.net/.well-known/jwks.json",
}


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in SAFE.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_reads_the_prefixed_environment_with_defaults(env: pytest.MonkeyPatch) -> None:
    settings = DemoSettings()

    assert settings.environment == "local"
    assert settings.is_development
    assert settings.http_port == 8080
    assert settings.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert settings.database_url.get_secret_value() == SAFE["DEMO_DATABASE_URL"]
    assert "Zr8-long-random-Pw" not in repr(settings)


def test_secure_production_settings_are_accepted(env: pytest.MonkeyPatch) -> None:
    env.setenv("DEMO_ENVIRONMENT", "production")

    settings = DemoSettings()

    assert settings.environment == "production"
    assert not settings.is_development


def test_local_environment_allows_developer_shortcuts(env: pytest.MonkeyPatch) -> None:
    env.setenv("DEMO_AUTH_ISSUER", "http://127.0.0.1:9400")
    env.setenv("DEMO_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/demo")

    settings = DemoSettings()

    assert settings.auth_issuer == "http://127.0.0.1:9400"


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("DEMO_AUTH_ISSUER", "http://auth.example.net", "auth_issuer must use https"),
        ("DEMO_AUTH_JWKS_URL", "http://auth.example.net/jwks", "auth_jwks_url must use https"),
        ("DEMO_DATABASE_URL", "postgresql://demo@db:5432/demo", "database_url has no password"),
        (
            "DEMO_DATABASE_URL",
            "postgresql://demo:changeme@db:5432/demo",
            "database_url uses a known development password",
        ),
    ],
)
def test_production_refuses_insecure_settings(
    env: pytest.MonkeyPatch, name: str, value: str, reason: str
) -> None:
    env.setenv("DEMO_ENVIRONMENT", "production")
    env.setenv(name, value)

    with pytest.raises(ValidationError, match=reason) as error:
        DemoSettings()

    assert "changeme" not in str(error.value)


class SecretSettings(DemoSettings):
    client_secret: SecretStr


def test_production_refuses_known_development_secrets(env: pytest.MonkeyPatch) -> None:
    env.setenv("DEMO_ENVIRONMENT", "production")
    env.setenv("DEMO_CLIENT_SECRET", "local-dev-secret")

    with pytest.raises(
        ValidationError, match="client_secret is a known development secret"
    ) as error:
        SecretSettings()

    assert "local-dev-secret" not in str(error.value)


def test_secrets_come_from_a_secrets_directory(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.delenv("DEMO_DATABASE_URL")
    (tmp_path / "demo_database_url").write_text("postgresql://demo:From-File-Pw-77@db:5432/demo")
    env.setenv("DEMO_SECRETS_DIR", str(tmp_path))

    settings = DemoSettings()

    assert settings.database_url.get_secret_value().endswith("From-File-Pw-77@db:5432/demo")
