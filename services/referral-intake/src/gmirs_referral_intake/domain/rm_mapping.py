"""An R&M SentReferral (with its service categories) as our referral: pure, no I/O.

R&M keeps the person, needs and practitioner in the nested `referral` object and refers to
complexity levels and desired outcomes by id; the ids are resolved against the service
categories fetched from R&M, because a hub needs the words, not R&M's ids. The risk text is not
in the referral at all (R&M holds it in Assess Risks and Needs), so only its id travels.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from gmirs_referral_intake.domain.pdu import normalise_pdu
from gmirs_referral_intake.domain.rm_errors import UnusableMessageError
from gmirs_referral_intake.domain.rm_json import RmJson

COMPLEXITIES = ("low", "medium", "high")


def service_category_ids(sent_referral: Mapping[str, Any]) -> list[uuid.UUID]:
    """The categories a referral is for (to fetch before `referral_data`)."""
    return _category_ids(_inner(RmJson(sent_referral, "sentReferral")))


def referral_data(
    sent_referral: Mapping[str, Any], categories: Mapping[uuid.UUID, Mapping[str, Any]]
) -> dict[str, Any]:
    """ReferralReceived fields other than id, source, received time and hub."""
    sent = RmJson(sent_referral, "sentReferral")
    inner = _inner(sent)
    raw_pdu = inner.opt_text("ppPdu") or inner.opt_text("ndeliusPDU")
    pdu = normalise_pdu(raw_pdu)
    return {
        "probation_delivery_unit": pdu,
        "probation_delivery_unit_text": raw_pdu if raw_pdu != pdu else None,
        "reference_number": sent.text("referenceNumber"),
        "rm_referral_id": str(sent.id("id")),
        "contract_reference": inner.opt_text("dynamicFrameworkContractReference")
        or sent.opt_text("dynamicFrameworkContractReference"),
        "person": _person(inner.obj("serviceUser")),
        "service_categories": _categories(inner, categories),
        "needs": _needs(inner),
        "risk": {
            "summary": None,
            "supplementary_risk_id": _opt_str(sent.opt_id("supplementaryRiskId")),
        },
        "referring_practitioner": _practitioner(inner, pdu or raw_pdu),
        "sent_at": sent.when("sentAt").isoformat(),
        "completion_deadline": _opt_str(inner.opt_day("completionDeadline")),
        "reason_for_referral": inner.opt_text("reasonForReferral"),
        "location": _location(inner),
    }


def _location(inner: RmJson) -> dict[str, Any]:
    """Custody or community, the prison, the expected release date and the probation office."""
    kind = inner.opt_text("personCurrentLocationType")
    return {
        "current_location": kind.casefold() if kind in ("CUSTODY", "COMMUNITY") else None,
        "custody_prison_id": inner.opt_text("personCustodyPrisonId"),
        "expected_release_date": _opt_str(inner.opt_day("expectedReleaseDate")),
        "probation_office": inner.opt_text("ppProbationOffice")
        or inner.opt_text("expectedProbationOffice"),
    }


def _inner(sent: RmJson) -> RmJson:
    return sent.obj("referral")


def _ids(json: RmJson, key: str) -> list[uuid.UUID]:
    try:
        return [uuid.UUID(raw) for raw in json.strings(key)]
    except ValueError:
        raise UnusableMessageError(f"{json.where}.{key}: not a list of UUIDs") from None


def _category_ids(inner: RmJson) -> list[uuid.UUID]:
    ids = _ids(inner, "serviceCategoryIds")
    if not ids:
        raise UnusableMessageError("sentReferral.referral.serviceCategoryIds: empty")
    return ids


def _opt_str(value: object | None) -> str | None:
    return None if value is None else str(value)


def _person(user: RmJson) -> dict[str, Any]:
    return {
        "crn": user.text("crn"),
        "given_name": user.text("firstName"),
        "family_name": user.text("lastName"),
        "date_of_birth": _opt_str(user.opt_day("dateOfBirth")),
        "gender": user.opt_text("gender"),
        "ethnicity": user.opt_text("ethnicity"),
        "preferred_language": user.opt_text("preferredLanguage"),
        "disabilities": user.strings("disabilities"),
    }


def _categories(
    inner: RmJson, categories: Mapping[uuid.UUID, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    levels = {
        c.id("serviceCategoryId"): c.id("complexityLevelId")
        for c in inner.objects("complexityLevels")
    }
    outcomes = {
        o.id("serviceCategoryId"): _ids(o, "desiredOutcomesIds")
        for o in inner.objects("desiredOutcomes")
    }
    result = []
    for category_id in _category_ids(inner):
        if category_id not in categories:
            raise UnusableMessageError("serviceCategory: not fetched")
        category = RmJson(categories[category_id], "serviceCategory")
        result.append(
            {
                "name": category.text("name"),
                "complexity": _complexity(category, levels.get(category_id)),
                "desired_outcomes": _outcomes(category, outcomes.get(category_id, [])),
            }
        )
    return result


def _complexity(category: RmJson, level_id: uuid.UUID | None) -> str:
    if level_id is None:
        raise UnusableMessageError("sentReferral.referral.complexityLevels: none for a category")
    for level in category.objects("complexityLevels"):
        if level.id("id") == level_id:
            title = level.text("title").casefold()
            for complexity in COMPLEXITIES:
                if title.startswith(complexity):
                    return complexity
            raise UnusableMessageError(
                "serviceCategory.complexityLevels.title: not low/medium/high"
            )
    raise UnusableMessageError("serviceCategory.complexityLevels: the referral's level is unknown")


def _outcomes(category: RmJson, wanted: list[uuid.UUID]) -> list[str]:
    known = {o.id("id"): o.text("description") for o in category.objects("desiredOutcomes")}
    if any(w not in known for w in wanted):
        raise UnusableMessageError(
            "serviceCategory.desiredOutcomes: a referral's outcome is unknown"
        )
    return [known[w] for w in wanted]


def _needs(inner: RmJson) -> dict[str, Any]:
    return {
        "additional_needs": inner.opt_text("additionalNeedsInformation"),
        "accessibility_needs": inner.opt_text("accessibilityNeeds"),
        "needs_interpreter": bool(inner.opt_flag("needsInterpreter")),
        "interpreter_language": inner.opt_text("interpreterLanguage"),
        "has_additional_responsibilities": inner.opt_flag("hasAdditionalResponsibilities"),
        "when_unavailable": inner.opt_text("whenUnavailable"),
    }


def _practitioner(inner: RmJson, pdu: str | None) -> dict[str, Any]:
    """The main point of contact the referrer gave (pp*), else the nDelius record (ndelius*)."""
    name = inner.opt_text("ppName") or inner.opt_text("ndeliusPPName")
    email = inner.opt_text("ppEmailAddress") or inner.opt_text("ndeliusPPEmailAddress")
    if not name:
        raise UnusableMessageError("sentReferral.referral.ppName/ndeliusPPName: missing")
    if not email:
        raise UnusableMessageError(
            "sentReferral.referral.ppEmailAddress/ndeliusPPEmailAddress: missing"
        )
    return {
        "name": name,
        "email": email,
        "phone": inner.opt_text("ppPhoneNumber") or inner.opt_text("ndeliusPhoneNumber"),
        "probation_delivery_unit": pdu,
    }
