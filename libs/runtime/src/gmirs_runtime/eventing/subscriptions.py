"""Typed subscriptions: a handler is registered against a published event type's contract.

The consumer validates and parses the payload with the contract's model before the handler
runs, so every handler receives a typed payload and none repeats the parsing. A payload that
fails validation is unprocessable: dead-lettered at once with its reason, never retried.

The runtime knows contracts only through the protocols here (gmirs_contracts' EventContract
satisfies them); it imports no contract module.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from gmirs_runtime.db import UnitOfWork
from gmirs_runtime.eventing.envelope import Event
from gmirs_runtime.eventing.errors import parse_data

M = TypeVar("M")
M_co = TypeVar("M_co", covariant=True)
U = TypeVar("U", bound=UnitOfWork)


class PayloadModel(Protocol[M_co]):
    """A payload model class: validates consumed data, ignoring fields it does not know."""

    def parse_tolerant(self, data: Any) -> M_co: ...


class ConsumedType(Protocol[M_co]):
    """What the runtime needs of a consumed event type (see gmirs_contracts.registry)."""

    @property
    def ce_type(self) -> str: ...
    @property
    def model(self) -> PayloadModel[M_co]: ...


Handler = Callable[[M, Event, U], Awaitable[None]]
"""`handler(payload, event, uow)`: the parsed payload, its envelope (id, time, subject), the
transaction the handler's effects (and the inbox claim) are written in."""


@dataclass(frozen=True, slots=True)
class Handles(Generic[M, U]):
    """Run `handler` for each event of `contract`'s type, with the payload already parsed."""

    contract: ConsumedType[M]
    handler: Handler[M, U]

    @property
    def ce_type(self) -> str:
        return self.contract.ce_type

    async def apply(self, event: Event, uow: U) -> None:
        """Parse (UnprocessableEvent if invalid), then run the handler."""
        payload = parse_data(self.contract.model.parse_tolerant, event.data)
        await self.handler(payload, event, uow)


def by_type(subscriptions: Sequence[Handles[Any, U]]) -> Mapping[str, Handles[Any, U]]:
    """Index subscriptions by CloudEvents type; two handlers for one type is a wiring error."""
    index: dict[str, Handles[Any, U]] = {}
    for subscription in subscriptions:
        if subscription.ce_type in index:
            raise ValueError(f"two handlers subscribed to {subscription.ce_type!r}")
        index[subscription.ce_type] = subscription
    return index
