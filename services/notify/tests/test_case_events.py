"""What an alert carries, the delivery-unit filter, and case events gated by consent.

Case events arrive on the real broker in the order case publishes them (one key per case); the
receivers are fake probation systems verifying signatures with the reference library.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from gmirs_contracts import examples
from gmirs_contracts.base import ContractModel
from gmirs_contracts.case_lifecycle import ActionPlanAgreed, CaseClosed
from gmirs_contracts.case_needs import ConsentGiven, ConsentWithdrawn
from gmirs_contracts.example_ids import REFERRAL_ID, RM_REFERRAL_ID
from gmirs_contracts.registry import contract_for
from gmirs_contracts.validation import validate_webhook
from gmirs_contracts.webhooks import ActionPlanAgreedAlert, ProbationAlert
from gmirs_notify.settings import NotifySettings
from gmirs_runtime.eventing.envelope import Event
from gmirs_runtime.testing.kafka import eventually

from .harness import OPERATOR, PROBATION_A, PROBATION_B, FakeEndpoint, Fakes, Notify
from .test_endpoints import _endpoint

PARTNER = "Probation GM"
PLANS_AND_CLOSURES = ["action-plan.agreed", "case.closed"]


def _event(case_id: uuid.UUID, payload: ContractModel) -> Event:
    return Event(
        type=contract_for(type(payload)).ce_type,
        source="/gmirs/case",
        subject=case_id,
        data=payload.to_data(),
    )


def _opened(case_id: uuid.UUID, unit: str) -> Event:
    opened = examples.case_opened().model_copy(
        update={"case_id": case_id, "probation_delivery_unit": unit}
    )
    return _event(case_id, opened)


def _missed(case_id: uuid.UUID, appointment_id: uuid.UUID, **update: Any) -> Event:
    now = datetime.now(UTC)
    attendance = examples.attendance_recorded().model_copy(
        update={
            "case_id": case_id,
            "appointment_id": appointment_id,
            "recorded_at": now,
            "report_due_by": now + timedelta(hours=23),
            **update,
        }
    )
    return _event(case_id, attendance)


def _moved(case_id: uuid.UUID) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "case_id": case_id,
        "referral_id": REFERRAL_ID,
        "hub_id": "bolton",
        "source": "hub",
        "occurred_at": now,
        "recorded_at": now,
        "referral_sent_at": now - timedelta(days=20),
    }


def _plan_agreed(case_id: uuid.UUID) -> Event:
    agreed = ActionPlanAgreed(
        **_moved(case_id),
        from_state="needs-assessed",
        state="action-plan-agreed",
        initial_assessment_attended_at=None,
        version=1,
        number_of_sessions=6,
    )
    return _event(case_id, agreed)


def _closed(case_id: uuid.UUID) -> Event:
    closed = CaseClosed(
        **_moved(case_id),
        from_state="in-sessions",
        state="closed",
        closure_reason="completed",
        reason_settled=True,
        rm_withdrawal_code=None,
        rm_delivery_state=None,
        sessions_completed_at=None,
        exit_survey_offered_at=None,
    )
    return _event(case_id, closed)


def _consent(case_id: uuid.UUID, consent_id: uuid.UUID, partner: str, *scopes: str) -> Event:
    now = datetime.now(UTC)
    given = ConsentGiven(
        case_id=case_id,
        referral_id=REFERRAL_ID,
        hub_id="bolton",
        consent_id=consent_id,
        partner=partner,
        scopes=list(scopes),
        given_at=now,
        recorded_at=now,
    )
    return _event(case_id, given)


def _withdrawal(case_id: uuid.UUID, consent_id: uuid.UUID) -> Event:
    now = datetime.now(UTC)
    withdrawn = ConsentWithdrawn(
        case_id=case_id,
        referral_id=REFERRAL_ID,
        hub_id="bolton",
        consent_id=consent_id,
        partner=PARTNER,
        withdrawn_at=now,
        recorded_at=now,
    )
    return _event(case_id, withdrawn)


async def _publish_and_wait(notify: Notify, *events: Event) -> None:
    stats = notify.infra.consumers[0].stats
    before = stats.applied + stats.duplicates
    for event in events:
        await notify.publish(event)

    async def consumed() -> bool:
        return bool(stats.applied + stats.duplicates >= before + len(events))

    await eventually(consumed)
    assert notify.infra.consumers[0].stats.dead_lettered == 0


async def _received(endpoint: FakeEndpoint, n: int) -> None:
    async def enough() -> bool:
        return len(endpoint.accepted()) >= n

    await eventually(enough)


async def test_the_alert_has_the_session_and_the_rm_link_and_units_filter(
    notify: Notify, fakes: Fakes, settings: NotifySettings
) -> None:
    bury, _ = await _endpoint(notify, fakes, pdu_codes=["Bury"])
    bolton_unit, _ = await _endpoint(notify, fakes, owner=PROBATION_B, pdu_codes=["Bolton"])
    case_id, appointment_id = uuid.uuid4(), uuid.uuid4()
    booked = examples.appointment_booked().model_copy(
        update={"case_id": case_id, "appointment_id": appointment_id, "session_number": 4}
    )
    await _publish_and_wait(
        notify,
        _opened(case_id, "Bury"),
        _event(case_id, booked),
        _missed(case_id, appointment_id),
    )
    await _received(bury, 1)
    [received] = bury.accepted()
    validate_webhook(received.body)
    alert = ProbationAlert.model_validate(received.body)
    assert alert.data.session_number == 4
    assert alert.data.rm_url == (
        f"{settings.rm_ui_base_url}/probation-practitioner/referrals/{RM_REFERRAL_ID}/progress"
    )
    assert (alert.data.appointment.appointment_id, alert.data.appointment.kind) == (
        appointment_id,
        "session",
    )
    assert alert.data.crn == "X123456"
    # Exactly what a practitioner needs to act: no name, date of birth or contact details.
    assert set(received.body["data"]) == {
        "case_id",
        "referral_id",
        "rm_referral_id",
        "reference_number",
        "crn",
        "hub_id",
        "appointment",
        "attended",
        "session_happened",
        "no_session_reason",
        "notify_pp_of_concerns",
        "recorded_at",
        "report_due_by",
        "session_number",
        "rm_url",
    }
    assert bolton_unit.system.deliveries == []

    # A referral without an R&M id has no link; an unknown appointment no session number.
    direct = uuid.uuid4()
    await _publish_and_wait(
        notify, _opened(direct, "Bury"), _missed(direct, uuid.uuid4(), rm_referral_id=None)
    )
    await _received(bury, 2)
    later = ProbationAlert.model_validate(bury.accepted()[1].body)
    assert (later.data.rm_url, later.data.session_number) == (None, None)


async def test_case_events_reach_an_endpoint_only_while_consent_allows(
    notify: Notify, fakes: Fakes
) -> None:
    consented, _ = await _endpoint(
        notify,
        fakes,
        event_types=["non-attendance.recorded", *PLANS_AND_CLOSURES],
        partner=PARTNER,
    )
    other, other_sub = await _endpoint(
        notify, fakes, owner=PROBATION_B, event_types=PLANS_AND_CLOSURES, partner="Other Org"
    )
    case_id, consent_id = uuid.uuid4(), uuid.uuid4()
    await _publish_and_wait(
        notify,
        _opened(case_id, "Bolton"),
        _consent(case_id, consent_id, f" {PARTNER.lower()} ", "progress"),
        _plan_agreed(case_id),
    )
    await _received(consented, 1)
    [plan] = consented.accepted()
    validate_webhook(plan.body, "action-plan-agreed.v1")
    alert = ActionPlanAgreedAlert.model_validate(plan.body)
    assert (alert.data.case_id, alert.data.version, alert.data.crn) == (case_id, 1, "X123456")
    assert other.system.deliveries == []
    skipped = await notify.rows("SELECT subscription_id, event_type, reason FROM skipped_events")
    assert skipped == [
        {
            "subscription_id": uuid.UUID(other_sub["id"]),
            "event_type": "action-plan.agreed",
            "reason": "no-consent",
        }
    ]

    # Withdrawn: the closure is withheld, but the statutory non-attendance report still goes.
    await _publish_and_wait(
        notify,
        _withdrawal(case_id, consent_id),
        _closed(case_id),
        _missed(case_id, uuid.uuid4()),
    )
    await _received(consented, 2)
    assert [d.body["type"] for d in consented.accepted()] == [
        "action-plan.agreed",
        "non-attendance.recorded",
    ]
    reasons = await notify.rows(
        "SELECT reason FROM skipped_events WHERE event_type = 'case.closed'"
    )
    assert [r["reason"] for r in reasons] == ["no-consent", "no-consent"]
    log = await notify.call(OPERATOR, "GET", "/deliveries")
    assert sorted(d["event_type"] for d in log.json()["items"]) == [
        "action-plan.agreed",
        "non-attendance.recorded",
    ]


async def test_consent_to_share_contact_details_only_does_not_cover_progress(
    notify: Notify, fakes: Fakes
) -> None:
    endpoint, _ = await _endpoint(notify, fakes, event_types=PLANS_AND_CLOSURES, partner=PARTNER)
    case_id = uuid.uuid4()
    await _publish_and_wait(
        notify,
        _consent(case_id, uuid.uuid4(), PARTNER, "contact-details", "needs"),
        _closed(case_id),
    )
    assert endpoint.system.deliveries == []
    assert await notify.rows("SELECT id FROM deliveries") == []
    [skip] = await notify.rows("SELECT reason FROM skipped_events")
    assert skip["reason"] == "no-consent"


async def test_bad_subscription_input_is_refused_with_problems(api: Notify) -> None:
    url = "http://127.0.0.1:9/hook"
    refused = [
        {"url": url, "event_types": ["case.closed"]},  # consent-gated without a partner
        {"url": url, "hub_ids": ["Bolton!"]},
        {"url": url, "hub_ids": ["bolton"] * 51},
        {"url": url, "pdu_codes": ["Atlantis"]},
        {"url": url, "partner": "Probation\x00GM"},
        {"url": url, "partner": "x" * 201},
        {"url": url, "event_types": ["ping"]},
        {"url": url, "enabled": False},  # unknown field
    ]
    for body in refused:
        response = await api.call(PROBATION_A, "POST", "/subscriptions", json=body)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json"
    for method, path in (
        ("POST", "/subscriptions/not-a-uuid/ping"),
        ("POST", "/subscriptions/not-a-uuid/disable"),
        ("GET", "/subscriptions/not-a-uuid/deliveries"),
        ("POST", "/deliveries/not-a-uuid/redelivery"),
    ):
        assert (await api.call(OPERATOR, method, path)).status_code == 422, path
    created = await api.subscribe(PROBATION_A, url)
    paged = await api.call(
        PROBATION_A, "GET", f"/subscriptions/{created['id']}/deliveries?limit=100000"
    )
    assert paged.status_code == 422


async def test_consent_withdrawn_while_a_case_event_waits_stops_it(
    notify: Notify, fakes: Fakes
) -> None:
    endpoint, created = await _endpoint(
        notify, fakes, event_types=PLANS_AND_CLOSURES, partner=PARTNER
    )
    base = f"/subscriptions/{created['id']}"
    await notify.call(PROBATION_A, "POST", f"{base}/disable")
    case_id, consent_id = uuid.uuid4(), uuid.uuid4()
    await _publish_and_wait(
        notify, _consent(case_id, consent_id, PARTNER, "all"), _plan_agreed(case_id)
    )
    [waiting] = await notify.rows("SELECT id, status FROM deliveries")
    assert waiting["status"] == "pending"

    await _publish_and_wait(notify, _withdrawal(case_id, consent_id))
    await notify.call(PROBATION_A, "POST", f"{base}/enable")

    async def withheld() -> bool:
        rows = await notify.rows("SELECT status, failure_reason FROM deliveries")
        return rows == [{"status": "failed", "failure_reason": "consent-withdrawn"}]

    await eventually(withheld)
    assert endpoint.system.deliveries == []
