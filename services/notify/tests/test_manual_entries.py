"""The manual-entry routes with every role and bad input, on notify's API over real PostgreSQL.

A hub-recorded non-attendance on an R&M referral whose R&M appointment id is not known yet cannot
be written back: it joins the hub's manual-entry queue at once, which these tests use.
"""

from __future__ import annotations

import uuid
from typing import Any

from gmirs_contracts.case import AttendanceRecorded
from gmirs_notify.handlers.record_non_attendance import NonAttendanceRecorder
from gmirs_notify.settings import NotifySettings

from .harness import AUDIENCE, Notify, ShiftedClock, attendance_event


def _as(notify: Notify, role: str, hub: str | None = None) -> dict[str, str]:
    claims = {"hub_id": hub} if hub else None
    token = notify.issuer.mint(f"{role}-{hub or 'x'}", (role,), AUDIENCE, claims)
    return {"Authorization": f"Bearer {token}"}


async def _queued(notify: Notify, settings: NotifySettings, **changes: Any) -> uuid.UUID:
    """A report on the bolton queue (no R&M appointment id yet); returns the report id."""
    event = attendance_event(rm_appointment_id=None, hub_id="bolton", **changes)
    recorder = NonAttendanceRecorder(
        policy=settings.report_policy(),
        clock=ShiftedClock(),
        rm_ui_base_url=settings.rm_ui_base_url,
    )
    async with notify.infra.unit_of_work() as uow:
        await recorder(AttendanceRecorded.model_validate(event.data), event, uow)
        await uow.commit()
    [row] = await notify.rows(
        "SELECT report_id, step, last_reason FROM rm_writebacks WHERE report_id IN "
        "(SELECT id FROM reports WHERE case_id = :c)",
        c=event.subject,
    )
    assert (row["step"], row["last_reason"]) == (
        "manual",
        "no R&M appointment id or recording worker yet",
    )
    report_id: uuid.UUID = row["report_id"]
    return report_id


async def test_every_role_on_the_queue_and_the_confirmation(
    api: Notify, settings: NotifySettings
) -> None:
    report_id = await _queued(api, settings, session_number=3, recorded_by="bolton.worker")
    path, done = "/hubs/bolton/manual-entries", f"/manual-entries/{report_id}/done"
    for role in ("operator", "probation-system", "commissioner"):
        assert (await api.http.get(path, headers=_as(api, role))).status_code == 403
        assert (await api.http.post(done, headers=_as(api, role))).status_code == 403
    assert (await api.http.get(path)).status_code == 401
    hub_without_hub = await api.http.get(path, headers=_as(api, "hub"))
    assert hub_without_hub.status_code in (401, 403)
    assert (await api.http.get(path, headers=_as(api, "hub", "bury"))).status_code == 404
    lead = await api.http.get(path, headers=_as(api, "lead-provider"))
    assert lead.status_code == 200
    [entry] = lead.json()["items"]
    assert (entry["report_id"], entry["session_number"]) == (str(report_id), 3)
    # The one R&M web address (its default here) serves the manual entry's link as well.
    assert entry["rm_link"] == (
        f"{settings.rm_ui_base_url}/service-provider/referrals/{entry['rm_referral_id']}/progress"
    )
    assert (await api.http.post(done, headers=_as(api, "hub", "bury"))).status_code == 404
    confirmed = await api.http.post(done, headers=_as(api, "lead-provider"))
    assert confirmed.status_code == 200, confirmed.text
    [report] = await api.rows("SELECT acknowledged_channel FROM reports WHERE id = :r", r=report_id)
    assert report["acknowledged_channel"] == "manual_entry"
    again = await api.http.post(done, headers=_as(api, "hub", "bolton"))
    assert (again.status_code, again.json()["done_by"]) == (200, "lead-provider-x")


async def test_bad_input_gets_problems(api: Notify, settings: NotifySettings) -> None:
    hub = _as(api, "hub", "bolton")
    bad_id = await api.http.post("/manual-entries/not-a-uuid/done", headers=hub)
    assert bad_id.status_code == 422
    assert bad_id.headers["content-type"].startswith("application/problem+json")
    unknown = await api.http.post(f"/manual-entries/{uuid.uuid4()}/done", headers=hub)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    for query in ("limit=0", "limit=201", "offset=-1", "limit=9223372036854775808"):
        answer = await api.http.get(f"/hubs/bolton/manual-entries?{query}", headers=hub)
        assert answer.status_code == 422, query
    nul = await api.http.get("/hubs/bol%00ton/manual-entries", headers=_as(api, "lead-provider"))
    assert nul.status_code == 422  # NUL is refused before any query
    assert nul.headers["content-type"].startswith("application/problem+json")


async def test_a_report_being_written_back_is_not_confirmed_by_hand(
    api: Notify, settings: NotifySettings
) -> None:
    event = attendance_event(rm_appointment_id=uuid.uuid4(), recorded_by="w", hub_id="bolton")
    recorder = NonAttendanceRecorder(
        policy=settings.report_policy(),
        clock=ShiftedClock(),
        rm_ui_base_url=settings.rm_ui_base_url,
    )
    async with api.infra.unit_of_work() as uow:
        await recorder(AttendanceRecorded.model_validate(event.data), event, uow)
        await uow.commit()
    [row] = await api.rows("SELECT report_id, step FROM rm_writebacks")
    assert row["step"] == "attendance"
    answer = await api.http.post(
        f"/manual-entries/{row['report_id']}/done", headers=_as(api, "hub", "bolton")
    )
    assert answer.status_code == 409
    assert (
        await api.http.get("/hubs/bolton/manual-entries", headers=_as(api, "hub", "bolton"))
    ).json()["items"] == []
