"""Base settings every service extends: read from the environment or a secrets directory only.

Each service subclasses `ServiceSettings` with its own `env_prefix` (e.g. "CASE_") and calls the
class once in its bootstrap. Secrets are `SecretStr` so they never appear in reprs or logs. Outside
the local and test environments the validator refuses configuration that is only safe on a
developer's machine: plain-http identity URLs, known development secrets, password-less databases.
"""

from __future__ import annotations

import os
from typing import Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)

Environment = Literal["local", "test", "production"]

KNOWN_DEV_SECRETS: frozenset[str] = frozenset(
    {
        "",
        "changeme",
        "change-me",
        "changethis",
        "local-dev-secret",
        "dev",
        "secret",
        "password",
        "postgres",
        "test",
    }
)


class ServiceSettings(BaseSettings):
    """Settings shared by every service; subclass and set `model_config` with an env_prefix.

    Secret files: point `<PREFIX>SECRETS_DIR` at a directory of files named like the variables
    (e.g. `case_database_url`), the usual layout of mounted Kubernetes or compose secrets.
    """

    # hide_input_in_errors: a validation error would otherwise print every value, secrets included.
    model_config = SettingsConfigDict(
        extra="ignore", env_nested_delimiter="__", hide_input_in_errors=True
    )

    environment: Environment = "local"
    service_name: str
    log_level: str = "INFO"

    database_url: SecretStr
    database_schema: str
    # Connections kept open; size it for the work done at once, because a connection beyond it
    # is opened and closed again (a new PostgreSQL backend each time) whenever demand peaks.
    database_pool_size: int = Field(default=10, ge=1, le=100)

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_session_timeout_ms: int = 6000
    kafka_heartbeat_interval_ms: int = 500
    kafka_fetch_max_wait_ms: int = 50
    kafka_enable_idempotence: bool = False  # True on Apache Kafka; Tansu does not support it
    # The producer's limit for one record, and the size every event is checked against when it is
    # added to the outbox (an event over it is refused, never committed). Keep it at or below the
    # broker's message.max.bytes.
    kafka_max_request_size: int = Field(default=1_048_576, ge=1024, le=100 * 1024 * 1024)

    http_host: str = "127.0.0.1"
    http_port: int
    # Larger request bodies are refused with a 413 (a referral is a few KiB).
    http_max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)

    auth_issuer: str
    auth_audience: str
    auth_jwks_url: str
    # Tokens whose `exp - iat` is longer are refused (as are tokens without either claim).
    auth_max_token_lifetime_seconds: int = Field(default=3600, ge=60, le=86400)

    # Requests per authenticated client id (unauthenticated public routes: per remote address),
    # counted in each replica: N replicas behind a balancer allow up to N times these.
    rate_limit_per_second: float = Field(default=50.0, gt=0)
    rate_limit_burst: int = Field(default=200, ge=1)

    @property
    def is_development(self) -> bool:
        """True where developer-only shortcuts (http URLs, dev secrets) are allowed."""
        return self.environment in ("local", "test")

    @model_validator(mode="after")
    def _refuse_insecure_production_config(self) -> Self:
        if not self.is_development:
            problems = insecure_settings(self)
            if problems:
                raise ValueError(
                    f"refusing insecure {self.environment} settings: " + "; ".join(problems)
                )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Take the secrets directory from `<PREFIX>SECRETS_DIR` unless one was given."""
        secrets = file_secret_settings
        if isinstance(secrets, SecretsSettingsSource) and secrets.secrets_dir is None:
            prefix = str(settings_cls.model_config.get("env_prefix") or "")
            directory = os.environ.get(f"{prefix}SECRETS_DIR".upper())
            if directory:
                secrets = SecretsSettingsSource(settings_cls, secrets_dir=directory)
        return init_settings, env_settings, dotenv_settings, secrets


def insecure_settings(settings: BaseSettings) -> list[str]:
    """Reasons the settings are unsafe outside development (names only, never secret values)."""
    problems: list[str] = []
    for name in type(settings).model_fields:
        value: Any = getattr(settings, name)
        if isinstance(value, SecretStr) and value.get_secret_value().strip().lower() in (
            KNOWN_DEV_SECRETS
        ):
            problems.append(f"{name} is a known development secret")
        elif isinstance(value, str) and _is_identity_url(name) and not value.startswith("https://"):
            problems.append(f"{name} must use https://")
    database_url = getattr(settings, "database_url", None)
    if isinstance(database_url, SecretStr):
        problems.extend(_database_url_problems(database_url.get_secret_value()))
    return problems


def _is_identity_url(field_name: str) -> bool:
    return field_name.startswith("auth_") and (
        field_name.endswith("_url") or field_name == "auth_issuer"
    )


def _database_url_problems(url: str) -> list[str]:
    try:
        password = urlsplit(url).password
    except ValueError:
        return ["database_url is not a valid URL"]
    if not password:
        return ["database_url has no password"]
    if password.strip().lower() in KNOWN_DEV_SECRETS:
        return ["database_url uses a known development password"]
    return []
