"""Referral intake's settings: environment variables prefixed INTAKE_."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from gmirs_referral_intake.domain.routing import DEFAULT_PDU_HUBS
from gmirs_runtime.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="INTAKE_", extra="ignore", env_nested_delimiter="__"
    )

    service_name: str = "referral-intake"
    database_schema: str = "intake"
    http_port: int = 8101
    auth_audience: str = "gmirs-intake"
    # Routing is configuration (JSON in INTAKE_PDU_HUBS / INTAKE_CONTRACT_HUBS).
    pdu_hubs: dict[str, str] = dict(DEFAULT_PDU_HUBS)
    contract_hubs: dict[str, str] = {}
