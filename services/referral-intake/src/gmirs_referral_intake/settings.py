"""Referral intake's settings: environment variables prefixed INTAKE_."""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from gmirs_contracts.hubs import HUB_IDS
from gmirs_referral_intake.domain.routing import DEFAULT_PDU_HUBS
from gmirs_referral_intake.domain.sns_origins import parse_origin
from gmirs_runtime.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="INTAKE_", extra="ignore", env_nested_delimiter="__"
    )

    service_name: str = "referral-intake"
    database_schema: str = "intake"
    http_port: int = 8101
    auth_audience: str = "gmirs-intake"
    # Each SQS poller handles up to ten messages at once, each with its own short transactions.
    database_pool_size: int = Field(default=20, ge=1, le=100)

    # Routing is configuration (JSON in INTAKE_PDU_HUBS / INTAKE_CONTRACT_HUBS), to the hubs
    # that exist (INTAKE_HUB_IDS; the shared default is gmirs_contracts.hubs.HUB_IDS).
    hub_ids: list[str] = list(HUB_IDS)
    pdu_hubs: dict[str, str] = dict(DEFAULT_PDU_HUBS)
    contract_hubs: dict[str, str] = {}

    # Direct referrals arriving together share a transaction: at most this many per batch, and
    # this many batches written at once (see gmirs_runtime.group_commit). One writer by default:
    # the next batch gathers while it commits, and a second writer halves the batches while each
    # transaction costs the process about a millisecond of CPU whatever its size (measured).
    accept_batch_max: int = Field(default=64, ge=1, le=1000)
    accept_writers: int = Field(default=1, ge=1, le=16)

    # Refer and Monitor API, called with an OAuth2 client-credentials token from HMPPS Auth.
    rm_api_url: str | None = None
    hmpps_auth_url: str | None = None
    rm_client_id: str | None = None
    rm_client_secret: SecretStr | None = None
    rm_timeout_seconds: float = 10.0

    # Our SQS queue, subscribed to the HMPPS domain-events SNS topic (moto stands in locally).
    sqs_queue_url: str | None = None
    aws_region: str = "eu-west-2"
    aws_endpoint_url: str | None = None  # set only for moto; real AWS uses the default endpoints
    aws_access_key_id: SecretStr | None = None
    aws_secret_access_key: SecretStr | None = None
    sqs_wait_seconds: int = 20
    sqs_pollers: int = 2  # concurrent long polls: one receives while the other's batch is applied
    sqs_visibility_timeout_seconds: int = 60
    # The queue's redrive policy: after this many receives a message moves to its DLQ.
    sqs_max_receive_count: int = 5
    # A transient failure (R&M down) shorter than this never sends a message to the DLQ.
    sqs_outage_tolerance_seconds: float = 900.0

    # SNS HTTPS push: signatures are checked against certificates from these origins only
    # (scheme://host[:port], matched exactly; outside local/test only https://sns.<region>.
    # amazonaws.com). A notification older than the maximum age is refused as a replay.
    sns_verify_signatures: bool = True
    sns_certificate_origins: list[str] = ["https://sns.eu-west-2.amazonaws.com"]
    sns_max_message_age_seconds: float = Field(default=3600.0, gt=0)
    sns_topic_arns: list[str] = []  # accepted TopicArn values (empty: any)

    # Reconciliation against R&M's sent-referral summaries (a round at start, then each interval,
    # in one replica at a time). Off only where it would distort a measurement (benchmarks).
    reconcile_enabled: bool = True
    reconcile_interval_seconds: float = 300.0
    reconcile_page_size: int = 50

    # Retries of transient failures (R&M 5xx, timeouts, token endpoint down).
    retry_initial_seconds: float = 1.0
    retry_max_seconds: float = 60.0

    @property
    def rm_configured(self) -> bool:
        return bool(
            self.rm_api_url and self.hmpps_auth_url and self.rm_client_id and self.rm_client_secret
        )

    @model_validator(mode="after")
    def _route_only_to_configured_hubs(self) -> Self:
        unknown = sorted({*self.pdu_hubs.values(), *self.contract_hubs.values()} - {*self.hub_ids})
        if unknown:
            raise ValueError(f"routing names hubs that are not configured: {', '.join(unknown)}")
        return self

    @model_validator(mode="after")
    def _refuse_unsigned_sns_outside_development(self) -> Self:
        if not self.is_development and not self.sns_verify_signatures:
            raise ValueError("sns_verify_signatures may be off only in local or test")
        return self

    @model_validator(mode="after")
    def _sns_certificates_only_from_aws_outside_development(self) -> Self:
        for origin in self.sns_certificate_origins:
            parse_origin(origin, aws_only=not self.is_development)
        return self
