"""The notify service's settings: environment variables prefixed NOTIFY_."""

from __future__ import annotations

from datetime import timedelta
from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from gmirs_notify.domain.attendance_watch import WatchdogPolicy
from gmirs_notify.domain.deadline import DeadlinePolicy, RetrySchedule
from gmirs_notify.domain.report import ReportPolicy
from gmirs_notify.domain.targets import TargetPolicy
from gmirs_runtime.settings import ServiceSettings

DEFAULT_RM_UI_BASE_URL = "https://refer-monitor-intervention.service.justice.gov.uk"


class NotifySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFY_", extra="ignore")

    service_name: str = "notify"
    database_schema: str = "notify"
    http_port: int = 8104
    auth_audience: str = "gmirs-notify"

    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    dispatch_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    dispatch_max_in_flight: int = Field(default=50, ge=1, le=1000)
    escalate_before: timedelta = timedelta(hours=4)
    give_up_after: timedelta = timedelta(hours=72)
    report_clock_seconds: float = Field(default=15.0, gt=0, le=300)
    """How often the report clock looks for reports to escalate or breach."""
    gov_notify_api_key: SecretStr | None = None
    """GOV.UK Notify API key; without it escalation is the event, the log and the operator list."""
    gov_notify_base_url: str = "https://api.notifications.service.gov.uk"
    escalation_template_id: str | None = None
    """Notify email template with ((case_reference)), ((hub)), ((due_at)) and ((cause))."""
    attendance_watchdog_after: timedelta = Field(
        default=timedelta(hours=2), ge=timedelta(0), le=timedelta(hours=20)
    )
    """Warn the hub when nobody has recorded an appointment's attendance this long after its end
    (`PT2H` or seconds): early enough that a non-attendance can still be reported in 24 hours."""
    attendance_watchdog_template_id: str | None = None
    """Notify email template of the watchdog's warning to the hub's named contact:
    ((case_reference)), ((hub)), ((appointment_ended_at))."""
    practitioner_template_id: str | None = None
    """Notify email template of the report itself, for referrals without an R&M id:
    ((case_reference)), ((hub)), ((appointment_ended_at))."""
    escalation_hub_contacts: dict[str, str] = Field(default_factory=dict)
    """Hub id -> the hub's named contact's email address (JSON in the environment)."""
    escalation_lead_provider_email: str | None = None
    rm_api_url: str | None = None
    """R&M's API, for the write-back of hub-recorded non-attendance (off when unset)."""
    hmpps_auth_url: str | None = None
    rm_client_id: str | None = None
    rm_client_secret: SecretStr | None = None
    rm_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    rm_writeback_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    rm_writeback_first_retry_seconds: float = Field(default=5.0, gt=0, le=3600)
    """The first retry after a failed write-back (doubling, at most five minutes)."""
    rm_ui_base_url: str = Field(
        default=DEFAULT_RM_UI_BASE_URL,
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
    )
    """Refer and Monitor's web address: alerts link to `<base>/probation-practitioner/referrals/
    <R&M referral id>/progress`, the practitioner's page that lists the sessions, and manual
    entries to the same page under `/service-provider/` (where the hub enters it by hand)."""
    allow_private_webhook_targets: bool = False
    """Local stacks only: let webhooks reach private addresses (e.g. a compose network)."""

    @model_validator(mode="after")
    def _private_targets_only_in_development(self) -> Self:
        if self.allow_private_webhook_targets and not self.is_development:
            raise ValueError(
                f"allow_private_webhook_targets is refused in the {self.environment} environment"
            )
        return self

    def target_policy(self) -> TargetPolicy:
        """SSRF policy: production refuses http and non-public addresses, whatever else is set."""
        if self.is_development:
            return TargetPolicy.development(allow_private=self.allow_private_webhook_targets)
        return TargetPolicy.production()

    def deadline_policy(self, schedule: RetrySchedule | None = None) -> DeadlinePolicy:
        return DeadlinePolicy(
            schedule=schedule or RetrySchedule(),
            escalate_before=self.escalate_before,
            give_up_after=self.give_up_after,
        )

    def report_policy(self) -> ReportPolicy:
        """Reports escalate `escalate_before` their deadline: 20 hours after the end by default."""
        return ReportPolicy(escalate_before=self.escalate_before)

    def watchdog_policy(self) -> WatchdogPolicy:
        return WatchdogPolicy(after=self.attendance_watchdog_after)
