"""The working-day KPIs (DS2-DS4, KP1-KP3, KP5, KP6) against cases worked out by hand.

England and Wales bank holidays around them (`holidays`, GB/ENG):
- Christmas 2026: Fri 25 Dec, Sat 26 Dec (Boxing Day), Mon 28 Dec (Boxing Day observed);
  Fri 1 Jan 2027 (New Year's Day).
- Easter 2027: Fri 26 Mar (Good Friday), Mon 29 Mar (Easter Monday); the clocks go forward on
  Sun 28 Mar 2027 (BST from 01:00 UTC) and back on Sun 31 Oct 2027 (GMT from 01:00 UTC).
Each test uses its own hub (or month), so the module's cases never meet.
"""

from __future__ import annotations

from services.metrics.tests.kpi_harness import Metrics, counts, metrics

from gmirs_metrics.domain.kpi_readings import KpiReadings

__all__ = ["metrics"]


async def test_ds2_counts_ten_working_days_over_christmas_with_mitigation(
    metrics: Metrics,
) -> None:
    """Sent Wed 16 Dec 2026: the ten working days are Thu 17, Fri 18, Mon 21 - Thu 24, (Fri 25,
    Sat, Sun, Mon 28 off) Tue 29 - Thu 31, (Fri 1 Jan off) Mon 4 Jan. Deadline: Mon 4 Jan 2027."""
    f, hub = metrics.facts, "bolton"
    await f.case(hub, "2026-12-16 10:00", initial_assessment_attended_at="2027-01-04 17:00")  # met
    await f.case(hub, "2026-12-16 10:00", initial_assessment_attended_at="2027-01-05 09:00")  # late
    mitigated = await f.case(
        hub, "2026-12-16 10:00", initial_assessment_attended_at="2027-01-05 09:00"
    )
    await f.mitigation(mitigated, hub, "DS2", "2026-12-30 10:00")
    await f.mitigation(mitigated, hub, "KP6", "2026-12-30 10:00")  # another measure's: no effect
    await f.case(hub, "2026-12-02 10:00")  # never assessed, deadline Wed 16 Dec long past
    # Sent Thu 31 Dec 23:30: its ten days end Fri 15 Jan; on 8 Jan it is still in its window.
    waiting = await f.case(hub, "2026-12-31 23:30")
    await f.case(hub, "2027-01-01 00:30")  # sent on New Year's Day: January's, not December's
    await f.case(  # withdrawn by the PP before any assessment: outside the provider's control
        hub, "2026-12-16 10:00", closed_at="2026-12-18 10:00", closure_reason="withdrawn"
    )

    ds2 = await metrics.kpi("DS2", hub, "2026-12", now="2027-01-08 12:00")
    assert counts(ds2) == {
        "numerator": 2,
        "denominator": 4,
        "mitigated": 1,
        "pending": 1,
        "excluded": 1,
    }
    assert (ds2.percentage, ds2.target_percent, ds2.status) == (50.0, 95.0, "red")

    excluded = KpiReadings(mitigation="excluded")  # the other reading: mitigated cases leave
    other = await metrics.kpi("DS2", hub, "2026-12", now="2027-01-08 12:00", readings=excluded)
    assert (other.numerator, other.denominator, other.mitigated) == (1, 3, 1)

    # The last day of its window is still pending; the day after, a failure.
    still = await metrics.kpi("DS2", hub, "2026-12", now="2027-01-15 23:59")
    assert still.pending == 1
    later = await metrics.kpi("DS2", hub, "2026-12", now="2027-01-18 09:00")
    assert (later.numerator, later.denominator, later.pending) == (2, 5, 0)
    assert waiting  # the case stays in December whatever the clock says

    january = await metrics.kpi("DS2", hub, "2027-01", now="2027-01-08 12:00")
    assert (january.pending, january.denominator) == (1, 0)


async def test_kp1_one_business_day_across_christmas_and_the_clock_change(
    metrics: Metrics,
) -> None:
    """A contact on Thu 24 Dec 2026 may be recorded up to Tue 29 Dec (25, 26, 27, 28 are not
    working days). A contact on Thu 25 Mar 2027 may be recorded up to Tue 30 Mar (Good Friday,
    weekend, Easter Monday); 00:30 BST on Wed 31 Mar is still Tue 30 Mar in UTC, but Wednesday
    in London, so it is late."""
    f, hub = metrics.facts, "bury"
    case = await f.case(hub, "2026-12-01 10:00")
    await f.contact(case, hub, "2026-12-24 15:00", "2026-12-28 10:00")  # bank holiday: in time
    await f.contact(case, hub, "2026-12-24 15:00", "2026-12-29 18:00")  # next working day
    await f.contact(case, hub, "2026-12-24 15:00", "2026-12-30 09:00")  # late
    await f.contact(case, hub, "2026-12-24 15:00", "2026-12-24 15:05", successful=False)
    # Thursday's contact recorded on Saturday: Friday was its one working day, but no further
    # working day had begun, so it is in time (working_days_between(Thu, Sat) == 1).
    await f.contact(case, hub, "2026-12-17 11:00", "2026-12-19 11:00")
    kp1 = await metrics.kpi("KP1", hub, "2026-12", now="2027-01-08 12:00")
    assert counts(kp1) == {
        "numerator": 3,
        "denominator": 4,
        "mitigated": 0,
        "pending": 0,
        "excluded": 0,
    }
    assert (kp1.percentage, kp1.status) == (75.0, "red")

    await f.contact(case, hub, "2027-03-25 16:00", "2027-03-30 23:30")  # 22:30 UTC Tue: in time
    await f.contact(case, hub, "2027-03-25 16:00", "2027-03-31 00:30")  # 23:30 UTC Tue: late
    await f.contact(case, hub, "2027-04-01 00:30", "2027-04-01 09:00")  # 23:30 UTC 31 Mar: April
    march = await metrics.kpi("KP1", hub, "2027-03", now="2027-04-20 12:00")
    assert (march.numerator, march.denominator) == (1, 2)
    april = await metrics.kpi("KP1", hub, "2027-04", now="2027-04-20 12:00")
    assert (april.numerator, april.denominator) == (1, 1)

    # October: 00:30 BST on Sun 31 Oct is 23:30 UTC on Sat 30 Oct; both are October's. From
    # Sunday, one working day is Mon 1 Nov.
    await f.contact(case, hub, "2027-10-31 00:30", "2027-11-01 17:00")  # in time
    await f.contact(case, hub, "2027-10-31 23:30", "2027-11-02 10:00")  # two working days: late
    october = await metrics.kpi("KP1", hub, "2027-10", now="2027-11-20 12:00")
    assert (october.numerator, october.denominator) == (1, 2)


async def test_kp2_shared_within_the_window_is_a_setting(metrics: Metrics) -> None:
    f, hub = metrics.facts, "manchester"
    both = {"action_plan_agreed_at": "2026-12-09 14:00"}
    await f.case(
        hub,
        "2026-12-01 10:00",
        **both,
        action_plan_agreed_recorded_at="2026-12-09 15:00",
        action_plan_shared_at="2026-12-10 16:00",
    )
    await f.case(  # recorded in time, shared with the PP on Mon 14 Dec: three working days
        hub,
        "2026-12-01 10:00",
        **both,
        action_plan_agreed_recorded_at="2026-12-09 15:00",
        action_plan_shared_at="2026-12-14 09:00",
    )
    await f.case(  # agreed on Christmas Eve, recorded on the next working day, not yet shared
        hub,
        "2026-12-01 10:00",
        action_plan_agreed_at="2026-12-24 12:00",
        action_plan_agreed_recorded_at="2026-12-29 09:00",
    )
    kp2 = await metrics.kpi("KP2", hub, "2026-12", now="2026-12-29 12:00")
    assert (kp2.numerator, kp2.denominator, kp2.pending) == (1, 2, 1)
    recorded_only = KpiReadings(kp2_shared_within_window=False)
    alone = await metrics.kpi("KP2", hub, "2026-12", now="2026-12-29 12:00", readings=recorded_only)
    assert (alone.numerator, alone.denominator, alone.pending) == (3, 3, 0)


async def test_ds3_five_working_days_from_the_assessment_and_its_plan_milestone(
    metrics: Metrics,
) -> None:
    """Assessed Fri 18 Dec 2026: five working days are Mon 21 - Thu 24 and Tue 29 Dec."""
    f, hub = metrics.facts, "oldham"
    assessed = {"initial_assessment_attended_at": "2026-12-18 10:00"}
    await f.case(hub, "2026-12-01 10:00", **assessed, action_plan_shared_at="2026-12-29 17:00")
    await f.case(hub, "2026-12-01 10:00", **assessed, action_plan_shared_at="2026-12-30 09:00")
    await f.case(
        hub,
        "2026-12-01 10:00",
        **assessed,
        action_plan_agreed_at="2026-12-22 10:00",
        action_plan_shared_at="2026-12-30 09:00",
    )
    await f.case(  # assessed, found inappropriate, closed: no plan is owed
        hub,
        "2026-12-01 10:00",
        **assessed,
        closed_at="2026-12-21 10:00",
        closure_reason="inappropriate",
    )
    ds3 = await metrics.kpi("DS3", hub, "2026-12", now="2027-01-08 12:00")
    assert counts(ds3) == {
        "numerator": 1,
        "denominator": 3,
        "mitigated": 0,
        "pending": 0,
        "excluded": 1,
    }
    agreed = KpiReadings(ds3_plan_milestone="agreed")
    ds3_agreed = await metrics.kpi("DS3", hub, "2026-12", now="2027-01-08 12:00", readings=agreed)
    assert (ds3_agreed.numerator, ds3_agreed.denominator) == (1, 3)  # only the third agreed


async def test_ds4_first_baseline_within_ten_working_days(metrics: Metrics) -> None:
    """Assessed Wed 2 Dec 2026: ten working days end Wed 16 Dec."""
    f, hub = metrics.facts, "rochdale"
    scores = {"physical-health": (3, 4)}
    on_time = await f.case(
        hub, "2026-11-20 10:00", initial_assessment_attended_at="2026-12-02 10:00"
    )
    await f.assessment(on_time, hub, "baseline", "2026-12-16 16:00", scores)
    await f.assessment(on_time, hub, "baseline", "2026-12-20 16:00", scores)  # a later one
    late = await f.case(hub, "2026-11-20 10:00", initial_assessment_attended_at="2026-12-02 10:00")
    await f.assessment(late, hub, "baseline", "2026-12-17 09:00", scores)
    await f.assessment(late, hub, "review", "2026-12-10 09:00", scores)  # not the tool's baseline
    ds4 = await metrics.kpi("DS4", hub, "2026-12", now="2027-01-08 12:00")
    assert (ds4.numerator, ds4.denominator, ds4.percentage, ds4.status) == (1, 2, 50.0, "red")


async def test_kp3_attendance_recorded_within_one_business_day(metrics: Metrics) -> None:
    f, hub = metrics.facts, "salford"
    case = await f.case(hub, "2026-12-01 10:00")
    await f.appointment(case, hub, "2026-12-24 11:00", attendance_recorded="2026-12-29 09:00")
    await f.appointment(case, hub, "2026-12-24 11:00", attendance_recorded="2026-12-30 09:00")
    await f.appointment(case, hub, "2026-12-23 11:00", cancelled="2026-12-22 09:00")
    await f.appointment(case, hub, "2026-12-31 10:00")  # not recorded yet; due Mon 4 Jan
    kp3 = await metrics.kpi("KP3", hub, "2026-12", now="2027-01-04 16:00")
    assert (kp3.numerator, kp3.denominator, kp3.pending) == (1, 2, 1)
    after = await metrics.kpi("KP3", hub, "2026-12", now="2027-01-05 08:00")
    assert (after.numerator, after.denominator, after.pending) == (1, 3, 0)


async def test_kp5_exit_survey_offered_within_one_business_day(metrics: Metrics) -> None:
    f, hub = metrics.facts, "stockport"
    await f.case(
        hub,
        "2026-10-01 10:00",
        sessions_completed_at="2026-12-24 12:00",
        exit_survey_offered_at="2026-12-29 12:00",
    )
    await f.case(hub, "2026-10-01 10:00", sessions_completed_at="2026-12-30 12:00")
    kp5 = await metrics.kpi("KP5", hub, "2026-12", now="2026-12-31 09:00")
    assert (kp5.numerator, kp5.denominator, kp5.pending, kp5.status) == (1, 1, 1, "green")


async def test_kp6_ten_working_days_inclusive_of_mitigation_and_its_start(
    metrics: Metrics,
) -> None:
    f, hub = metrics.facts, "tameside"
    assessed = {"initial_assessment_attended_at": "2026-12-02 10:00"}
    await f.case(
        hub,
        "2026-11-20 10:00",
        **assessed,
        action_plan_approved_at="2026-12-08 10:00",
        intervention_commenced_at="2026-12-16 15:00",
    )
    late = await f.case(
        hub,
        "2026-11-20 10:00",
        **assessed,
        action_plan_approved_at="2026-12-08 10:00",
        intervention_commenced_at="2026-12-17 10:00",
    )
    await f.mitigation(late, hub, "KP6", "2026-12-10 10:00")
    await f.case(  # assessed as unsuitable: not in KP6
        hub,
        "2026-11-20 10:00",
        **assessed,
        closed_at="2026-12-03 10:00",
        closure_reason="inappropriate",
    )
    kp6 = await metrics.kpi("KP6", hub, "2026-12", now="2027-01-08 12:00")
    assert counts(kp6) == {
        "numerator": 2,
        "denominator": 2,
        "mitigated": 1,
        "pending": 0,
        "excluded": 1,
    }
    assert kp6.status == "green"
    # From the PP's approval (Tue 8 Dec) both started within ten working days, unmitigated.
    approval = KpiReadings(kp6_starts_at="action-plan-approved")
    from_plan = await metrics.kpi("KP6", hub, "2026-12", now="2027-01-08 12:00", readings=approval)
    assert (from_plan.numerator, from_plan.denominator, from_plan.mitigated) == (2, 2, 0)
