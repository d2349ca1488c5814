"""The HMPPS envelope: what is accepted, what is unusable and why, and a stable content identity."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import orjson
import pytest

from gmirs_referral_intake.domain.rm_envelope import (
    RM_EVENT_TYPES,
    parse_envelope,
    parse_envelope_json,
)
from gmirs_referral_intake.domain.rm_errors import UnusableMessageError
from tests.fakes.rm_events import EVENT_TYPES as SIMULATED_EVENT_TYPES

RM_ID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
API = "https://interventions.example/api"


def _feedback_envelope() -> dict[str, Any]:
    """A session-feedback-submitted event as current R&M publishes it (refer-and-monitor.md §1)."""
    return {
        "eventType": "intervention.session-appointment.session-feedback-submitted",
        "version": 1,
        "description": "Session feedback submitted for a session appointment",
        "detailUrl": f"{API}/referral/{RM_ID}/sessions/2",
        "occurredAt": "2026-03-02T11:20:00.123456Z",
        "additionalInformation": {
            "serviceUserCRN": "X123456",
            "referralId": RM_ID,
            "referralReference": "AY0164AC",
            "contractTypeName": "Personal Wellbeing",
            "primeProviderName": "GMIRS Lead",
            "deliusAppointmentId": "2500012345",
            "referralProbationUserURL": "https://refer.example/pp/feedback",
        },
        "personReference": {"identifiers": [{"type": "CRN", "value": "X123456"}]},
    }


def test_a_current_envelope_is_parsed_with_its_referral() -> None:
    envelope = parse_envelope(_feedback_envelope())
    assert envelope.event_type.endswith("session-feedback-submitted")
    assert envelope.crn == "X123456"
    assert envelope.rm_referral_id == uuid.UUID(RM_ID)
    assert envelope.occurred_at.utcoffset() is not None
    assert envelope.additional_information["deliusAppointmentId"] == "2500012345"


def test_identity_survives_respelling_reordering_and_time_zone() -> None:
    current = _feedback_envelope()
    legacy = copy.deepcopy(current)
    info = legacy["additionalInformation"]
    info["contractType"] = info.pop("contractTypeName")  # older names, numeric delius id
    info["providerName"] = info.pop("primeProviderName")
    info["deliusAppointmentId"] = 2500012345
    legacy["occurredAt"] = "2026-03-02T11:20:00.123456+00:00"
    reordered = dict(reversed(list(legacy.items())))
    reordered["description"] = "re-published with other words"
    identities = {parse_envelope(e).identity for e in (current, legacy, reordered)}
    assert len(identities) == 1
    assert parse_envelope(legacy).additional_information["contractTypeName"] == "Personal Wellbeing"

    an_hour_east = copy.deepcopy(current)
    an_hour_east["occurredAt"] = "2026-03-02T12:20:00.123456+01:00"  # the same instant
    assert parse_envelope(an_hour_east).identity == parse_envelope(current).identity


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("eventType", "intervention.session-appointment.missed"),
        ("occurredAt", "2026-03-02T11:20:01.123456Z"),
        ("detailUrl", f"{API}/referral/{RM_ID}/sessions/3"),
    ],
)
def test_identity_differs_for_a_different_event(field: str, value: str) -> None:
    other = {**_feedback_envelope(), field: value}
    assert parse_envelope(other).identity != parse_envelope(_feedback_envelope()).identity


def test_referral_id_comes_from_additional_information_or_the_detail_url() -> None:
    sent = {
        **_feedback_envelope(),
        "eventType": "intervention.referral.sent",
        "detailUrl": f"{API}/sent-referral/{RM_ID}",
        "additionalInformation": {},
    }
    assert parse_envelope(sent).rm_referral_id == uuid.UUID(RM_ID)
    report = {
        **_feedback_envelope(),
        "eventType": "intervention.end-of-service-report.submitted",
        "detailUrl": f"{API}/end-of-service-report/{uuid.uuid4()}",
        "additionalInformation": {"endOfServiceReportId": "x", "submittedBy": "sp.user"},
    }
    assert parse_envelope(report).rm_referral_id is None


def test_every_simulated_and_documented_event_type_is_consumed() -> None:
    assert set(RM_EVENT_TYPES) == set(SIMULATED_EVENT_TYPES)
    assert len(RM_EVENT_TYPES) == 13


def _without(path: str) -> dict[str, Any]:
    envelope = _feedback_envelope()
    envelope.pop(path)
    return envelope


@pytest.mark.parametrize(
    ("envelope", "reason"),
    [
        (_without("eventType"), "eventType: missing"),
        (
            {**_feedback_envelope(), "eventType": "intervention.referral.cancelled"},
            "eventType: not",
        ),
        ({**_feedback_envelope(), "version": 2}, "version: unsupported"),
        (_without("detailUrl"), "detailUrl: missing"),
        ({**_feedback_envelope(), "detailUrl": "/referral/x"}, "detailUrl: not an absolute"),
        (_without("occurredAt"), "occurredAt: missing"),
        (
            {**_feedback_envelope(), "occurredAt": "2026-03-02T11:20:00"},
            "occurredAt: no UTC offset",
        ),
        ({**_feedback_envelope(), "occurredAt": "yesterday"}, "occurredAt: not an ISO"),
        (_without("personReference"), "personReference: missing"),
        (
            {**_feedback_envelope(), "personReference": {"identifiers": [{"type": "NOMS"}]}},
            "personReference.identifiers: no CRN",
        ),
        (
            {**_feedback_envelope(), "additionalInformation": {"referralId": {"nested": 1}}},
            "additionalInformation.referralId: not a flat value",
        ),
    ],
)
def test_unusable_envelopes_say_which_field(envelope: dict[str, Any], reason: str) -> None:
    with pytest.raises(UnusableMessageError) as caught:
        parse_envelope(envelope)
    assert caught.value.reason.startswith(reason)


def test_reasons_never_quote_values() -> None:
    envelope = _feedback_envelope()
    envelope["personReference"]["identifiers"][0]["value"] = "Z12X"
    with pytest.raises(UnusableMessageError) as caught:
        parse_envelope(envelope)
    assert caught.value.reason == "personReference.identifiers.CRN: malformed"
    assert "Z12X" not in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "reason"), [(b"{not json", "envelope: not valid JSON"), (b"[1]", "envelope: not a")]
)
def test_json_text_that_is_not_an_envelope_is_unusable(raw: bytes, reason: str) -> None:
    with pytest.raises(UnusableMessageError, match=reason):
        parse_envelope_json(raw)


def test_json_text_parses_like_the_mapping() -> None:
    envelope = _feedback_envelope()
    assert parse_envelope_json(orjson.dumps(envelope)) == parse_envelope(envelope)
