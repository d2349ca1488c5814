"""The batch consumers' pause of the cyclic garbage collector: nested and overlapping pauses
(two consumers in one process) resume it only at the end of the last, never turn it on, and
let it run while a batch waits out an outage."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from gmirs_runtime.eventing.collector import collector_paused, collector_resumed


@pytest.fixture
def collector_enabled() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_overlapping_pauses_resume_the_collector_after_the_last(collector_enabled) -> None:
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    assert not gc.isenabled()
    second.__enter__()
    first.__exit__(None, None, None)  # the first batch ends while the second goes on
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_batch_waiting_out_an_outage_lets_the_collector_run_meanwhile(
    collector_enabled,
) -> None:
    with collector_paused():
        with collector_resumed():
            assert gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_failing_batch_resumes_the_collector(collector_enabled) -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("the batch failed")
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off(collector_enabled) -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()
    gc.enable()
