"""The case service's settings: environment variables prefixed CASE_."""

from __future__ import annotations

from datetime import time

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from gmirs_contracts.hubs import HUB_IDS
from gmirs_runtime.settings import ServiceSettings


class CaseSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CASE_", extra="ignore")

    service_name: str = "case"
    database_schema: str = "casework"
    http_port: int = 8102
    auth_audience: str = "gmirs-case"
    # The hubs that exist: a hub token naming any other `hub_id` is refused (403).
    hub_ids: list[str] = list(HUB_IDS)
    # How long an exit survey link stays usable after the hub asks for it.
    exit_survey_valid_days: int = Field(default=14, ge=1, le=90)
    # The end of the working day for evidence requests (Europe/London): one received at or after
    # it counts from the next working day, and one is due by it on the working day after (KP4).
    evidence_cutoff: time = time(17, 0)
