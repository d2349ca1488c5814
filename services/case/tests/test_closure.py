"""Closure reasons from R&M's withdrawal codes and delivery states."""

from __future__ import annotations

import pytest

from gmirs_case.domain.closure import (
    WITHDRAWAL_CODES,
    ClosureReason,
    RmDeliveryState,
    reason_from_rm,
)

R, D = ClosureReason, RmDeliveryState


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("INE", R.INAPPROPRIATE),
        ("MIS", R.INAPPROPRIATE),
        ("NOT", R.DISENGAGED),
        ("NEE", R.SIGNPOSTED_ELSEWHERE),
        ("MOV", R.WITHDRAWN),
        ("WOR", R.WITHDRAWN),
        ("USE", R.WITHDRAWN),
        ("ACQ", R.WITHDRAWN),
        ("RET", R.WITHDRAWN),
        ("SER", R.WITHDRAWN),
        ("SEE", R.WITHDRAWN),
        ("EAR", R.COMPLETED),
        ("ANO", R.WITHDRAWN),
        ("DUP", R.INAPPROPRIATE),
        ("DIS", R.DISENGAGED),
        ("nee", R.SIGNPOSTED_ELSEWHERE),
        ("XYZ", R.ENDED_IN_RM),
    ],
)
def test_a_withdrawal_code_settles_the_reason(code: str, reason: ClosureReason) -> None:
    for state in (None, *RmDeliveryState):
        assert reason_from_rm(code, state) == (reason, True)


def test_every_current_rm_withdrawal_code_is_mapped() -> None:
    current = {"INE", "MIS", "NOT", "NEE", "MOV", "WOR", "USE", "ACQ", "RET", "SER", "SEE"}
    assert current | {"EAR", "ANO"} <= set(WITHDRAWAL_CODES)


@pytest.mark.parametrize(
    ("code", "state", "reason"),
    [
        (None, D.COMPLETED, R.COMPLETED),
        ("", D.COMPLETED, R.COMPLETED),
        (None, D.PREMATURELY_ENDED, R.ENDED_IN_RM),
        (None, D.CANCELLED, R.ENDED_IN_RM),
        (None, None, R.ENDED_IN_RM),
    ],
)
def test_without_a_code_the_delivery_state_gives_a_provisional_reason(
    code: str | None, state: RmDeliveryState | None, reason: ClosureReason
) -> None:
    assert reason_from_rm(code, state) == (reason, False)
