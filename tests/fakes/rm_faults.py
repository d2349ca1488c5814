"""Failure injection for the R&M simulator: what goes wrong, for how long, and how to script it.

Outages are bounded by a request count or a duration (or both; whichever ends first), so a test
that forgets to heal the simulator still sees it recover.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

HttpStatus = Annotated[int, Field(ge=400, le=599)]
Delivery = Literal["publish", "hold", "withhold"]


@dataclass
class Outage:
    """Answer `status` to the next `remaining` requests and/or until `until` (monotonic seconds)."""

    status: int = 503
    remaining: int | None = None
    until: float | None = None

    @classmethod
    def scripted(cls, status: int, requests: int | None, seconds: float | None) -> Outage:
        until = time.monotonic() + seconds if seconds is not None else None
        return cls(status=status, remaining=requests, until=until)

    def hit(self) -> bool:
        """True if this request fails (and counts it against the outage)."""
        if self.remaining is None and self.until is None:
            return False
        if self.until is not None and time.monotonic() >= self.until:
            self.remaining = self.until = None
            return False
        if self.remaining is not None:
            if self.remaining <= 0:
                self.remaining = self.until = None
                return False
            self.remaining -= 1
        return True

    def describe(self) -> dict[str, Any]:
        left = None if self.until is None else max(self.until - time.monotonic(), 0.0)
        return {"status": self.status, "requests_left": self.remaining, "seconds_left": left}


@dataclass
class Faults:
    api: Outage = field(default_factory=Outage)
    token: Outage = field(default_factory=Outage)
    api_delay_ms: int = 0
    not_found_ids: set[str] = field(default_factory=set)
    duplicate_next: int = 0  # the next N publications go out twice
    tamper_next_pushes: int = 0  # the next N HTTP pushes carry a broken signature
    delivery: Delivery = "publish"  # default for actions that do not say
    signature_version: str = "2"
    unmapped_users: set[str] = field(default_factory=set)
    """Usernames R&M cannot map to a user with access to the referral (its feedback calls: 403)."""
    api_paths_matching: str | None = None
    """The API faults (outage, delay, hold) hit only paths containing this text (None: every path)."""
    hold_requests: bool = False
    """API requests wait unanswered (a hung R&M) until this is lifted, or HOLD_LIMIT_S at most."""

    def hits(self, path: str) -> bool:
        """Whether the API faults apply to a request for `path`."""
        return self.api_paths_matching is None or self.api_paths_matching in path

    def reset(self) -> None:
        """Back to no faults, in place: the endpoints and the publisher share this object."""
        fresh = Faults()
        for item in fields(self):
            setattr(self, item.name, getattr(fresh, item.name))

    def describe(self) -> dict[str, Any]:
        return {
            "api": self.api.describe(),
            "token": self.token.describe(),
            "api_delay_ms": self.api_delay_ms,
            "not_found_ids": sorted(self.not_found_ids),
            "duplicate_next": self.duplicate_next,
            "tamper_next_pushes": self.tamper_next_pushes,
            "delivery": self.delivery,
            "signature_version": self.signature_version,
            "unmapped_users": sorted(self.unmapped_users),
            "api_paths_matching": self.api_paths_matching,
            "hold_requests": self.hold_requests,
        }


class FaultsUpdate(BaseModel):
    """Body of POST /_control/faults; fields left out keep their value (`clear` resets all first)."""

    model_config = ConfigDict(extra="forbid")

    clear: bool = False
    api_status: HttpStatus = 503
    api_fail_requests: int | None = Field(default=None, ge=0)
    api_fail_seconds: float | None = Field(default=None, ge=0)
    api_delay_ms: int | None = Field(default=None, ge=0, le=120_000)
    not_found_ids: list[str] | None = None
    token_status: HttpStatus = 503
    token_fail_requests: int | None = Field(default=None, ge=0)
    token_fail_seconds: float | None = Field(default=None, ge=0)
    duplicate_next: int | None = Field(default=None, ge=0)
    tamper_next_pushes: int | None = Field(default=None, ge=0)
    delivery: Delivery | None = None
    signature_version: Literal["1", "2"] | None = None
    unmapped_users: list[str] | None = None
    api_paths_matching: str | None = None
    """Set when given (null: every path again)."""
    hold_requests: bool | None = None

    def apply_to(self, faults: Faults) -> Faults:
        """Change `faults` in place and return it."""
        if self.clear:
            faults.reset()
        result = faults
        if self.api_fail_requests is not None or self.api_fail_seconds is not None:
            result.api = Outage.scripted(
                self.api_status, self.api_fail_requests, self.api_fail_seconds
            )
        if self.token_fail_requests is not None or self.token_fail_seconds is not None:
            result.token = Outage.scripted(
                self.token_status, self.token_fail_requests, self.token_fail_seconds
            )
        if self.not_found_ids is not None:
            result.not_found_ids = set(self.not_found_ids)
        for name in ("api_delay_ms", "duplicate_next", "tamper_next_pushes", "delivery"):
            if (value := getattr(self, name)) is not None:
                setattr(result, name, value)
        if self.signature_version is not None:
            result.signature_version = self.signature_version
        if self.unmapped_users is not None:
            result.unmapped_users = set(self.unmapped_users)
        if "api_paths_matching" in self.model_fields_set:
            result.api_paths_matching = self.api_paths_matching or None
        if self.hold_requests is not None:
            result.hold_requests = self.hold_requests
        return result
