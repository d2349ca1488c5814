"""The eventing tables every service keeps in its own schema, and the migration that makes them.

The outbox follows Debezium's outbox shape (id, aggregatetype, aggregateid, type, payload) so a
later switch to log tailing is cheap; `traceparent` carries the trace across the database hop.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

NOTIFY_CHANNEL = "gmirs_outbox"


def _outbox_columns() -> list[Any]:
    return [
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("event_id", Uuid, nullable=False, unique=True),
        Column("aggregatetype", Text, nullable=False),
        Column("aggregateid", Uuid, nullable=False),
        Column("type", Text, nullable=False),
        Column("topic", Text, nullable=False),
        Column("source", Text, nullable=False),
        Column("time", DateTime(timezone=True), nullable=False),
        Column("dataschema", Text),
        Column("payload", JSONB, nullable=False),
        Column("traceparent", Text),
        Column("tracestate", Text),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
    ]


def _parking_columns() -> list[Any]:
    """Added by `add_outbox_parking` (a later migration), so never part of the first one."""
    return [
        Column("parked_at", DateTime(timezone=True)),
        Column("parked_reason", Text),
    ]


def _inbox_columns() -> list[Any]:
    return [
        Column("consumer_group", Text, nullable=False),
        Column("event_id", Uuid, nullable=False),
        Column("event_type", Text, nullable=False),
        Column("topic", Text, nullable=False),
        Column("partition", Integer, nullable=False),
        Column("offset", BigInteger, nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("consumer_group", "event_id", name="pk_inbox"),
    ]


def _replay_columns() -> list[Any]:
    return [
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("consumer_group", Text, nullable=False),
        Column("dlt_topic", Text, nullable=False),
        Column("dlt_partition", Integer, nullable=False),
        Column("dlt_offset", BigInteger, nullable=False),
        Column("event_id", Uuid),
        Column("replayed_by", Text, nullable=False),
        Column("replayed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ]


metadata = MetaData()
outbox = Table("outbox", metadata, *_outbox_columns(), *_parking_columns())
Index("ix_outbox_unpublished", outbox.c.id, postgresql_where=text("published_at IS NULL"))
_PARKED = text("parked_at IS NOT NULL")
Index("ix_outbox_parked", outbox.c.aggregateid, outbox.c.id, postgresql_where=_PARKED)
inbox = Table("inbox", metadata, *_inbox_columns())
dead_letter_replays = Table("dead_letter_replays", metadata, *_replay_columns())

_NOTIFY_FUNCTION = f"""
CREATE FUNCTION "{{schema}}".notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('{NOTIFY_CHANNEL}_' || TG_TABLE_SCHEMA, '');
  RETURN NULL;
END $$;
"""
_NOTIFY_TRIGGER = """
CREATE TRIGGER outbox_inserted AFTER INSERT ON "{schema}".outbox
FOR EACH STATEMENT EXECUTE FUNCTION "{schema}".notify_outbox();
"""


def notify_channel(schema: str) -> str:
    """The LISTEN/NOTIFY channel that wakes a schema's relay."""
    return f"{NOTIFY_CHANNEL}_{schema}"


def create_eventing_tables(op: Any, schema: str) -> None:
    """Create outbox, inbox and replay tables in `schema` (call from a service's first migration)."""
    op.create_table("outbox", *_outbox_columns(), schema=schema)
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["id"],
        schema=schema,
        postgresql_where=text("published_at IS NULL"),
    )
    op.create_table("inbox", *_inbox_columns(), schema=schema)
    op.create_table("dead_letter_replays", *_replay_columns(), schema=schema)
    op.execute(_NOTIFY_FUNCTION.format(schema=schema))
    op.execute(_NOTIFY_TRIGGER.format(schema=schema))


def drop_eventing_tables(op: Any, schema: str) -> None:
    """Reverse of create_eventing_tables."""
    op.execute(f'DROP TRIGGER IF EXISTS outbox_inserted ON "{schema}".outbox')
    op.execute(f'DROP FUNCTION IF EXISTS "{schema}".notify_outbox()')
    for table in ("dead_letter_replays", "inbox", "outbox"):
        op.drop_table(table, schema=schema)


def add_outbox_parking(op: Any, schema: str) -> None:
    """Let the relay park a row it can never publish (with its reason) and hold the later rows
    of that aggregate; the partial index keeps that check free while nothing is parked."""
    for column in _parking_columns():
        op.add_column("outbox", column, schema=schema)
    op.create_index(
        "ix_outbox_parked",
        "outbox",
        ["aggregateid", "id"],
        schema=schema,
        postgresql_where=_PARKED,
    )


def drop_outbox_parking(op: Any, schema: str) -> None:
    """Reverse of add_outbox_parking."""
    op.drop_index("ix_outbox_parked", "outbox", schema=schema)
    for column in ("parked_reason", "parked_at"):
        op.drop_column("outbox", column, schema=schema)
