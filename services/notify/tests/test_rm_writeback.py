"""The R&M write-back: a hub-recorded non-attendance goes into the fake R&M (over HTTP) once, as
the worker who recorded it; what R&M refuses reaches the hub's manual-entry queue.

notify runs whole on real PostgreSQL and the real broker; the R&M simulator (with its HMPPS
Auth) is served on a loopback port; `submits` is what R&M accepted, so "once" is R&M's count.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from gmirs_contracts.case import AttendanceRecorded
from gmirs_notify.adapters.rm_client import RmAnswer, RmFeedbackClient
from gmirs_notify.bootstrap import Wiring
from gmirs_notify.handlers.record_non_attendance import NonAttendanceRecorder
from gmirs_notify.handlers.rm_writeback import RmWriteBack
from gmirs_notify.settings import NotifySettings
from gmirs_runtime.testing.issuer import TestIssuer
from gmirs_runtime.testing.kafka import eventually
from tests.fakes.rm_simulator import RmSimulator, create_app

from .harness import AUDIENCE, Notify, ShiftedClock, attendance_event, running_notify, serving

WORKER = "bolton.worker"
CLIENT = ("gmirs-notify", "notify-secret")


@dataclass
class Rm:
    url: str
    sim: RmSimulator
    http: httpx.AsyncClient

    async def act(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post(f"/_control/{path}", json=body or {})
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def scheduled(self, *, hours_ago: float = 2) -> tuple[uuid.UUID, uuid.UUID]:
        """A referral in R&M and its session 1 appointment (in the past, or ahead if negative)."""
        referral = (await self.act("referrals"))["referral_id"]
        at = datetime.now(UTC) - timedelta(hours=hours_ago)
        body = {"appointment_time": at.isoformat()}
        appointment = await self.act(f"referrals/{referral}/sessions/1/schedule", body)
        return uuid.UUID(referral), uuid.UUID(appointment["appointment_id"])

    def submits(self, appointment: uuid.UUID) -> int:
        return self.sim.control.feedback.submits.count(appointment)


@pytest.fixture
async def rm() -> AsyncIterator[Rm]:
    app = create_app(
        base_url="http://rm.test",
        sns=None,
        push_url=None,
        token_ttl=300,
        client_id=CLIENT[0],
        client_secret=CLIENT[1],
    )
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as http:
        yield Rm(url, app.state.rm, http)


def _with_rm(settings: NotifySettings, rm: Rm, poll_seconds: float = 0.05) -> NotifySettings:
    return settings.model_copy(
        update={
            "rm_api_url": rm.url,
            "hmpps_auth_url": f"{rm.url}/auth",
            "rm_client_id": CLIENT[0],
            "rm_client_secret": SecretStr(CLIENT[1]),
            "rm_ui_base_url": "https://rm.example",
            "rm_writeback_poll_seconds": poll_seconds,
            "rm_writeback_first_retry_seconds": 0.05,
        }
    )


@pytest.fixture
async def notify_rm(
    settings: NotifySettings, wiring: Wiring, token_issuer: TestIssuer, rm: Rm
) -> AsyncIterator[Notify]:
    async with running_notify(_with_rm(settings, rm), wiring, token_issuer) as running:
        yield running


async def _missed(
    notify: Notify, referral: uuid.UUID, appointment: uuid.UUID, **changes: Any
) -> uuid.UUID:
    fields: dict[str, Any] = {
        "rm_referral_id": referral,
        "rm_appointment_id": appointment,
        "appointment_kind": "session",
        "session_number": 1,
        "recorded_by": WORKER,
        "hub_id": "bolton",
    }
    event = attendance_event(**(fields | changes))
    await notify.publish(event)
    assert isinstance(event.subject, uuid.UUID)
    return event.subject


async def _report(notify: Notify, case_id: uuid.UUID, **expected: Any) -> dict[str, Any]:
    async def matches() -> bool:
        found = await notify.report(case_id)
        return len(found) == 1 and all(found[0][k] == v for k, v in expected.items())

    await eventually(matches, what=f"a report with {expected}")
    [report] = await notify.report(case_id)
    return report


async def _write_back(notify: Notify, report_id: uuid.UUID) -> dict[str, Any]:
    [row] = await notify.rows("SELECT * FROM rm_writebacks WHERE report_id = :r", r=report_id)
    return row


def _hub(notify: Notify, hub: str = "bolton") -> dict[str, str]:
    token = notify.issuer.mint(f"hub-{hub}", ("hub",), AUDIENCE, {"hub_id": hub})
    return {"Authorization": f"Bearer {token}"}


async def test_a_hub_recorded_non_attendance_is_written_back_once_as_the_worker(
    notify_rm: Notify, rm: Rm
) -> None:
    referral, appointment = await rm.scheduled()
    case_id = await _missed(notify_rm, referral, appointment)
    report = await _report(notify_rm, case_id, acknowledged_channel="rm_writeback")
    assert [(a["channel"], a["result"], a["detail"]) for a in report["attempts"]] == [
        ("rm_writeback", "acknowledged", "submitted")
    ]
    assert rm.submits(appointment) == 1
    session = (await rm.http.get("/_control/requests")).json()
    calls = [(r["method"], r["path"].rsplit("/", 1)[-1], r["status"]) for r in session]
    assert calls == [
        ("PUT", "attendance", 200),
        ("PUT", "session-feedback", 200),
        ("POST", "submit-feedback", 200),
    ]
    [stored] = rm.sim.store.referrals[referral].sessions[1]
    assert stored.feedback is not None
    assert stored.feedback.submitted_by["username"] == WORKER
    assert (stored.feedback.attended, stored.feedback.did_session_happen) == ("no", False)
    assert stored.feedback.session["notifyProbationPractitionerOfConcerns"] is False
    row = await _write_back(notify_rm, report["id"])
    assert (row["step"], row["next_at"]) == ("done", None)


async def test_a_new_write_back_wakes_the_worker_without_waiting_for_its_poll(
    settings: NotifySettings, wiring: Wiring, token_issuer: TestIssuer, rm: Rm
) -> None:
    """The row's insert notifies the worker (its poll here is a minute; the wait is 15 s)."""
    slow_poll = _with_rm(settings, rm, poll_seconds=60)
    async with running_notify(slow_poll, wiring, token_issuer) as notify:
        referral, appointment = await rm.scheduled()
        case_id = await _missed(notify, referral, appointment)
        await _report(notify, case_id, acknowledged_channel="rm_writeback")
    assert rm.submits(appointment) == 1


async def test_the_write_backs_of_one_round_go_to_r_and_m_side_by_side(
    notify_rm: Notify, rm: Rm
) -> None:
    """Each R&M call takes 200 ms: rows claimed together have calls in flight together, and
    each is still submitted once."""
    await rm.act("faults", {"api_delay_ms": 200})
    scheduled = [await rm.scheduled() for _ in range(5)]
    endpoints, peak = rm.sim.control.endpoints, [0]

    async def watch() -> None:
        while True:
            peak[0] = max(peak[0], endpoints.in_flight)
            await asyncio.sleep(0.01)

    watching = asyncio.create_task(watch())
    try:
        case_ids = [await _missed(notify_rm, referral, a) for referral, a in scheduled]
        for case_id in case_ids:
            await _report(notify_rm, case_id, acknowledged_channel="rm_writeback")
    finally:
        watching.cancel()
    assert peak[0] >= 2
    assert [rm.submits(appointment) for _, appointment in scheduled] == [1] * 5


async def test_a_missed_initial_assessment_goes_through_the_supplier_assessment_endpoints(
    notify_rm: Notify, rm: Rm
) -> None:
    referral = uuid.UUID((await rm.act("referrals"))["referral_id"])
    scheduled = await rm.act(f"referrals/{referral}/initial-assessment/schedule")
    appointment = uuid.UUID(scheduled["appointment_id"])
    case_id = await _missed(
        notify_rm, referral, appointment, appointment_kind="initial-assessment", session_number=None
    )
    await _report(notify_rm, case_id, acknowledged_channel="rm_writeback")
    paths = [r["path"] for r in (await rm.http.get("/_control/requests")).json()]
    assert [p.rsplit("/", 1)[-1] for p in paths] == [
        "record-attendance",
        "record-session-feedback",
        "submit-feedback",
    ]
    assert rm.submits(appointment) == 1


async def test_r_and_m_refusing_the_worker_puts_it_on_the_hubs_queue_until_marked_done(
    notify_rm: Notify, rm: Rm
) -> None:
    await rm.act("faults", {"unmapped_users": [WORKER]})
    referral, appointment = await rm.scheduled()
    case_id = await _missed(notify_rm, referral, appointment)
    report = await _report(notify_rm, case_id, escalation_cause="refused")
    assert report["acknowledged_at"] is None
    path = "/hubs/bolton/manual-entries"
    listed = await notify_rm.http.get(path, headers=_hub(notify_rm))
    assert listed.status_code == 200, listed.text
    [entry] = listed.json()["items"]
    assert entry["report_id"] == str(report["id"])
    assert (entry["session_number"], entry["attended"], entry["status"]) == (1, "no", "waiting")
    assert entry["why"].startswith("403")
    assert entry["rm_link"] == f"https://rm.example/service-provider/referrals/{referral}/progress"
    assert "name" not in " ".join(entry)
    other_hub = await notify_rm.http.get(path, headers=_hub(notify_rm, "bury"))
    assert other_hub.status_code == 404
    done_path = f"/manual-entries/{report['id']}/done"
    assert (
        await notify_rm.http.post(done_path, headers=_hub(notify_rm, "bury"))
    ).status_code == 404
    done = await notify_rm.http.post(done_path, headers=_hub(notify_rm))
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["done_by"]) == ("done", "hub-bolton")
    again = await notify_rm.http.post(done_path, headers=_hub(notify_rm))
    assert again.status_code == 200
    report = await _report(notify_rm, case_id, acknowledged_channel="manual_entry")
    assert [a["channel"] for a in report["attempts"]] == ["rm_writeback", "manual_entry"]
    assert (await notify_rm.http.get(path, headers=_hub(notify_rm))).json()["items"] == []
    assert rm.submits(appointment) == 0
    audited = await notify_rm.rows(
        "SELECT action FROM audit_log WHERE resource_id = :r", r=str(report["id"])
    )
    assert [a["action"] for a in audited] == ["manual-entry.confirmed"]


async def test_409_is_reconciled_by_reading_the_session_back(notify_rm: Notify, rm: Rm) -> None:
    referral, appointment = await rm.scheduled()
    # The provider already submitted the same non-attendance in R&M.
    token = rm.sim.auth.issue(CLIENT[0], username="someone.else")
    base = f"/referral/{referral}/delivery-session-appointments/{appointment}"
    headers = {"Authorization": f"Bearer {token}"}
    for method, step, body in (
        ("PUT", "attendance", {"attended": "no", "didSessionHappen": False}),
        (
            "PUT",
            "session-feedback",
            {"noAttendanceInformation": "x", "notifyProbationPractitionerOfConcerns": False},
        ),
        ("POST", "submit-feedback", None),
    ):
        answer = await rm.http.request(method, f"{base}/{step}", json=body, headers=headers)
        assert answer.status_code == 200, answer.text
    case_id = await _missed(notify_rm, referral, appointment)
    report = await _report(notify_rm, case_id, acknowledged_channel="rm_writeback")
    assert report["attempts"][-1]["detail"] == "409 reconciled"
    assert rm.submits(appointment) == 1


async def test_400_is_kept_with_its_reason_escalated_and_not_retried(
    notify_rm: Notify, rm: Rm
) -> None:
    referral, appointment = await rm.scheduled(hours_ago=-24)  # R&M's appointment is tomorrow
    case_id = await _missed(notify_rm, referral, appointment)
    report = await _report(notify_rm, case_id, escalation_cause="refused")
    row = await _write_back(notify_rm, report["id"])
    assert (row["step"], row["last_status"], row["next_at"]) == ("manual", 400, None)
    assert "APPOINTMENT_MUST_BE_COMPLETED" in row["last_reason"]
    requests = (await rm.http.get("/_control/requests")).json()
    assert [r["status"] for r in requests] == [400]


async def test_500_then_success_is_retried_and_submitted_once(notify_rm: Notify, rm: Rm) -> None:
    await rm.act("faults", {"api_status": 500, "api_fail_requests": 2})
    referral, appointment = await rm.scheduled()
    case_id = await _missed(notify_rm, referral, appointment)
    report = await _report(notify_rm, case_id, acknowledged_channel="rm_writeback")
    assert [(a["result"], a["detail"]) for a in report["attempts"]] == [
        ("failed", "500"),
        ("failed", "500"),
        ("acknowledged", "submitted"),
    ]
    assert report["escalated_at"] is None
    assert rm.submits(appointment) == 1


async def test_r_and_m_failing_until_the_deadline_hands_the_report_to_a_person(
    notify_rm: Notify, rm: Rm, clock: ShiftedClock
) -> None:
    await rm.act("faults", {"api_status": 503, "api_fail_seconds": 60})
    referral, appointment = await rm.scheduled()
    case_id = await _missed(notify_rm, referral, appointment)
    report = await _report(notify_rm, case_id, acknowledged_at=None)

    async def failed_once() -> bool:
        rows = await notify_rm.rows(
            "SELECT tries FROM rm_writebacks WHERE report_id = :r", r=report["id"]
        )
        return bool(rows[0]["tries"] >= 1)

    await eventually(failed_once, what="a failed write-back")
    clock.advance(timedelta(hours=24))

    async def handed_over() -> bool:
        return bool((await _write_back(notify_rm, report["id"]))["step"] == "manual")

    await eventually(handed_over, what="the report on the manual queue")
    row = await _write_back(notify_rm, report["id"])
    assert row["last_status"] == 503
    [report] = await notify_rm.report(case_id)
    assert report["escalated_at"] is not None  # by the clock or the refusal, whichever came first
    assert report["attempts"][-1]["result"] == "refused"
    assert rm.submits(appointment) == 0


class KilledError(BaseException):
    """Stands for SIGKILL: nothing after it runs, nothing uncommitted survives."""


class DiesAfterSubmit(RmFeedbackClient):
    """R&M's client of a worker killed the moment R&M accepted its submit, before recording it."""

    async def call(
        self, method: str, path: str, *, username: str, body: dict[str, Any] | None = None
    ) -> RmAnswer:
        answer = await super().call(method, path, username=username, body=body)
        if path.endswith("/submit-feedback"):
            raise KilledError
        return answer


async def test_a_worker_killed_after_r_and_m_took_the_submit_resumes_without_a_second_one(
    api: Notify, rm: Rm, settings: NotifySettings
) -> None:
    referral, appointment = await rm.scheduled()
    event = attendance_event(
        rm_referral_id=referral,
        rm_appointment_id=appointment,
        session_number=1,
        recorded_by=WORKER,
        hub_id="bolton",
    )
    clock = ShiftedClock()
    policy = settings.report_policy()
    recorder = NonAttendanceRecorder(
        policy=policy, clock=clock, rm_ui_base_url=settings.rm_ui_base_url
    )
    async with api.infra.unit_of_work() as uow:
        await recorder(AttendanceRecorded.model_validate(event.data), event, uow)
        await uow.commit()

    def worker(client_class: type[RmFeedbackClient]) -> tuple[RmWriteBack, RmFeedbackClient]:
        client = client_class(
            api_url=rm.url, auth_url=f"{rm.url}/auth", client_id=CLIENT[0], client_secret=CLIENT[1]
        )
        lease = timedelta(seconds=60)
        made = RmWriteBack(
            client=client,
            unit_of_work=api.infra.unit_of_work,
            policy=policy,
            lease=lease,
            clock=clock,
        )
        return made, client

    first, client = worker(DiesAfterSubmit)
    with pytest.raises(KilledError):
        await first.round()
    await client.aclose()
    assert rm.submits(appointment) == 1
    [row] = await api.rows("SELECT step, next_at FROM rm_writebacks")
    assert row["step"] == "submit"  # the last step committed; R&M's answer to it was lost
    second, client = worker(RmFeedbackClient)
    assert await second.round() == 0  # the dead worker's lease still holds the row
    clock.advance(timedelta(seconds=61))
    assert await second.round() == 1
    await client.aclose()
    [report] = await api.report(event.subject)
    assert (report["acknowledged_channel"], report["attempts"][-1]["detail"]) == (
        "rm_writeback",
        "409 reconciled",
    )
    assert rm.submits(appointment) == 1
    statuses = [r["status"] for r in (await rm.http.get("/_control/requests")).json()]
    assert statuses == [200, 200, 200, 409, 200]  # the resumed submit, then the read-back
