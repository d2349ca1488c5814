"""The commissioner's case-level extract: the only fields it may hold, each with why.

One row per case whose referral Refer and Monitor sent in the month (the month a referral
counts in for the KPIs), so a commissioner can check a month's KPIs case by case. Never a name,
CRN, date of birth, address, equality data, risk, withdrawal code or free text; dates are UK
local dates, not times (the KPIs count in days). Checked by a test against the fact tables.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExtractField:
    name: str
    why: str


MILESTONES = (
    ("opened", "DS2, KP6: the case opened at the hub"),
    ("allocated", "the case allocated to a worker"),
    ("first_contact", "KP1: first contact with the person"),
    ("initial_assessment_attended", "DS2, DS3: the initial assessment attended"),
    ("action_plan_agreed", "DS3, KP2: the action plan agreed"),
    ("action_plan_approved", "DS3: the action plan approved by the probation practitioner"),
    ("intervention_commenced", "KP6: the first intervention appointment attended"),
    ("sessions_completed", "KP5: the sessions completed"),
    ("exit_survey_offered", "KP5: the exit survey offered"),
    ("closed", "when the case closed (PM001, SL002 count referrals that ended)"),
)

EXTRACT_FIELDS: tuple[ExtractField, ...] = (
    ExtractField("case_id", "the platform's own id, the one evidence requests name"),
    ExtractField("referral_id", "to reconcile with the referrals received (DS1)"),
    ExtractField("hub_id", "the hub holding the case: figures are per borough"),
    ExtractField("probation_delivery_unit", "the PDU the referral came from"),
    ExtractField("referral_source", "Refer and Monitor or a direct referral"),
    ExtractField("referral_sent", "the month the referral counts in (DS1 to DS5)"),
    ExtractField("referral_received", "when the platform heard of it (late referrals)"),
    *(ExtractField(name, why) for name, why in MILESTONES),
    ExtractField("initial_assessments_missed", "DS2: missed initial assessments (mitigation)"),
    ExtractField("state", "where the case is in its lifecycle"),
    ExtractField("closure_reason", "the platform's closed list (completed, disengaged...)"),
    ExtractField("outcomes_achieved", "DS5: desired outcomes achieved (counts only)"),
    ExtractField("outcomes_partially_achieved", "DS5: partially achieved (counts only)"),
    ExtractField("outcomes_not_achieved", "DS5: not achieved (counts only)"),
)
EXTRACT_HEADER = tuple(f.name for f in EXTRACT_FIELDS)
