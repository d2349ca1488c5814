"""Wiring consumers: the service runs every consumer registered before it was built, and a
consumer registered afterwards (which would silently never run) is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic_settings import SettingsConfigDict

from gmirs_runtime.bootstrap import ConsumerAfterBuildError, Infrastructure, build_infrastructure
from gmirs_runtime.db import UnitOfWork
from gmirs_runtime.eventing.envelope import Event
from gmirs_runtime.eventing.subscriptions import Handles
from gmirs_runtime.settings import ServiceSettings

from .test_consumer import COUNTED_CONTRACT, Counted, count


class WiringSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WIRING_TEST_")


@pytest.fixture
async def infra() -> AsyncIterator[Infrastructure[UnitOfWork]]:
    settings = WiringSettings(
        service_name="wiring",
        database_url="postgresql://wiring@127.0.0.1:1/wiring",
        database_schema="wiring",
        http_port=1,
        auth_issuer="http://127.0.0.1:1",
        auth_audience="wiring",
        auth_jwks_url="http://127.0.0.1:1/jwks",
    )
    built = build_infrastructure(settings)  # creates clients, connects nothing
    try:
        yield built
    finally:
        await built.engine.dispose()
        await built.token_validator.aclose()
        await built.producer.stop()


async def test_a_consumer_registered_before_the_service_is_built_runs_in_it(infra) -> None:
    infra.consumer(group="early", topics=["t"], subscriptions=[Handles(COUNTED_CONTRACT, count)])
    service = infra.service("wiring")
    assert "consumer:early" in service.workers


async def test_a_consumer_registered_after_the_service_is_built_is_refused(infra) -> None:
    infra.service("wiring")
    with pytest.raises(ConsumerAfterBuildError, match="'late' registered after"):
        infra.consumer(group="late", topics=["t"], subscriptions=[Handles(COUNTED_CONTRACT, count)])
    assert infra.consumers == []


async def test_two_handlers_for_one_event_type_are_refused(infra) -> None:
    async def other(payload: Counted, event: Event, uow: UnitOfWork) -> None:
        return None

    twice = [Handles(COUNTED_CONTRACT, count), Handles(COUNTED_CONTRACT, other)]
    with pytest.raises(ValueError, match=r"two handlers subscribed to 'gmirs\.test\.counted\.v1'"):
        infra.consumer(group="g", topics=["t"], subscriptions=twice)
