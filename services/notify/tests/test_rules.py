"""notify's rules without I/O: targets, the retry schedule, verdicts, secrets, signatures, settings."""

from __future__ import annotations

import ipaddress
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from gmirs_notify.adapters.guard import GuardedNetworkBackend, resolve
from gmirs_notify.adapters.sender import parse_retry_after, webhook_headers
from gmirs_notify.domain.deadline import DeadlinePolicy, RetrySchedule
from gmirs_notify.domain.delivery import (
    AttemptOutcome,
    DeliveryStatus,
    Verdict,
    judge,
    webhook_id,
)
from gmirs_notify.domain.subscription import ROTATION_GRACE, Subscription, new_secret
from gmirs_notify.domain.targets import (
    TargetPolicy,
    TargetRefusedError,
    check_addresses,
    embedded_ipv4,
    numeric_ipv4,
    parse_target,
)
from gmirs_notify.settings import NotifySettings

NOW = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
DUE = NOW + timedelta(hours=20)
PRODUCTION = TargetPolicy.production()
LOCAL = TargetPolicy.development()


@pytest.mark.parametrize(
    "url", ["https://8.8.8.8/hook", "https://pp.example.org/hook", "https://[2001:4860::8888]/x"]
)
def test_production_accepts_public_https(url: str) -> None:
    assert parse_target(url, PRODUCTION).scheme == "https"


@pytest.mark.parametrize(
    "url",
    [
        "http://8.8.8.8/hook",
        "https://127.0.0.2/hook",
        "https://172.16.0.1/hook",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
        "https://[fe80::1]/hook",
        "https:///hook",
        "https://8.8.8.8:99999/hook",
    ],
)
def test_production_refuses(url: str) -> None:
    with pytest.raises(TargetRefusedError):
        parse_target(url, PRODUCTION)


def test_local_allows_http_loopback_but_not_private_unless_asked() -> None:
    assert parse_target("http://127.0.0.1:8080/hook", LOCAL).port == 8080
    with pytest.raises(TargetRefusedError, match="private"):
        parse_target("http://10.0.0.5/hook", LOCAL)
    assert parse_target("http://10.0.0.5/hook", TargetPolicy.development(allow_private=True))


def test_one_refused_address_refuses_the_name() -> None:
    addresses = [ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("10.0.0.1")]
    with pytest.raises(TargetRefusedError, match=r"pp\.example\.org resolves to a refused"):
        check_addresses("pp.example.org", addresses, PRODUCTION)
    with pytest.raises(TargetRefusedError, match="does not resolve"):
        check_addresses("pp.example.org", [], PRODUCTION)


def test_the_schedule_is_compressed_and_honours_retry_after_with_a_cap() -> None:
    schedule = RetrySchedule()
    assert [schedule.delay_after(n).total_seconds() for n in range(1, 9)] == [
        5,
        30,
        120,
        300,
        900,
        1800,
        3600,
        3600,
    ]
    assert schedule.delay_after(1, timedelta(seconds=90)) == timedelta(seconds=90)
    assert schedule.delay_after(3, timedelta(seconds=1)) == timedelta(minutes=2)
    assert schedule.delay_after(1, timedelta(days=2)) == timedelta(hours=1)


def _judge(
    outcome: AttemptOutcome, *, attempts: int = 1, now: datetime = NOW, due: datetime = DUE
) -> Verdict:
    return judge(outcome, attempts=attempts, due_at=due, now=now, policy=DeadlinePolicy())


def test_verdicts() -> None:
    assert _judge(AttemptOutcome(204)).status is DeliveryStatus.ACKNOWLEDGED
    gone = _judge(AttemptOutcome(410))
    assert (gone.status, gone.deactivate_subscription) == (DeliveryStatus.FAILED, True)
    for failure in (AttemptOutcome(500), AttemptOutcome(302), AttemptOutcome(None, "ReadTimeout")):
        verdict = _judge(failure)
        assert verdict.status is DeliveryStatus.PENDING
        assert verdict.next_attempt_at == NOW + timedelta(seconds=5)
        assert verdict.escalate is False


def test_escalation_when_the_deadline_is_near_or_the_next_try_would_miss_it() -> None:
    near = _judge(AttemptOutcome(500), now=DUE - timedelta(hours=3))
    assert (near.status, near.escalate) == (DeliveryStatus.PENDING, True)
    late_retry = judge(
        AttemptOutcome(503, retry_after=timedelta(minutes=50)),
        attempts=1,
        due_at=NOW + timedelta(minutes=30),
        now=NOW,
        policy=DeadlinePolicy(escalate_before=timedelta(minutes=10)),
    )
    assert late_retry.next_attempt_at is not None
    assert late_retry.next_attempt_at > NOW + timedelta(minutes=30)
    assert late_retry.escalate is True
    expired = _judge(AttemptOutcome(500), now=DUE + timedelta(hours=73))
    assert (expired.status, expired.escalate) == (DeliveryStatus.FAILED, True)


def _subscription() -> Subscription:
    return Subscription(
        id=uuid.uuid4(),
        owner_client_id="pp",
        url="https://8.8.8.8/hook",
        description=None,
        event_types=("non-attendance.recorded",),
        secret=new_secret(),
        created_at=NOW,
    )


def test_rotation_signs_with_both_secrets_for_the_grace_period_only() -> None:
    subscription = _subscription()
    old = subscription.secret
    new = subscription.rotate_secret(NOW)
    assert subscription.signing_secrets(NOW) == (new, old)
    assert subscription.signing_secrets(NOW + ROTATION_GRACE) == (new,)
    subscription.retire_previous_secret()
    assert subscription.signing_secrets(NOW) == (new,)


def test_secrets_are_32_random_bytes_in_standard_webhooks_form() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(Webhook(secret)._whsecret) == 32
    assert new_secret() != secret


def test_each_secret_alone_verifies_a_doubly_signed_webhook() -> None:
    old, new, other = new_secret(), new_secret(), new_secret()
    body = '{"type": "non-attendance.recorded"}'
    delivery_id = uuid.uuid4()
    timestamp = int(datetime.now(UTC).timestamp())
    headers = webhook_headers(webhook_id(delivery_id), body, (new, old), timestamp)
    assert headers["webhook-id"] == f"msg_{delivery_id.hex}"
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(body.encode(), headers, json_parse=False)
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(body.encode(), headers, json_parse=False)


def test_retry_after_forms() -> None:
    assert parse_retry_after("120", NOW) == timedelta(seconds=120)
    assert parse_retry_after("Tue, 03 Mar 2026 09:10:00 GMT", NOW) == timedelta(minutes=10)
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def _production(**overrides: object) -> NotifySettings:
    values: dict[str, object] = {
        "environment": "production",
        "database_url": "postgresql://notify:Xk93-long-random@db:5432/gmirs",
        "auth_issuer": "https://auth.example.org",
        "auth_jwks_url": "https://auth.example.org/.well-known/jwks.json",
    }
    values.update(overrides)
    return NotifySettings(**values)  # type: ignore[arg-type]


def test_leases_are_the_longest_call_plus_the_margin() -> None:
    defaults = _production()
    assert defaults.delivery_lease() == timedelta(seconds=40)  # 10 s attempt + 30 s
    assert defaults.writeback_lease() == timedelta(seconds=60)  # three 10 s calls + 30 s
    compressed = _production(
        webhook_timeout_seconds=2, rm_timeout_seconds=2, lease_margin_seconds=1
    )
    assert (compressed.delivery_lease(), compressed.writeback_lease()) == (
        timedelta(seconds=3),
        timedelta(seconds=7),
    )
    with pytest.raises(ValidationError, match="lease_margin_seconds"):
        _production(lease_margin_seconds=0)


def test_settings_refuse_private_targets_in_production() -> None:
    assert _production().target_policy() == PRODUCTION
    with pytest.raises(ValidationError, match="allow_private_webhook_targets"):
        _production(allow_private_webhook_targets=True)
    local = _production(environment="local", allow_private_webhook_targets=True)
    assert local.target_policy() == TargetPolicy.development(allow_private=True)
    assert (local.http_port, local.auth_audience, local.database_schema) == (
        8104,
        "gmirs-notify",
        "notify",
    )


@pytest.mark.parametrize(
    "host", ["2130706433", "0x7f000001", "0177.0.0.1", "127.1", "0x7f.1", "017700000001", "10.1"]
)
def test_numeric_ipv4_spellings_are_read_as_the_address_they_mean(host: str) -> None:
    with pytest.raises(TargetRefusedError, match=r"(127\.0\.0\.1|10\.0\.0\.1) is a"):
        parse_target(f"https://{host}/hook", PRODUCTION)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("8.8.8.8.", "8.8.8.8"),
        ("134744072", "8.8.8.8"),
        ("pp.example.org", None),
        ("1.2.3.4.5", None),
        ("256.1.1.1", None),
        ("1.2.3.0x100", None),
        ("09.1.1.1", None),
        ("4294967296", None),
    ],
)
def test_numeric_ipv4_follows_inet_aton(host: str, expected: str | None) -> None:
    found = numeric_ipv4(host)
    assert (None if found is None else str(found)) == expected


@pytest.mark.parametrize(
    "address",
    [
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::127.0.0.1",
        "::10.0.0.1",
        "64:ff9b::127.0.0.1",
        "64:ff9b::169.254.169.254",
        "64:ff9b:1::8.8.8.8",
        "64:ff9b:1::10.0.0.1",
        "2002:7f00:1::1",
        "2002:a9fe:a9fe::1",
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    ],
)
def test_production_refuses_ipv4_carried_in_ipv6(address: str) -> None:
    with pytest.raises(TargetRefusedError):
        parse_target(f"https://[{address}]/hook", PRODUCTION)
    with pytest.raises(TargetRefusedError, match="resolves to a refused"):
        check_addresses("pp.example.org", [ipaddress.ip_address(address)], PRODUCTION)


@pytest.mark.parametrize("address", ["::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "2002:808:808::1"])
def test_production_accepts_ipv6_forms_of_a_public_ipv4(address: str) -> None:
    assert parse_target(f"https://[{address}]/hook", PRODUCTION).port == 443


def test_embedded_ipv4_unwraps_each_form() -> None:
    def inner(text: str) -> str | None:
        found = embedded_ipv4(ipaddress.IPv6Address(text))
        return None if found is None else str(found)

    assert inner("::ffff:10.1.2.3") == "10.1.2.3"
    assert inner("::10.1.2.3") == "10.1.2.3"
    assert inner("64:ff9b::10.1.2.3") == "10.1.2.3"
    assert inner("2002:0a01:0203::1") == "10.1.2.3"
    assert inner("2001:0:4136:e378:8000:63bf:f5fe:fdfc") == "10.1.2.3"
    assert inner("::1") is None
    assert inner("2001:4860::8888") is None


def test_local_still_allows_ipv6_loopback() -> None:
    assert parse_target("http://[::1]:8080/hook", LOCAL).port == 8080
    assert parse_target("http://127.1:8080/hook", LOCAL).port == 8080


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "0177.0.0.1", "127.1"])
async def test_the_guard_refuses_numeric_spellings_after_resolving_them(host: str) -> None:
    """What the delivery-time guard sees: the resolver's own reading of the numeric host."""
    assert [str(a) for a in await resolve(host, 443)] == ["127.0.0.1"]
    with pytest.raises(TargetRefusedError, match="loopback"):
        await GuardedNetworkBackend(PRODUCTION).connect_tcp(host, 443, timeout=1)
