"""The month-count KPIs (DS1, DS5, KP4, PM001, SL002), the 24-hour report times and distance
travelled, against cases worked out by hand. Each test has its own month or hub."""

from __future__ import annotations

from services.metrics.tests.kpi_harness import Metrics, counts, metrics

from gmirs_metrics.domain.figures import DistanceTravelled, ReportTimes
from gmirs_metrics.domain.kpi_readings import KpiReadings

__all__ = ["metrics"]


async def test_ds1_counts_referrals_in_the_month_rm_sent_them(metrics: Metrics) -> None:
    f = metrics.facts
    for day in ("2027-02-01 09:00", "2027-02-14 12:00", "2027-02-28 23:30"):
        await f.referral("bolton", day)
    await f.referral("bolton", "2027-01-31 23:59", received="2027-02-01 08:00")  # January's
    await f.referral("bolton", "2027-02-26 10:00", received="2027-03-02 08:00")  # heard late
    await f.referral(None, "2027-02-10 10:00")  # not yet routed: counted for all hubs only
    february = await metrics.month("2027-02", now="2027-03-20 12:00")
    ds1 = {k.area: k for k in february.kpis if k.code == "DS1"}
    bolton = ds1["bolton"]
    assert (bolton.numerator, bolton.denominator, bolton.percentage) == (4, 44, 9.1)
    assert bolton.status == "red"
    assert (ds1["all"].numerator, ds1["all"].denominator) == (5, 405)  # the demand table's sum
    assert (ds1["wigan"].numerator, ds1["wigan"].denominator, ds1["wigan"].status) == (
        0,
        43,
        "red",
    )
    targets = KpiReadings(ds1_monthly_targets={"bolton": 4})
    configured = await metrics.kpi("DS1", "bolton", "2027-02", "2027-03-20 12:00", targets)
    assert (configured.percentage, configured.status) == (100.0, "green")


async def test_ds5_outcomes_achieved_by_people_on_programme(metrics: Metrics) -> None:
    f, hub = metrics.facts, "trafford"
    started = {"intervention_commenced_at": "2027-06-01 10:00", "closed_at": "2027-07-10 10:00"}
    await f.case(hub, "2027-05-01 10:00", **started, outcomes_achieved=1, outcomes_not_achieved=2)
    await f.case(
        hub, "2027-05-01 10:00", **started, outcomes_achieved=0, outcomes_partially_achieved=2
    )
    await f.case(hub, "2027-05-01 10:00", **started)  # no outcomes recorded: not achieved
    await f.case(hub, "2027-05-01 10:00", closed_at="2027-07-10 10:00")  # never on programme
    ds5 = await metrics.kpi("DS5", hub, "2027-07", now="2027-08-01 12:00")
    assert (ds5.numerator, ds5.denominator, ds5.percentage, ds5.status) == (1, 3, 33.3, "red")
    partial = KpiReadings(ds5_counts_partial=True)
    with_partial = await metrics.kpi("DS5", hub, "2027-07", "2027-08-01 12:00", partial)
    assert (with_partial.numerator, with_partial.denominator) == (2, 3)


async def test_kp4_evidence_sent_by_case_due_time(metrics: Metrics) -> None:
    f = metrics.facts
    due = "2026-12-29 17:00"  # asked on Christmas Eve: case's due time, after the holidays
    await f.evidence_request("wigan", "2026-12-24 10:00", due, answered="2026-12-29 10:00")
    await f.evidence_request("wigan", "2026-12-24 10:00", due, answered="2026-12-30 10:00")
    await f.evidence_request(None, "2026-12-24 10:00", due)  # asked of the lead provider
    month = await metrics.month("2026-12", now="2026-12-28 12:00")
    kp4 = {k.area: k for k in month.kpis if k.code == "KP4"}
    assert (kp4["wigan"].numerator, kp4["wigan"].denominator) == (1, 2)
    assert (kp4["lead-provider"].pending, kp4["lead-provider"].denominator) == (1, 0)
    after = await metrics.kpi("KP4", "lead-provider", "2026-12", now="2026-12-29 17:00")
    assert (after.numerator, after.denominator, after.pending) == (0, 1, 0)


async def test_sl002_and_pm001_over_referrals_that_ended_in_the_month(metrics: Metrics) -> None:
    """SL002 = a / (b - c) x 100 for August 2027 (every referral in hub `wigan`):
    - started (ICA 10 Aug, ended 20 Aug): in a and b;
    - no ICA, plan approved, ended DIS (disengaged, "Negative"): in b;
    - no ICA, plan approved, ended MOV (moved, "Neutral"): in b and c;
    - no ICA, no approved plan, ended DIS: neutral for want of a plan, in b and c;
    - no ICA, plan approved, no code, closed by the hub as disengaged: in b (negative);
    - no ICA, plan approved, no code, ended in R&M: reason undetermined, in b and c;
    - cancelled on the day it was referred: not considered at all.
    a = 1, b = 6, c = 3: 1 / 3 = 33.3%, under the 80% trigger: red."""
    f, hub = metrics.facts, "wigan"
    ended = {"closed_at": "2027-08-20 10:00"}
    approved = {"action_plan_approved_at": "2027-07-20 10:00", **ended}
    await f.case(hub, "2027-07-01 10:00", intervention_commenced_at="2027-08-10 10:00", **approved)
    await f.case(hub, "2027-07-01 10:00", **approved, rm_withdrawal_code="DIS")
    await f.case(hub, "2027-07-01 10:00", **approved, rm_withdrawal_code="MOV")
    await f.case(hub, "2027-07-01 10:00", **ended, rm_withdrawal_code="DIS")
    await f.case(hub, "2027-07-01 10:00", **approved, closure_reason="disengaged")
    await f.case(hub, "2027-07-01 10:00", **approved, closure_reason="ended-in-rm")
    await f.case(hub, "2027-08-15 10:00", closed_at="2027-08-15 16:00", closure_reason="withdrawn")
    await f.case(hub, "2027-08-02 10:00")  # referred in August, not ended
    sl002 = await metrics.kpi("SL002", hub, "2027-08", now="2027-09-22 12:00")
    assert counts(sl002) == {
        "numerator": 1,
        "denominator": 3,
        "mitigated": 0,
        "pending": 0,
        "excluded": 3,
    }
    assert (sl002.percentage, sl002.target_percent, sl002.status) == (33.3, 90.0, "red")
    pm001 = await metrics.kpi("PM001", hub, "2027-08", now="2027-09-22 12:00")
    assert (pm001.numerator, pm001.denominator, pm001.status) == (1, 2, "no-data")


async def test_pm001_counts_a_case_sent_and_started_in_the_month_once(metrics: Metrics) -> None:
    """October 2027 at `bury`: one case sent and started in October, one sent in September and
    started in October, one sent in October and not started: 2 starts beside 2 referrals."""
    f, hub = metrics.facts, "bury"
    await f.case(hub, "2027-10-04 10:00", intervention_commenced_at="2027-10-20 10:00")
    await f.case(hub, "2027-09-20 10:00", intervention_commenced_at="2027-10-05 10:00")
    await f.case(hub, "2027-10-11 10:00")
    pm001 = await metrics.kpi("PM001", hub, "2027-10", now="2027-11-24 12:00")
    assert (pm001.numerator, pm001.denominator) == (2, 2)


async def test_24_hour_report_times_per_hub(metrics: Metrics) -> None:
    """Due in January 2027 at hub `bolton`: answered in 100, 200 and 300 seconds and in 25 hours
    (90,000 s); one never answered and breached (the webhook failing), one escalated. p50 of
    [100, 200, 300, 90000] (nearest rank) is 200; p95 is 90000."""
    f, hub = metrics.facts, "bolton"
    for seconds in (100, 200, 300):
        await f.report(hub, "2027-01-12 10:00", seconds_taken=seconds)
    await f.report(hub, "2027-01-12 10:00", seconds_taken=90_000, escalated=True)
    await f.report(hub, "2027-01-12 10:00", breach_cause="failing")
    await f.report(hub, "2027-02-01 00:30", seconds_taken=10)  # due in February
    reports = (await metrics.month("2027-01", now="2027-02-10 12:00")).reports
    assert reports[0].area == "all"
    assert [r for r in reports if r.area == hub] == [
        ReportTimes(
            area=hub,
            due=5,
            completed_in_time=3,
            p50_seconds=200,
            p95_seconds=90_000,
            max_seconds=90_000,
            escalations=1,
            breaches_by_cause={"failing": 1},
        )
    ]


async def test_distance_travelled_from_baseline_to_exit(metrics: Metrics) -> None:
    """Exits in May 2027 at `stockport`, scores (self, staff):
    - person 1: physical health 3 -> 7 (4 -> 6), drugs and alcohol 5 -> 4 (5 -> 5);
    - person 2: physical health 2, corrected to 4, -> 6 (4 -> 6); the correction replaces it.
    Self scores: physical health +4 and +2 (mean 3.0), drugs and alcohol -1; each person's mean
    change is 1.5 and 2.0, overall 1.75. Staff scores: +2, +2, 0; overall (1.0 + 2.0) / 2."""
    f, hub = metrics.facts, "stockport"
    health, drugs = "physical-health", "drugs-and-alcohol"
    one = await f.case(hub, "2027-01-01 10:00")
    await f.assessment(one, hub, "baseline", "2027-03-01 10:00", {health: (3, 4), drugs: (5, 5)})
    await f.assessment(one, hub, "exit", "2027-05-20 10:00", {health: (7, 6), drugs: (4, 5)})
    two = await f.case(hub, "2027-01-01 10:00")
    wrong = await f.assessment(two, hub, "baseline", "2027-03-02 10:00", {health: (2, 2)})
    await f.assessment(two, hub, "baseline", "2027-03-02 10:00", {health: (4, 4)}, corrects=wrong)
    await f.assessment(two, hub, "exit", "2027-05-31 23:30", {health: (6, 6)})
    three = await f.case(hub, "2027-01-01 10:00")  # exit on 1 June (00:30 BST): June's
    await f.assessment(three, hub, "baseline", "2027-03-01 10:00", {health: (1, 1)})
    await f.assessment(three, hub, "exit", "2027-06-01 00:30", {health: (9, 9)})

    mine = [
        d for d in (await metrics.month("2027-05", "2027-06-10 12:00")).distance if d.area == hub
    ]
    assert mine == [
        DistanceTravelled(hub, drugs, 1, -1.0),
        DistanceTravelled(hub, "overall", 2, 1.75),
        DistanceTravelled(hub, health, 2, 3.0),
    ]
    staff = KpiReadings(distance_score="staff")
    by_staff = await metrics.month("2027-05", "2027-06-10 12:00", staff)
    overall = next(d for d in by_staff.distance if d.area == hub and d.outcome_area == "overall")
    assert overall.mean_change == 1.5
