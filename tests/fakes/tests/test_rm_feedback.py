"""The simulator's feedback endpoints keep R&M's rules: user-mapped tokens, drafts then one submit,
400 for a future appointment or missing fields, 409 once submitted, 422 without attendance."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest_asyncio

from tests.fakes.rm_simulator import RmSimulator, create_app

BASE = "http://rm.test"
MISSED = {"attended": "no", "didSessionHappen": False}
NO_SHOW = {
    "noAttendanceInformation": "Did not attend; not reached by phone.",
    "notifyProbationPractitionerOfConcerns": False,
}


class Rm:
    def __init__(self, http: httpx.AsyncClient, sim: RmSimulator) -> None:
        self.http, self.sim = http, sim

    async def act(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post(f"/_control/{path}", json=body or {})
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def user_token(self, username: str | None) -> str:
        form = {"grant_type": "client_credentials"} | ({"username": username} if username else {})
        response = await self.http.post("/auth/oauth/token", data=form, auth=("c", "s"))
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    async def send(self, method: str, path: str, token: str, body: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return await self.http.request(method, path, headers=headers, json=body)

    async def scheduled(self, *, in_future: bool = False) -> tuple[str, str]:
        """A referral and a delivery-session appointment, an hour ago (or tomorrow)."""
        referral = (await self.act("referrals"))["referral_id"]
        when = datetime.now(UTC) + (timedelta(days=1) if in_future else timedelta(hours=-1))
        body = {"appointment_time": when.isoformat()}
        appointment = (await self.act(f"referrals/{referral}/sessions/1/schedule", body))[
            "appointment_id"
        ]
        return referral, appointment


@pytest_asyncio.fixture(loop_scope="session")
async def rm() -> AsyncIterator[Rm]:
    app = create_app(
        base_url=BASE, sns=None, push_url=None, token_ttl=60, client_id="c", client_secret="s"
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        yield Rm(http, app.state.rm)


async def test_a_user_token_records_and_submits_once_and_r_and_m_publishes_the_missed_session(
    rm: Rm,
) -> None:
    referral, appointment = await rm.scheduled()
    path = f"/referral/{referral}/delivery-session-appointments/{appointment}"
    token = await rm.user_token("sp.worker")
    assert (await rm.send("PUT", f"{path}/attendance", token, MISSED)).status_code == 200
    assert (await rm.send("PUT", f"{path}/session-feedback", token, NO_SHOW)).status_code == 200
    submitted = await rm.send("POST", f"{path}/submit-feedback", token)
    assert submitted.status_code == 200
    feedback = submitted.json()["appointmentFeedback"]
    assert feedback["submitted"] is True
    assert feedback["submittedBy"]["username"] == "sp.worker"
    again = await rm.send("POST", f"{path}/submit-feedback", token)
    assert again.status_code == 409
    assert (await rm.send("PUT", f"{path}/attendance", token, MISSED)).status_code == 409
    assert rm.sim.control.feedback.submits.count(uuid.UUID(appointment)) == 1
    published = (await rm.http.get("/_control/published")).json()
    types = [p["event_type"] for p in published if p["envelope"]["detailUrl"].endswith("/1")]
    assert types[-2:] == [
        "intervention.session-appointment.missed",
        "intervention.session-appointment.session-feedback-submitted",
    ]


async def test_a_bare_client_token_and_an_unmapped_user_get_403(rm: Rm) -> None:
    referral, appointment = await rm.scheduled()
    path = f"/referral/{referral}/delivery-session-appointments/{appointment}/attendance"
    bare = await rm.send("PUT", path, await rm.user_token(None), MISSED)
    assert bare.status_code == 403
    assert bare.json()["message"] == "could not map auth token to user"
    await rm.act("faults", {"unmapped_users": ["sp.stranger"]})
    try:
        refused = await rm.send("PUT", path, await rm.user_token("sp.stranger"), MISSED)
        assert refused.status_code == 403
    finally:
        await rm.act("faults", {"unmapped_users": []})


async def test_future_appointments_missing_fields_and_no_attendance_are_refused(rm: Rm) -> None:
    token = await rm.user_token("sp.worker")
    referral, future = await rm.scheduled(in_future=True)
    path = f"/referral/{referral}/delivery-session-appointments/{future}"
    early = await rm.send("PUT", f"{path}/attendance", token, MISSED)
    assert early.status_code == 400
    assert early.json()["validationErrors"][0]["error"] == "APPOINTMENT_MUST_BE_COMPLETED"
    referral, appointment = await rm.scheduled()
    path = f"/referral/{referral}/delivery-session-appointments/{appointment}"
    assert (await rm.send("POST", f"{path}/submit-feedback", token)).status_code == 422
    await rm.send("PUT", f"{path}/attendance", token, MISSED)
    concerns = {**NO_SHOW, "notifyProbationPractitionerOfConcerns": True}
    missing = await rm.send("PUT", f"{path}/session-feedback", token, concerns)
    assert missing.status_code == 400
    assert missing.json()["validationErrors"] == [
        {"field": "sessionConcerns", "error": "CANNOT_BE_EMPTY"}
    ]
    assert (await rm.send("PUT", f"{path}/attendance", token, {"attended": 7})).status_code == 400


async def test_supplier_assessment_feedback_goes_to_the_current_appointment(rm: Rm) -> None:
    referral = (await rm.act("referrals"))["referral_id"]
    await rm.act(f"referrals/{referral}/initial-assessment/schedule")
    token = await rm.user_token("sp.worker")
    path = f"/referral/{referral}/supplier-assessment"
    assert (await rm.send("PUT", f"{path}/record-attendance", token, MISSED)).status_code == 200
    assert (
        await rm.send("PUT", f"{path}/record-session-feedback", token, NO_SHOW)
    ).status_code == 200
    assert (await rm.send("POST", f"{path}/submit-feedback", token)).status_code == 200
    read = await rm.send("GET", f"/sent-referral/{referral}/supplier-assessment", token)
    [appointment] = read.json()["appointments"]
    assert appointment["appointmentFeedback"]["attendanceFeedback"]["attended"] == "no"
    assert appointment["appointmentFeedback"]["submitted"] is True


async def test_faults_scoped_to_a_path_and_a_held_request_answered_once_lifted(rm: Rm) -> None:
    referral, appointment = await rm.scheduled()
    path = f"/referral/{referral}/delivery-session-appointments/{appointment}"
    token = await rm.user_token("sp.worker")
    scoped = {"api_paths_matching": "submit-feedback", "api_status": 500, "api_fail_requests": 1}
    await rm.act("faults", scoped)
    assert (await rm.send("PUT", f"{path}/attendance", token, MISSED)).status_code == 200
    assert (await rm.send("PUT", f"{path}/session-feedback", token, NO_SHOW)).status_code == 200
    assert (await rm.send("POST", f"{path}/submit-feedback", token)).status_code == 500
    await rm.act("faults", {"hold_requests": True})
    held = asyncio.create_task(rm.send("POST", f"{path}/submit-feedback", token))
    other = await rm.send("GET", f"/referral/{referral}/sessions/1", token)
    assert other.status_code == 200  # not matching: neither held nor failed
    for _ in range(100):
        if rm.sim.endpoints.held:
            break
        await asyncio.sleep(0.01)
    assert (rm.sim.endpoints.held, held.done()) == (1, False)
    await rm.act("faults", {"hold_requests": False, "api_paths_matching": None})
    assert (await held).status_code == 200
    assert rm.sim.control.feedback.submits.count(uuid.UUID(appointment)) == 1
    assert (await rm.http.get("/_control/faults")).json()["api_paths_matching"] is None
