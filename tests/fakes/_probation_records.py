"""What the fake probation system remembers, and the script that decides how it answers."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_FAILURE_STATUS = 500
HttpStatus = Annotated[int, Field(ge=100, le=599)]


def utc_now() -> str:
    """An ISO 8601 UTC timestamp, so records compare across processes."""
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class Delivery:
    """One verified request: what arrived, and what the fake answered."""

    webhook_id: str
    webhook_timestamp: str
    received_at: str
    body: Any
    traceparent: str | None
    attempt: int  # 1-based count of verified requests with this webhook_id
    verified: bool  # always True: unverified requests are `Rejection`s, never deliveries
    secret_index: int  # which configured secret matched (rotation tests)
    status: int
    accepted: bool  # answered 2xx
    duplicate: bool  # an earlier attempt with this webhook_id was already accepted


@dataclass(frozen=True)
class Rejection:
    """A request refused before processing; the body is deliberately not kept."""

    webhook_id: str | None
    received_at: str
    status: int
    reason: str


@dataclass
class Behaviour:
    """Statuses to answer next (then 200 forever), a stall before answering, and Retry-After."""

    statuses: deque[int] = field(default_factory=deque)
    delay_ms: int = 0
    retry_after_s: int | None = None

    @classmethod
    def scripted(
        cls,
        fail_first: int = 0,
        status_sequence: Sequence[int] = (),
        delay_ms: int = 0,
        retry_after_s: int | None = None,
    ) -> Behaviour:
        """`fail_first` failures (500) come before `status_sequence`."""
        statuses = deque([DEFAULT_FAILURE_STATUS] * fail_first + list(status_sequence))
        return cls(statuses=statuses, delay_ms=delay_ms, retry_after_s=retry_after_s)

    def next_status(self) -> int:
        return self.statuses.popleft() if self.statuses else 200

    def describe(self) -> dict[str, Any]:
        return {
            "status_sequence": list(self.statuses),
            "delay_ms": self.delay_ms,
            "retry_after_s": self.retry_after_s,
        }


class BehaviourUpdate(BaseModel):
    """Body of POST /_control/behaviour; fields left out keep their current value."""

    model_config = ConfigDict(extra="forbid")

    fail_next: int | None = Field(default=None, ge=0)
    status: HttpStatus = DEFAULT_FAILURE_STATUS
    status_sequence: list[HttpStatus] | None = None
    delay_ms: int | None = Field(default=None, ge=0)
    retry_after_s: int | None = Field(default=None, ge=0)

    def apply_to(self, behaviour: Behaviour) -> None:
        """Replace the queued statuses (if given) and the delay / Retry-After (if given)."""
        if self.status_sequence is not None:
            behaviour.statuses = deque(self.status_sequence)
        elif self.fail_next is not None:
            behaviour.statuses = deque([self.status] * self.fail_next)
        if self.delay_ms is not None:
            behaviour.delay_ms = self.delay_ms
        if "retry_after_s" in self.model_fields_set:
            behaviour.retry_after_s = self.retry_after_s
