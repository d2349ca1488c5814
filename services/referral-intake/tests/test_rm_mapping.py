"""A SentReferral mapped to our referral: person, unit, categories resolved to words, practitioner.

The R&M JSON here is written by hand from refer-and-monitor.md §2 (not produced by the
simulator), so the pure mapping is checked against the reference itself. Fictional people only.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from gmirs_contracts.intake import ReferralReceived
from gmirs_contracts.validation import validate_event
from gmirs_referral_intake.domain.pdu import PDUS, normalise_pdu
from gmirs_referral_intake.domain.rm_errors import UnusableMessageError
from gmirs_referral_intake.domain.rm_mapping import referral_data, service_category_ids
from gmirs_referral_intake.domain.routing import HubRouting

RM_ID = uuid.UUID("7c9e6679-7425-40de-944b-e07fc1f90ae7")
CATEGORY_ID = uuid.UUID("428ee70f-3001-4399-95a6-ad25eaaede16")
MEDIUM_ID = uuid.UUID("d0db50b0-4a50-4fc7-a006-9c97530e38b2")
OUTCOME_IDS = (
    uuid.UUID("301ead30-30a4-4c7c-8296-2768abfb59b5"),
    uuid.UUID("65924ac6-9724-455b-ad30-906936291421"),
)


def service_category() -> dict[str, Any]:
    return {
        "id": str(CATEGORY_ID),
        "name": "Emotional Wellbeing",
        "complexityLevels": [
            {"id": str(uuid.uuid4()), "title": "Low complexity", "description": "..."},
            {"id": str(MEDIUM_ID), "title": "Medium complexity", "description": "..."},
            {"id": str(uuid.uuid4()), "title": "High complexity", "description": "..."},
        ],
        "desiredOutcomes": [
            {"id": str(OUTCOME_IDS[0]), "description": "Improved coping strategies"},
            {"id": str(OUTCOME_IDS[1]), "description": "Reduced isolation"},
            {"id": str(uuid.uuid4()), "description": "Not chosen"},
        ],
    }


def sent_referral(**inner: Any) -> dict[str, Any]:
    """GET /sent-referral/{id}; keyword arguments override fields of the nested `referral`."""
    referral: dict[str, Any] = {
        "createdAt": "2026-02-19T16:00:00Z",
        "completionDeadline": "2026-08-20",
        "reasonForReferral": "Low mood since release.",
        "furtherInformation": None,
        "serviceCategoryIds": [str(CATEGORY_ID)],
        "complexityLevels": [
            {"serviceCategoryId": str(CATEGORY_ID), "complexityLevelId": str(MEDIUM_ID)}
        ],
        "desiredOutcomes": [
            {
                "serviceCategoryId": str(CATEGORY_ID),
                "desiredOutcomesIds": [str(i) for i in OUTCOME_IDS],
            }
        ],
        "additionalNeedsInformation": "Prefers mornings.",
        "accessibilityNeeds": None,
        "needsInterpreter": True,
        "interpreterLanguage": "Polish",
        "hasAdditionalResponsibilities": False,
        "whenUnavailable": None,
        "serviceUser": {
            "crn": "X123456",
            "title": "Mx",
            "firstName": "Alex",
            "lastName": "Example",
            "dateOfBirth": "1990-01-15",
            "gender": "Male",
            "ethnicity": "White British",
            "preferredLanguage": "Polish",
            "religionOrBelief": None,
            "disabilities": ["Autism"],
        },
        "serviceProvider": {"name": "GMIRS Lead", "id": "GMIRS"},
        "contractTypeName": "Personal Wellbeing",
        "dynamicFrameworkContractReference": "DN671065_TRAFFORD_PWB",
        "ndeliusPPName": "Sam Delius",
        "ndeliusPPEmailAddress": "sam.delius@justice.example",
        "ndeliusPDU": "Trafford PDU",
        "ndeliusPhoneNumber": "0161 000 0000",
        "ppName": None,
        "ppEmailAddress": None,
        "ppPdu": None,
        "ppPhoneNumber": None,
        **inner,
    }
    return {
        "id": str(RM_ID),
        "referenceNumber": "AY0164AC",
        "sentAt": "2026-02-20T09:00:00+00:00",
        "sentBy": {"username": "pp.user", "authSource": "delius", "userId": "2500"},
        "serviceUserCRN": "X123456",
        "assignedTo": None,
        "supplementaryRiskId": "5f0e2c4a-1a56-4a16-9a43-4a1c1d1b1e11",
        "concludedAt": None,
        "endRequestedAt": None,
        "referral": referral,
    }


def _mapped(**inner: Any) -> dict[str, Any]:
    return referral_data(sent_referral(**inner), {CATEGORY_ID: service_category()})


def _published(data: dict[str, Any], hub: str | None) -> dict[str, Any]:
    """The event accept_referral would publish from the mapped data."""
    now = datetime(2026, 2, 20, 9, 5, tzinfo=UTC)
    event = {**data, "referral_id": str(uuid.uuid4()), "source": "refer-and-monitor"}
    event.update(received_at=now.isoformat(), hub_id=hub)
    return ReferralReceived.model_validate(event).to_data()


def test_a_sent_referral_carries_everything_a_hub_needs() -> None:
    data = _mapped()
    assert service_category_ids(sent_referral()) == [CATEGORY_ID]
    assert data["person"] == {
        "crn": "X123456",
        "given_name": "Alex",
        "family_name": "Example",
        "date_of_birth": "1990-01-15",
        "gender": "Male",
        "ethnicity": "White British",
        "preferred_language": "Polish",
        "disabilities": ["Autism"],
    }
    assert data["service_categories"] == [
        {
            "name": "Emotional Wellbeing",
            "complexity": "medium",
            "desired_outcomes": ["Improved coping strategies", "Reduced isolation"],
        }
    ]
    assert data["probation_delivery_unit"] == "Trafford"
    assert data["probation_delivery_unit_text"] == "Trafford PDU"
    assert data["contract_reference"] == "DN671065_TRAFFORD_PWB"
    assert data["reference_number"] == "AY0164AC"
    assert data["rm_referral_id"] == str(RM_ID)
    assert data["risk"] == {
        "summary": None,
        "supplementary_risk_id": "5f0e2c4a-1a56-4a16-9a43-4a1c1d1b1e11",
    }
    assert data["needs"]["needs_interpreter"] is True
    assert data["needs"]["interpreter_language"] == "Polish"
    assert data["completion_deadline"] == "2026-08-20"
    assert data["reason_for_referral"] == "Low mood since release."
    assert data["location"] == {
        "current_location": None,
        "custody_prison_id": None,
        "expected_release_date": None,
        "probation_office": None,
    }
    validate_event("gmirs.intake.referral-received.v1", _published(data, "trafford"))


def test_custody_release_date_and_probation_office_are_carried() -> None:
    data = _mapped(
        personCurrentLocationType="CUSTODY",
        personCustodyPrisonId="MDI",
        expectedReleaseDate="2026-05-01",
        expectedProbationOffice="Bolton: Wellington Street",
    )
    assert data["location"] == {
        "current_location": "custody",
        "custody_prison_id": "MDI",
        "expected_release_date": "2026-05-01",
        "probation_office": "Bolton: Wellington Street",
    }
    validate_event("gmirs.intake.referral-received.v1", _published(data, "trafford"))
    community = _mapped(personCurrentLocationType="COMMUNITY", ppProbationOffice="Wigan Office")
    assert community["location"]["current_location"] == "community"
    assert community["location"]["probation_office"] == "Wigan Office"


def test_the_main_point_of_contact_wins_over_the_delius_record() -> None:
    delius = _mapped()["referring_practitioner"]
    assert delius == {
        "name": "Sam Delius",
        "email": "sam.delius@justice.example",
        "phone": "0161 000 0000",
        "probation_delivery_unit": "Trafford",
    }
    given = _mapped(ppName="Pat Contact", ppEmailAddress="pat@justice.example", ppPdu="Wigan")
    assert given["referring_practitioner"]["name"] == "Pat Contact"
    assert given["referring_practitioner"]["email"] == "pat@justice.example"
    assert given["probation_delivery_unit"] == "Wigan"  # ppPdu before ndeliusPDU


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Manchester North PDU", "Manchester North"),
        ("GM - Bolton", "Bolton"),
        ("  salford probation delivery unit ", "Salford"),
        ("Bury and Rochdale", None),
        ("Manchester", None),
        ("Leeds", None),
        (None, None),
    ],
)
def test_units_are_recognised_however_spelled(text: str | None, expected: str | None) -> None:
    assert normalise_pdu(text) == expected
    assert all(normalise_pdu(name) == name for name in PDUS)


def test_an_unknown_unit_is_kept_as_text_and_the_referral_held_whatever_its_contract() -> None:
    data = _mapped(ndeliusPDU="Bury and Rochdale")
    assert data["probation_delivery_unit"] is None
    assert data["probation_delivery_unit_text"] == "Bury and Rochdale"
    routing = HubRouting(contract_hubs={"DN671065_TRAFFORD_PWB": "trafford"})
    hub = routing.route(probation_delivery_unit=None, contract_reference=data["contract_reference"])
    assert hub is None
    validate_event("gmirs.intake.referral-received.v1", _published(data, None))
    with pytest.raises(ValueError, match="needs its probation_delivery_unit"):
        _published(data, "trafford")


def test_a_known_unit_is_not_repeated_as_text() -> None:
    assert _mapped(ndeliusPDU="Stockport")["probation_delivery_unit_text"] is None


@pytest.mark.parametrize(
    ("inner", "reason"),
    [
        ({"complexityLevels": []}, "sentReferral.referral.complexityLevels: none for a category"),
        ({"serviceCategoryIds": []}, "sentReferral.referral.serviceCategoryIds: empty"),
        ({"serviceCategoryIds": ["nope"]}, "sentReferral.referral.serviceCategoryIds: not a list"),
        ({"ndeliusPPEmailAddress": None}, "sentReferral.referral.ppEmailAddress/"),
        ({"ndeliusPPName": None}, "sentReferral.referral.ppName/ndeliusPPName: missing"),
        ({"serviceUser": None}, "sentReferral.referral.serviceUser: missing"),
        (
            {
                "desiredOutcomes": [
                    {
                        "serviceCategoryId": str(CATEGORY_ID),
                        "desiredOutcomesIds": [str(uuid.uuid4())],
                    }
                ]
            },
            "serviceCategory.desiredOutcomes: a referral's outcome is unknown",
        ),
        (
            {
                "complexityLevels": [
                    {"serviceCategoryId": str(CATEGORY_ID), "complexityLevelId": str(uuid.uuid4())}
                ]
            },
            "serviceCategory.complexityLevels: the referral's level is unknown",
        ),
    ],
)
def test_unusable_referrals_say_which_field(inner: dict[str, Any], reason: str) -> None:
    with pytest.raises(UnusableMessageError) as caught:
        _mapped(**inner)
    assert caught.value.reason.startswith(reason)


def test_a_person_without_a_first_name_is_unusable_without_echoing_values() -> None:
    sent = sent_referral()
    sent["referral"]["serviceUser"]["firstName"] = ""
    with pytest.raises(UnusableMessageError) as caught:
        referral_data(sent, {CATEGORY_ID: service_category()})
    assert caught.value.reason == "sentReferral.referral.serviceUser.firstName: missing"
