"""Which generation of the projection is live: the Kafka consumer group its consumer reads with.

Generation 1 is the consumer group itself (`metrics`), so a deployment from before rebuilds
keeps its offsets. A rebuild reads the topics from the start under a new Kafka group, and the
switch records that group here in the same transaction that puts its tables in place; the live
consumer watches this row and rejoins under the new group.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

_CURRENT = text(
    "SELECT generation, kafka_group FROM projection_generations WHERE consumer_group = :group"
)
_SWITCH = text(
    """
    INSERT INTO projection_generations (consumer_group, generation, kafka_group, switched_at)
    VALUES (:group, :generation, :kafka_group, now())
    ON CONFLICT (consumer_group) DO UPDATE SET generation = excluded.generation,
        kafka_group = excluded.kafka_group, switched_at = excluded.switched_at
    """
)


@dataclass(frozen=True, slots=True)
class Generation:
    number: int
    kafka_group: str

    def next(self, suffix: str) -> Generation:
        """The generation a rebuild builds: a Kafka group no member has read with before."""
        base = self.kafka_group.split("-g", 1)[0]
        return Generation(self.number + 1, f"{base}-g{self.number + 1}-{suffix}")


async def current_generation(conn: AsyncConnection, group: str) -> Generation:
    row = (await conn.execute(_CURRENT, {"group": group})).first()
    return Generation(int(row[0]), str(row[1])) if row else Generation(1, group)


async def record_generation(conn: AsyncConnection, group: str, generation: Generation) -> None:
    await conn.execute(
        _SWITCH,
        {"group": group, "generation": generation.number, "kafka_group": generation.kafka_group},
    )
