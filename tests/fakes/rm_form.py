"""What a probation practitioner fills in when referring: the person and the DraftReferral fields.

Values are plausible placeholders; only the field names and types matter to consumers.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.fakes.rm_model import PDU_BOROUGHS, now, stable_id
from tests.fakes.rm_requests import NewReferral


def service_user(request: NewReferral, crn: str, first: str, last: str) -> dict[str, Any]:
    return {
        "crn": crn,
        "title": None,
        "firstName": request.first_name or first,
        "lastName": request.last_name or last,
        "dateOfBirth": request.date_of_birth.isoformat(),
        "gender": "Not specified",
        "ethnicity": None,
        "preferredLanguage": "English",
        "religionOrBelief": None,
        "disabilities": [],
    }


def referral_details(request: NewReferral, contract: str | None) -> dict[str, Any]:
    """The DraftReferral part a practitioner filled in (names as R&M's DraftReferralDTO)."""
    borough = PDU_BOROUGHS.get(request.pdu, request.pdu.upper())
    return {
        "interventionId": str(stable_id("intervention", contract or request.pdu)),
        "interventionTitle": f"Personal Wellbeing - {borough.title()}",
        "completionDeadline": (now() + timedelta(days=120)).date().isoformat(),
        "maximumEnforceableDays": 10,
        "furtherInformation": request.further_information,
        "reasonForReferral": "Support with emotional well-being.",
        "reasonForReferralFurtherInformation": None,
        "reasonForReferralCreationBeforeAllocation": None,
        "additionalNeedsInformation": "None known.",
        "accessibilityNeeds": "None known.",
        "needsInterpreter": request.needs_interpreter,
        "interpreterLanguage": request.interpreter_language,
        "hasAdditionalResponsibilities": False,
        "whenUnavailable": None,
        "personCurrentLocationType": "COMMUNITY",
        "personCustodyPrisonId": None,
        "alreadyKnowPrisonName": None,
        "expectedReleaseDate": None,
        "expectedReleaseDateMissingReason": None,
        "isReferralReleasingIn12Weeks": None,
        "expectedProbationOffice": None,
        "expectedProbationOfficeUnKnownReason": None,
        "ndeliusPPName": request.pp_name,
        "ndeliusPPEmailAddress": request.pp_email,
        "ndeliusPhoneNumber": "0161 000 0000",
        "ndeliusTeamPhoneNumber": "0161 000 0001",
        "ppName": request.pp_name,
        "ppEmailAddress": request.pp_email,
        "ppProbationOffice": f"{request.pdu} Probation Office",
        "ppEstablishment": None,
        "ppPhoneNumber": "0161 000 0000",
        "ppTeamPhoneNumber": "0161 000 0001",
        "roleOrJobTitle": "Probation Practitioner",
        "hasValidDeliusPPDetails": True,
        "hasMainPointOfContactDetails": True,
        "allocatedCommunityPP": True,
        "ppLocationType": "COMMUNITY",
    }
