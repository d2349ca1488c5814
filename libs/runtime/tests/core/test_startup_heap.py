"""A serving process keeps the cyclic GC off its startup heap and collects young objects less often."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from gmirs_runtime.cli import YOUNG_GENERATION_THRESHOLD, freeze_startup_heap


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_startup_objects_are_frozen_and_young_collections_are_rarer(restored_gc) -> None:
    built_at_startup = [{"route": n} for n in range(1000)]  # stands for the app's own objects
    freeze_startup_heap()
    assert gc.get_freeze_count() >= len(built_at_startup)
    assert gc.get_threshold()[0] == YOUNG_GENERATION_THRESHOLD > 700
