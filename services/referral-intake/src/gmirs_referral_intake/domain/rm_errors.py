"""How the R&M adapter tells its callers what to do with a message it could not process.

Unusable means retrying cannot help (quarantine it with the reason); transient means the failure
was ours or R&M's to recover from (retry later, never lose it). Reasons name fields and kinds of
problem, never values, because they are stored and shown to operators beside the raw message.
"""

from __future__ import annotations


class UnusableMessageError(Exception):
    """The message can never be processed as it is: quarantine it with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RmNotFoundError(UnusableMessageError):
    """R&M answered 404 for the resource an event points at."""


class TransientFailureError(Exception):
    """R&M, its token endpoint or our database failed in a way that may pass: retry later."""
