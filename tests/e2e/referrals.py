"""Made-up referrals (no real person's data) for the end-to-end tests."""

from __future__ import annotations

import random
import string
from typing import Any


def crn() -> str:
    return random.choice(string.ascii_uppercase) + f"{random.randrange(10**6):06d}"


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
    return body
