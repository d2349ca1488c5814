"""Non-attendance through notify with every service a real process, R&M and the probation
receivers as fakes: a hub-recorded one is written back to R&M once and delivered to each endpoint
once, an R&M-recorded one is delivered and never written back; then R&M refusing (403, 400, 422),
conflicting (409), failing (500) and down, the receivers failing, timing out, down and gone (410),
the broker paused, and notify SIGKILLed mid-delivery and mid-write-back. Every report completes
once and none twice: counted by `webhook-id` at each receiver and by R&M's accepted submissions.

Time is compressed through notify's settings (`notify_kit.COMPRESSED`), never waited out. "R&M
down for ten minutes" is R&M answering 503 for `OUTAGE_S` seconds: what matters is that the
write-back keeps trying with backoff, that nothing is submitted twice and that it completes once
R&M is back, not the wall-clock length; the backoff (first retry, doubling, capped at 5 minutes)
is unit-tested in services/notify/tests/test_rm_writeback.py.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from gmirs_runtime.testing.kafka import eventually
from tests.e2e.non_attendance import (
    Receiver,
    acknowledged_events,
    attempts_of,
    deliveries_of,
    each_endpoint_got_it_once,
    echo_consumed,
    escalation_emails,
    record_missed,
    report_of,
    report_when,
    write_back_of,
    write_backs_of,
)
from tests.e2e.notify_kit import (
    HUB,
    WEBHOOK_PATH,
    Kit,
    kit_on,
    receiver_process,
    subscribe,
    subscribed_receiver,
    unsubscribe,
)
from tests.e2e.platform import Platform, database_count
from tests.e2e.rm import (
    entered_in_rm_by_hand,
    rm_accepted,
    rm_api,
    rm_calls,
    rm_control,
    rm_faults,
    rm_session,
    rm_stats,
    submits_accepted,
)
from tests.fakes.probation_system import create_app as probation_app
from tests.fakes.process import free_port
from tests.fakes.rm_harness import serve_in_loop

pytestmark = [pytest.mark.e2e, pytest.mark.fault]
OUTAGE_S = 4
PAUSE_S = 5
WRITTEN_BACK = [("PUT", "attendance"), ("PUT", "session-feedback"), ("POST", "submit-feedback")]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def kit(platform: Platform) -> AsyncIterator[Kit]:
    async with kit_on(platform) as kit:
        yield kit


@pytest.fixture(autouse=True)
async def no_faults_left_over(kit: Kit) -> None:
    """Each test scripts its own faults; none carries over from the one before."""
    await rm_faults(kit.platform, clear=True)
    await rm_control(kit.platform, "/_control/release")
    for receiver in kit.receivers:
        await receiver.behave(status_sequence=[], delay_ms=0)


# --- Both origins. ---


async def test_hub_recorded_non_attendance_is_written_back_once_and_delivered_once_to_each(
    kit: Kit,
) -> None:
    platform = kit.platform
    session = await kit.rm.missed()
    report = await report_when(platform, session.appointment_id, "acknowledged")
    assert (report["origin"], report["acknowledged_channel"]) == ("hub", "rm_writeback")
    assert report["escalated_at"] is None
    await each_endpoint_got_it_once(kit.platform, kit.endpoints, session.appointment_id)
    assert await rm_accepted(platform, session.rm_appointment_id) == WRITTEN_BACK
    feedback = (await rm_session(platform, kit.rm.rm_id, session.session_number))[
        "appointmentFeedback"
    ]
    assert (feedback["submitted"], feedback["attendanceFeedback"]["attended"]) == (True, "no")
    assert feedback["submittedBy"]["username"] == f"hub-{HUB}"  # as the recording worker
    # Which is the only way in: R&M refuses the platform's bare client token.
    path = f"/referral/{kit.rm.rm_id}/delivery-session-appointments/{session.rm_appointment_id}"
    bare = await rm_api(platform, "PUT", f"{path}/attendance", body={"attended": "no"})
    assert (bare.status_code, bare.json()["message"]) == (403, "could not map auth token to user")

    # R&M publishes the submitted feedback; it comes back through intake and case, and starts
    # nothing new: no second report, delivery, write-back or submission.
    await echo_consumed(platform, session.rm_appointment_id)
    assert await kit.rm.appointment_for(session.rm_appointment_id) == session.appointment_id
    reports = "SELECT count(*) FROM notify.reports WHERE rm_appointment_id = "
    assert await database_count(platform, f"{reports}'{session.rm_appointment_id}'") == 1
    assert await write_backs_of(platform, session.appointment_id) == 1
    assert await submits_accepted(platform, session.rm_appointment_id) == 1
    await each_endpoint_got_it_once(kit.platform, kit.endpoints, session.appointment_id)
    assert await acknowledged_events(platform, session.appointment_id) == 1


async def test_rm_recorded_non_attendance_is_delivered_complete_on_arrival_never_written_back(
    kit: Kit,
) -> None:
    platform = kit.platform
    rm_appointment_id = await kit.rm.missed_in_rm()
    appointment_id = await kit.rm.appointment_for(rm_appointment_id)
    report = await report_when(platform, appointment_id, "acknowledged")
    assert (report["origin"], report["acknowledged_channel"]) == (
        "refer-and-monitor",
        "rm_recorded",
    )
    await each_endpoint_got_it_once(kit.platform, kit.endpoints, appointment_id)
    assert await write_backs_of(platform, appointment_id) == 0
    assert await rm_calls(platform, rm_appointment_id) == []
    assert await acknowledged_events(platform, appointment_id) == 1


# --- R&M refusing, conflicting, failing and down. ---


async def test_rm_refusals_are_kept_with_their_reason_on_the_hubs_manual_entry_queue(
    kit: Kit,
) -> None:
    platform = kit.platform
    await rm_faults(platform, unmapped_users=[f"hub-{HUB}"])  # a worker R&M cannot map: 403
    unmapped = await kit.rm.missed()
    await report_when(platform, unmapped.appointment_id, "escalated")
    await rm_faults(platform, unmapped_users=[])
    future = await kit.rm.missed(rm_in_future=True)  # R&M's appointment is tomorrow: 400
    unprocessable = await kit.rm.session_in_rm()  # R&M answers the submit 422
    submit = f"{unprocessable.rm_appointment_id}/submit-feedback"
    await rm_faults(platform, api_paths_matching=submit, api_status=422, api_fail_requests=1)
    await record_missed(kit.rm, unprocessable)
    expected = {
        unmapped: "403 user is not authorized for this referral",
        future: "400 cannot record feedback for a future appointment",
        unprocessable: "422 injected failure",
    }
    reports = {}
    for session, reason in expected.items():
        report = await report_when(platform, session.appointment_id, "escalated")
        assert (report["escalation_cause"], report["acknowledged_at"]) == ("refused", None)
        write_back = await write_back_of(platform, str(report["id"]))
        assert (write_back["step"], write_back["last_reason"][: len(reason)]) == ("manual", reason)
        assert await submits_accepted(platform, session.rm_appointment_id) == 0
        reports[str(report["id"])] = session

    queue = await platform.call("hub-bury", "GET", "notify", f"/hubs/{HUB}/manual-entries")
    assert queue.status_code == 200, queue.text
    entries = {e["report_id"]: e for e in queue.json()["items"] if e["report_id"] in reports}
    assert set(entries) == set(reports)
    for report_id, entry in entries.items():
        session = reports[report_id]
        assert entry["rm_appointment_id"] == session.rm_appointment_id
        assert (entry["status"], entry["attended"]) == ("waiting", "no")
        assert entry["why"].startswith(expected[session])
    other_hub = await platform.call("hub-bolton", "GET", "notify", f"/hubs/{HUB}/manual-entries")
    assert other_hub.status_code == 404

    report_id = next(iter(reports))
    done = await platform.call("hub-bury", "POST", "notify", f"/manual-entries/{report_id}/done")
    assert done.status_code == 200, done.text
    report = await report_when(platform, reports[report_id].appointment_id, "acknowledged")
    assert report["acknowledged_channel"] == "manual_entry"


async def test_rm_409_is_reconciled_by_reading_the_session_back(kit: Kit) -> None:
    """Someone entered the session in R&M by hand before the platform wrote it back (R&M's own
    events about it held back meanwhile): the same non-attendance there completes the report;
    a different record there goes to a person. R&M never takes a second submission."""
    platform = kit.platform
    same, different = await kit.rm.session_in_rm(), await kit.rm.session_in_rm()
    await rm_faults(platform, delivery="hold")
    try:
        await entered_in_rm_by_hand(platform, kit.rm.rm_id, same.rm_appointment_id, attended="no")
        await entered_in_rm_by_hand(
            platform, kit.rm.rm_id, different.rm_appointment_id, attended="yes"
        )
        await record_missed(kit.rm, same)
        await record_missed(kit.rm, different)
        reconciled = await report_when(platform, same.appointment_id, "acknowledged")
        assert reconciled["acknowledged_channel"] == "rm_writeback"
        assert (await attempts_of(platform, str(reconciled["id"])))[-1] == (
            "acknowledged",
            "409 reconciled",
        )
        refused = await report_when(platform, different.appointment_id, "escalated")
        write_back = await write_back_of(platform, str(refused["id"]))
        assert (write_back["step"], write_back["last_status"]) == ("manual", 409)
    finally:
        await rm_faults(platform, delivery="publish")
        await rm_control(platform, "/_control/release")
    for session in (same, different):
        calls = Counter(await rm_calls(platform, session.rm_appointment_id))
        assert calls[("POST", "submit-feedback", 200)] == 1  # the hand-entered one
        assert calls[("PUT", "attendance", 409)] >= 1  # the platform's, answered "submitted"


async def test_rm_failing_then_down_then_back_completes_each_report_once(kit: Kit) -> None:
    """R&M answers 500 twice; then R&M and HMPPS Auth are down for `OUTAGE_S` seconds (for
    "ten minutes") with the tokens notify holds expiring meanwhile: each write-back keeps
    trying with backoff and completes once R&M is back, submitted once."""
    platform = kit.platform
    flaky = await kit.rm.session_in_rm()
    await rm_faults(
        platform, api_paths_matching=flaky.rm_appointment_id, api_status=500, api_fail_requests=2
    )
    await record_missed(kit.rm, flaky)
    report = await report_when(platform, flaky.appointment_id, "acknowledged")
    attempts = await attempts_of(platform, str(report["id"]))
    assert attempts[:2] == [("failed", "500"), ("failed", "500")]
    assert [result for result, _ in attempts[2:]].count("acknowledged") == 1

    down = await kit.rm.session_in_rm()
    await rm_faults(  # R&M down, and its HMPPS Auth with it: every token issued so far expires
        platform,
        api_paths_matching=down.rm_appointment_id,
        api_status=503,
        api_fail_seconds=OUTAGE_S,
        token_status=503,
        token_fail_seconds=OUTAGE_S,
    )
    await rm_control(platform, "/_control/expire-tokens")
    await record_missed(kit.rm, down)
    report = await report_when(platform, down.appointment_id, "acknowledged", timeout=OUTAGE_S + 30)
    assert (report["acknowledged_channel"], report["escalated_at"]) == ("rm_writeback", None)
    results = Counter(r for r, _ in await attempts_of(platform, str(report["id"])))
    assert results["failed"] >= 3, results  # tried on through the outage, with backoff
    assert results["acknowledged"] == 1, results
    for session in (flaky, down):
        assert await rm_accepted(platform, session.rm_appointment_id) == WRITTEN_BACK
        assert await acknowledged_events(platform, session.appointment_id) == 1


# --- The receivers failing, timing out, down and gone. ---


async def test_receivers_failing_timing_out_and_down_then_back_get_each_report_once(
    kit: Kit,
) -> None:
    """One endpoint answers 503, one is slower than notify's timeout, one is not listening;
    each recovers and gets the report on the second try (five seconds later: notify's schedule
    is 0 s, 5 s, 30 s, 2 min, ...), under the one `webhook-id`."""
    platform = kit.platform
    failing, slow = kit.receivers
    await failing.behave(status_sequence=[503])
    await slow.behave(delay_ms=3000)  # notify gives up after 2 s
    port = free_port()
    down = Receiver(f"http://127.0.0.1:{port}")
    down.subscription_id, secret = await subscribe(platform, down.url + WEBHOOK_PATH)
    try:
        session = await kit.rm.missed()

        async def down_tried() -> bool:
            found = await deliveries_of(platform, session.appointment_id)
            return int(found.get(down.url + WEBHOOK_PATH, ("", 0))[1]) >= 1

        await eventually(down_tried, timeout=30, what="a try at the endpoint that is down")
        async with serve_in_loop(probation_app([secret]), port):  # back before the second

            async def slow_tried() -> bool:
                return bool(await slow.deliveries(session.appointment_id))

            await eventually(slow_tried, timeout=30, what="a try at the slow endpoint")
            await slow.behave(delay_ms=0)  # that try still stalls past notify's timeout
            await each_endpoint_got_it_once(kit.platform, kit.endpoints, session.appointment_id)
            assert await down.got_once(session.appointment_id)
    finally:
        await unsubscribe(platform, down.subscription_id)
    statuses = [d["status"] for d in await failing.deliveries(session.appointment_id)]
    assert statuses == [503, 200]
    assert len(await slow.deliveries(session.appointment_id)) == 2  # the late answer, then one
    report = await report_when(platform, session.appointment_id, "acknowledged")
    assert report["escalated_at"] is None


async def test_receiver_gone_410_fails_the_delivery_loudly_and_escalates_the_report(
    kit: Kit,
) -> None:
    platform = kit.platform
    with receiver_process() as fake:
        gone = await subscribed_receiver(platform, fake)
        await gone.behave(status_sequence=[410])
        session = await kit.rm.session_in_rm()
        # R&M is slow to take this one, so the report is still open when the endpoint goes.
        slow = f"{session.rm_appointment_id}/attendance"
        await rm_faults(platform, api_paths_matching=slow, hold_requests=True)
        await record_missed(kit.rm, session)
        report = await report_when(platform, session.appointment_id, "escalated")
        await rm_faults(platform, hold_requests=False)
    assert report["escalation_cause"] == "refused"
    assert "webhook: refused (410)" in report["escalation_detail"]
    delivery = (await deliveries_of(platform, session.appointment_id))[fake.base_url + WEBHOOK_PATH]
    assert (delivery[0], delivery[2]) == ("failed", "endpoint-gone")
    subscription = await platform.call(
        "operator", "GET", "notify", f"/subscriptions/{gone.subscription_id}"
    )
    assert subscription.json()["active"] is False
    log = (platform.stack.root / "logs" / "notify.log").read_text().splitlines()
    failed = [line for line in log if "webhook delivery failed for good" in line]
    assert any(gone.subscription_id in line and "ERROR" in line for line in failed), failed
    emails = await escalation_emails(platform, str(report["id"]))
    assert len(emails) == 2  # the hub's named contact and the lead provider
    report = await report_when(platform, session.appointment_id, "acknowledged")
    assert report["acknowledged_channel"] == "rm_writeback"
    assert await submits_accepted(platform, session.rm_appointment_id) == 1


# --- The broker paused; notify killed. ---


async def test_broker_paused_during_a_non_attendance_then_written_back_and_delivered_once(
    kit: Kit,
) -> None:
    platform = kit.platform
    session = await kit.rm.session_in_rm()
    platform.stack.broker.pause()
    try:
        await record_missed(kit.rm, session)  # case answers; its outbox waits for the broker
        await asyncio.sleep(PAUSE_S)
        assert await report_of(platform, session.appointment_id) is None
    finally:
        platform.stack.broker.resume()
    report = await report_when(platform, session.appointment_id, "acknowledged", timeout=60)
    assert report["acknowledged_channel"] == "rm_writeback"
    await each_endpoint_got_it_once(kit.platform, kit.endpoints, session.appointment_id)
    assert await rm_accepted(platform, session.rm_appointment_id) == WRITTEN_BACK
    assert await acknowledged_events(platform, session.appointment_id) == 1


async def test_notify_killed_mid_delivery_and_mid_write_back_completes_the_report_once(
    kit: Kit,
) -> None:
    """SIGKILL while a receiver holds the webhook and R&M holds the submit. R&M takes that submit
    after notify died (its answer lost), the receiver records its request: the restarted notify
    takes both up when their leases end, R&M answers the second submit 409, which the read-back
    reconciles, and the receiver gets the same `webhook-id` again."""
    platform = kit.platform
    holding = kit.receivers[0]
    session = await kit.rm.session_in_rm()
    await holding.behave(delay_ms=10_000)
    submit = f"{session.rm_appointment_id}/submit-feedback"
    await rm_faults(platform, api_paths_matching=submit, hold_requests=True)
    await record_missed(kit.rm, session)

    async def both_held() -> bool:
        held = (await rm_stats(platform))["api_held"] >= 1
        return held and bool(await holding.deliveries(session.appointment_id))

    await eventually(both_held, timeout=30, what="the webhook and the submit held")
    platform.stack.kill_service("notify")
    await rm_faults(platform, hold_requests=False)
    await holding.behave(delay_ms=0)
    await platform.stack.start_service("notify")

    report = await report_when(platform, session.appointment_id, "acknowledged", timeout=60)
    assert report["acknowledged_channel"] == "rm_writeback"
    assert (await attempts_of(platform, str(report["id"])))[-1] == (
        "acknowledged",
        "409 reconciled",
    )
    calls = Counter(await rm_calls(platform, session.rm_appointment_id))
    assert calls[("POST", "submit-feedback", 200)] == 1
    assert calls[("POST", "submit-feedback", 409)] >= 1
    await each_endpoint_got_it_once(kit.platform, kit.endpoints, session.appointment_id)
    assert len(await holding.deliveries(session.appointment_id)) >= 2  # sent again, same id
    assert await acknowledged_events(platform, session.appointment_id) == 1
