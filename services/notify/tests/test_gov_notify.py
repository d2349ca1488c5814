"""GOV.UK Notify: the fake checks keys the way Notify does, and escalation emails go through it.

The client is the official `notifications-python-client` (through notify's adapter); the fake is
a real HTTP server on loopback that verifies its JWTs with the functions Notify's API uses.
"""

from __future__ import annotations

import calendar
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from pydantic import SecretStr

from gmirs_contracts import examples
from gmirs_notify.adapters.gov_notify import GovNotifyClient, NotifyError
from gmirs_notify.bootstrap import Wiring
from gmirs_notify.settings import NotifySettings
from gmirs_runtime.eventing.envelope import Event
from gmirs_runtime.testing.issuer import TestIssuer
from gmirs_runtime.testing.kafka import eventually
from tests.fakes.gov_notify import CLOCK_ERROR, GovNotify, Template

from .harness import Notify, ShiftedClock, attendance_event, running_notify, serving

SERVICE_ID = str(uuid.uuid4())
SECRET = str(uuid.uuid4())
API_KEY = f"gmirs_test-{SERVICE_ID}-{SECRET}"
TEMPLATE_ID = str(uuid.uuid4())
TEMPLATE = Template(
    subject="Non-attendance report at risk: ((case_reference))",
    body="Hub ((hub)): the report is due by ((due_at)) and is not through (cause: ((cause))).",
)
PRACTITIONER_TEMPLATE_ID = str(uuid.uuid4())
PRACTITIONER_TEMPLATE = Template(
    subject="Non-attendance: ((case_reference))",
    body="The person referred to hub ((hub)) missed the appointment ending ((appointment_ended_at)).",
)
HUB_CONTACT, LEAD_PROVIDER = "bolton.contact@example.org", "lead.provider@example.org"
PRACTITIONER = "sam.practitioner@example.org"


@pytest.fixture
async def fake_notify() -> AsyncIterator[tuple[GovNotify, str]]:
    templates = {TEMPLATE_ID: TEMPLATE, PRACTITIONER_TEMPLATE_ID: PRACTITIONER_TEMPLATE}
    fake = GovNotify([API_KEY], templates, hold_in_sending=True)
    async with serving(fake.app) as url:
        yield fake, url


def _token(*, iat_offset: int, secret: str = SECRET) -> str:
    iat = calendar.timegm(time.gmtime()) + iat_offset
    return jwt.encode({"iss": SERVICE_ID, "iat": iat}, secret, algorithm="HS256")


async def test_the_fake_accepts_the_real_client_and_refuses_bad_keys_and_stale_tokens(
    fake_notify: tuple[GovNotify, str],
) -> None:
    fake, url = fake_notify
    client = GovNotifyClient(api_key=API_KEY, base_url=url)
    personalisation = {"case_reference": "AB1234CD", "hub": "bolton", "due_at": "x", "cause": "y"}
    sent = await client.send_email(
        to="simulate-delivered@notifications.service.gov.uk",
        template_id=TEMPLATE_ID,
        personalisation=personalisation,
    )
    assert await client.status(sent.notification_id) == "delivered"
    held = await client.send_email(
        to=HUB_CONTACT, template_id=TEMPLATE_ID, personalisation=personalisation
    )
    assert await client.status(held.notification_id) == "sending"

    wrong_key = GovNotifyClient(api_key=f"gmirs_test-{SERVICE_ID}-{uuid.uuid4()}", base_url=url)
    with pytest.raises(NotifyError) as refused:
        await wrong_key.status(sent.notification_id)
    assert (refused.value.detail, refused.value.permanent) == ("notify 403", True)
    assert fake.refusals == ["Invalid token: API key not found"]

    async with httpx.AsyncClient(base_url=url) as http:
        path = f"/v2/notifications/{sent.notification_id}"
        for offset in (-31, 31):  # Notify allows 30 seconds either way
            stale = await http.get(
                path, headers={"Authorization": f"Bearer {_token(iat_offset=offset)}"}
            )
            assert stale.status_code == 403
            assert stale.json()["errors"][0] == {"error": "AuthError", "message": CLOCK_ERROR}
        fresh = await http.get(path, headers={"Authorization": f"Bearer {_token(iat_offset=-25)}"})
        assert fresh.status_code == 200
        assert (await http.get(path)).status_code == 401

    with pytest.raises(NotifyError) as missing:
        await client.send_email(to=HUB_CONTACT, template_id=TEMPLATE_ID, personalisation={})
    assert missing.value.permanent is True
    permanent = await client.send_email(
        to="perm-fail@simulator.notify", template_id=TEMPLATE_ID, personalisation=personalisation
    )
    assert await client.status(permanent.notification_id) == "permanent-failure"


async def test_an_escalation_emails_the_hub_contact_and_lead_provider_with_no_personal_data(
    settings: NotifySettings,
    wiring: Wiring,
    token_issuer: TestIssuer,
    clock: ShiftedClock,
    fake_notify: tuple[GovNotify, str],
) -> None:
    fake, url = fake_notify
    async with running_notify(_configured(settings, url), wiring, token_issuer) as notify:
        event = attendance_event(due_in=timedelta(hours=23))
        await notify.publish(event)
        await _has_report(notify, event.subject)
        clock.advance(timedelta(hours=19, minutes=1))

        async def notified() -> bool:
            [report] = await notify.report(event.subject)
            return report["escalation_notified_at"] is not None

        await eventually(notified, what="escalation emailed")
        [report] = await notify.report(event.subject)

    sent = list(fake.notifications.values())
    assert sorted(n.email_address for n in sent) == [HUB_CONTACT, LEAD_PROVIDER]
    for notification in sent:
        assert notification.reference == str(report["id"])
        assert set(notification.personalisation) == {"case_reference", "hub", "due_at", "cause"}
        assert notification.personalisation["case_reference"] == "AB1234CD"
        assert notification.personalisation["cause"] == "not-attempted"
        assert notification.subject == "Non-attendance report at risk: AB1234CD"
        for personal in ("X123456", "Smith", str(event.subject)):
            assert personal not in notification.subject + notification.body
    assert fake.refusals == []


def _configured(settings: NotifySettings, url: str) -> NotifySettings:
    return settings.model_copy(
        update={
            "gov_notify_api_key": SecretStr(API_KEY),
            "gov_notify_base_url": url,
            "escalation_template_id": TEMPLATE_ID,
            "practitioner_template_id": PRACTITIONER_TEMPLATE_ID,
            "escalation_hub_contacts": {"bolton": HUB_CONTACT},
            "escalation_lead_provider_email": LEAD_PROVIDER,
        }
    )


async def test_a_referral_without_an_rm_id_is_reported_by_email_complete_when_delivered(
    settings: NotifySettings,
    wiring: Wiring,
    token_issuer: TestIssuer,
    clock: ShiftedClock,
    fake_notify: tuple[GovNotify, str],
) -> None:
    fake, url = fake_notify
    async with running_notify(_configured(settings, url), wiring, token_issuer) as notify:
        delivered = await _direct_non_attendance(notify, wiring, PRACTITIONER)
        refused = await _direct_non_attendance(notify, wiring, "perm-fail@simulator.notify")
        await _attempted(notify, delivered, "notify_email", "accepted")
        await _attempted(notify, refused, "notify_email", "accepted")
        [sent] = [n for n in fake.notifications.values() if n.email_address == PRACTITIONER]
        assert set(sent.personalisation) == {"case_reference", "hub", "appointment_ended_at"}
        for personal in ("X123456", "Sam", "Smith"):
            assert personal not in sent.subject + sent.body
        sent.status = "delivered"  # Notify's provider confirmed it
        clock.advance(timedelta(seconds=31))  # the status is followed every 30 seconds
        report = await _attempted(notify, delivered, "notify_email", "acknowledged")
        assert report["acknowledged_channel"] == "notify_email"
        [acknowledged] = await notify.published("gmirs.notify.report-acknowledged.v1", delivered)
        assert acknowledged["channel"] == "notify_email"
        report = await _attempted(notify, refused, "notify_email", "refused")
        assert (report["escalation_cause"], report["acknowledged_at"]) == ("refused", None)
        assert report["escalation_detail"] == "notify_email: refused (permanent-failure) x1"

        # The non-attendance before intake's referral: the email waits for the address.
        early_referral = uuid.uuid4()
        early = attendance_event(referral_id=early_referral, rm_referral_id=None)
        await notify.publish(early)
        assert isinstance(early.subject, uuid.UUID)
        await _has_report(notify, early.subject)
        await notify.rows("SELECT pg_sleep(0.3)")  # a few clock rounds
        assert (await notify.report(early.subject))[0]["attempts"] == []
        await _referral(notify, wiring, early_referral, "late.referral@example.org")
        clock.advance(timedelta(minutes=1, seconds=1))  # the waiting report's lease ends
        await _attempted(notify, early.subject, "notify_email", "accepted")


async def _direct_non_attendance(notify: Notify, wiring: Wiring, email: str) -> uuid.UUID:
    """intake's referral (no R&M id, the practitioner's address) and then its non-attendance."""
    referral_id = uuid.uuid4()
    await _referral(notify, wiring, referral_id, email)
    missed = attendance_event(referral_id=referral_id, rm_referral_id=None)
    await notify.publish(missed)
    assert isinstance(missed.subject, uuid.UUID)
    return missed.subject


async def _referral(notify: Notify, wiring: Wiring, referral_id: uuid.UUID, email: str) -> None:
    received = examples.referral_received().model_copy(
        update={
            "referral_id": referral_id,
            "source": "direct",
            "rm_referral_id": None,
            "referring_practitioner": examples.referral_received().referring_practitioner.model_copy(
                update={"email": email}
            ),
        }
    )
    event = Event(
        type="gmirs.intake.referral-received.v1",
        source="/gmirs/intake",
        subject=referral_id,
        data=received.to_data(),
    )
    await notify.publish(event, wiring.intake_topic)


async def _attempted(
    notify: Notify, case_id: uuid.UUID, channel: str, result: str
) -> dict[str, Any]:
    async def found() -> bool:
        reports = await notify.report(case_id)
        return any(
            (a["channel"], a["result"]) == (channel, result) for r in reports for a in r["attempts"]
        )

    await eventually(found, what=f"{channel} {result}")
    [report] = await notify.report(case_id)
    return report


async def _has_report(notify: Notify, case_id: object) -> None:
    assert isinstance(case_id, uuid.UUID)

    async def started() -> bool:
        return bool(await notify.report(case_id))

    await eventually(started, what="report started")
