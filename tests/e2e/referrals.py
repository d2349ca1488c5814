"""Made-up referrals (no real person's data) for the end-to-end tests."""

from __future__ import annotations

import random
import string
from typing import Any

# Every CRN, name and e-mail address put in a referral here: no log may ever show one of them.
SENT_PERSONAL_DATA: set[str] = set()


def crn() -> str:
    value = random.choice(string.ascii_uppercase) + f"{random.randrange(10**6):06d}"
    SENT_PERSONAL_DATA.add(value)
    return value


def direct_referral(pdu: str = "Bolton", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "probation_delivery_unit": pdu,
        "person": {
            "crn": crn(),
            "given_name": "Alex",
            "family_name": "Example",
            "date_of_birth": "1990-01-31",
        },
        "service_categories": [
            {
                "name": "Emotional Wellbeing",
                "complexity": "medium",
                "desired_outcomes": ["Better sleep"],
            }
        ],
        "needs": {"needs_interpreter": False},
        "referring_practitioner": {"name": "Pat Practitioner", "email": "pat@probation.example"},
        "reason_for_referral": "Low mood after release",
    }
    body.update(overrides)
    for part in (body.get("person"), body.get("referring_practitioner")):
        if isinstance(part, dict):
            SENT_PERSONAL_DATA.update(
                value
                for key in ("given_name", "family_name", "name", "email")
                if isinstance(value := part.get(key), str)
            )
    return body
