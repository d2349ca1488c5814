"""Operators' report routes through the running service: lists by status with causes, retry now,
bounded paging, the operator role only, and an audit row for each call."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from gmirs_runtime.testing.kafka import eventually

from .harness import HUB, OPERATOR, PROBATION_A, Notify, ShiftedClock, attendance_event


async def _published(notify: Notify, **changes: Any) -> uuid.UUID:
    event = attendance_event(**changes)
    await notify.publish(event)
    case_id = event.subject
    assert isinstance(case_id, uuid.UUID)

    async def started() -> bool:
        return bool(await notify.report(case_id))

    await eventually(started, what="report started")
    return case_id


async def _listed(notify: Notify, status: str | None = None, **params: Any) -> dict[str, Any]:
    query = params | ({"status": status} if status else {})
    response = await notify.call(OPERATOR, "GET", "/operator/reports", params=query)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_operators_list_reports_at_risk_and_breached_with_cause_and_retry_them(
    notify: Notify, clock: ShiftedClock
) -> None:
    at_risk = await _published(notify, due_in=timedelta(hours=23))
    in_rm = await _published(
        notify,
        source="refer-and-monitor",
        rm_appointment_id=uuid.uuid4(),
        due_in=timedelta(hours=23),
    )
    clock.advance(timedelta(hours=19, minutes=1))
    late = await _published(notify, due_in=timedelta(hours=-1))  # its deadline has passed

    async def judged() -> bool:
        return len((await _listed(notify, "breached"))["items"]) == 1 and bool(
            (await _listed(notify, "at_risk"))["items"]
        )

    await eventually(judged, what="escalated and breached")
    [risky] = (await _listed(notify, "at_risk"))["items"]
    assert (risky["case_id"], risky["status"]) == (str(at_risk), "at_risk")
    assert risky["escalation_cause"] == "not-attempted"
    assert risky["completing_channels"] == ["manual_entry", "rm_writeback"]
    [breached] = (await _listed(notify, "breached"))["items"]
    assert (breached["case_id"], breached["breach_cause"]) == (str(late), "not-attempted")
    assert breached["breach_detail"] == "no attempt on manual_entry, rm_writeback"
    open_ = await _listed(notify, "open")
    assert {item["case_id"] for item in open_["items"]} == {str(at_risk), str(late)}
    [done] = (await _listed(notify, "acknowledged"))["items"]
    assert (done["case_id"], done["acknowledged_channel"]) == (str(in_rm), "rm_recorded")
    assert "crn" not in done
    assert "X123456" not in str(open_)

    first = await _listed(notify, limit=1, offset=1)
    assert (first["total"], len(first["items"])) == (3, 1)
    for bad in ({"limit": 0}, {"limit": 201}, {"offset": -1}, {"status": "lost"}):
        response = await notify.call(OPERATOR, "GET", "/operator/reports", params=bad)
        assert response.status_code == 422, bad

    retried = await notify.call(OPERATOR, "POST", f"/operator/reports/{risky['id']}/retry")
    assert retried.status_code == 202, retried.text
    assert retried.json()["id"] == risky["id"]
    complete = await notify.call(OPERATOR, "POST", f"/operator/reports/{done['id']}/retry")
    assert complete.status_code == 409
    assert complete.headers["content-type"] == "application/problem+json"
    missing = await notify.call(OPERATOR, "POST", f"/operator/reports/{uuid.uuid4()}/retry")
    assert missing.status_code == 404

    audited = await notify.rows(
        "SELECT actor, action, resource_id FROM audit_log WHERE resource_type = 'report'"
    )
    assert {"actor": OPERATOR, "action": "report.retried", "resource_id": risky["id"]} in audited
    assert sum(row["action"] == "report.listed" for row in audited) >= 7


async def test_only_operators_reach_the_report_routes(notify: Notify) -> None:
    report_path = f"/operator/reports/{uuid.uuid4()}/retry"
    for client_id in (HUB, PROBATION_A):
        listed = await notify.call(client_id, "GET", "/operator/reports")
        retried = await notify.call(client_id, "POST", report_path)
        assert (listed.status_code, retried.status_code) == (403, 403), client_id
    anonymous = await notify.http.get("/operator/reports")
    assert anonymous.status_code == 401
    assert await notify.rows("SELECT id FROM audit_log WHERE resource_type = 'report'") == []
