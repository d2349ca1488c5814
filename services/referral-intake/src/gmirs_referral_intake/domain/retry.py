"""How long to wait before retrying a message whose processing failed transiently."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

MAX_DOUBLINGS = 30  # 2**30 seconds is far past any sensible maximum; it only stops overflow


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter, from `initial` seconds up to `maximum`.

    Jitter keeps messages that failed together (R&M down for a minute) from all retrying in the
    same instant when it comes back; each delay lies between half and all of the exponential one.
    """

    initial: float
    maximum: float
    jitter: Callable[[], float] = random.random

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.maximum:
            raise ValueError("backoff needs 0 < initial <= maximum")

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1 for the first failure)."""
        exponent = min(max(attempt, 1) - 1, MAX_DOUBLINGS)
        ceiling = min(self.maximum, math.ldexp(self.initial, exponent))
        return ceiling * (0.5 + 0.5 * self.jitter())
