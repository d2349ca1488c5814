"""Writes folded fact rows: one multi-row upsert per table, merged by the tables' rules.

The rows travel as one array per column (`unnest`), so a batch of thousands of events costs a
handful of statements. `ON CONFLICT DO UPDATE` applies the same rules as
`adapters.facts_rules` (see there), written here once per table from its declaration. Table names
are unqualified: the session's search_path decides which tables (live, or a rebuild's).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

import orjson
from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

from gmirs_metrics.adapters.facts_rules import Column, FactTable, Row, Rule
from gmirs_metrics.adapters.facts_tables import ASSESSMENTS, CASES, MISSED_ASSESSMENTS
from gmirs_metrics.adapters.kpi_inputs import settle_kpi_inputs

_COUNT_MISSED = text(
    """
    UPDATE case_facts AS c SET initial_assessments_missed = (
        SELECT count(*) FROM case_missed_assessments AS m WHERE m.case_id = c.case_id
    ) WHERE c.case_id = ANY(CAST(:ids AS uuid[]))
    """
)
_SETTLE_CORRECTIONS = text(
    """
    UPDATE outcome_assessment_facts AS a SET corrected_by = (
        SELECT c.assessment_id FROM outcome_assessment_facts AS c
        WHERE c.corrects = a.assessment_id
        ORDER BY c.recorded_at DESC, c.assessment_id DESC LIMIT 1
    ) WHERE a.assessment_id = ANY(CAST(:ids AS uuid[]))
    """
)


class FactWriter:
    """Upserts folded rows into the fact tables of the session's search_path."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def write(self, rows_by_table: Mapping[FactTable, Sequence[Row]]) -> None:
        """Upsert every table's rows, then settle what depends on other rows (counts,
        corrections, the KPI inputs of adapters.kpi_inputs)."""
        for table, rows in rows_by_table.items():
            if rows:
                await self._session.execute(upsert_statement(table), _arrays(table, rows))
        missed = rows_by_table.get(MISSED_ASSESSMENTS, ())
        if missed:
            await self._session.execute(
                _COUNT_MISSED, {"ids": _distinct(r["case_id"] for r in missed)}
            )
        assessments = rows_by_table.get(ASSESSMENTS, ())
        if assessments:
            touched = [r["assessment_id"] for r in assessments]
            touched += [r["corrects"] for r in assessments if r["corrects"] is not None]
            await self._session.execute(_SETTLE_CORRECTIONS, {"ids": _distinct(touched)})
        assessed = _distinct(r["case_id"] for r in assessments)
        cases = _distinct([*assessed, *(r["case_id"] for r in rows_by_table.get(CASES, ()))])
        await settle_kpi_inputs(self._session, cases=cases, assessed=assessed)


def _distinct(ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    return list(dict.fromkeys(ids))


def _arrays(table: FactTable, rows: Sequence[Row]) -> dict[str, list[Any]]:
    arrays: dict[str, list[Any]] = {}
    for i, column in enumerate(table.columns):
        values = [row[column.name] for row in rows]
        if column.pg_type == "text[]":
            values = [None if v is None else orjson.dumps(v).decode() for v in values]
        arrays[f"c{i}"] = values
    return arrays


@cache
def upsert_statement(table: FactTable) -> TextClause:
    """INSERT ... SELECT FROM unnest(arrays) ON CONFLICT (key) DO UPDATE by the columns' rules."""
    names = [c.name for c in table.columns]
    arrays = ", ".join(f"CAST(:c{i} AS {_array_type(c)})" for i, c in enumerate(table.columns))
    selected = ", ".join(_selected(c) for c in table.columns)
    updates = ", ".join(
        f"{c.name} = {_merged(c)}" for c in table.columns if c.name not in table.key
    )
    conflict = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
    # Names come from the declarations in facts_tables, values travel as bound arrays.
    return text(
        f"INSERT INTO {table.name} AS t ({', '.join(names)}) SELECT {selected} "  # noqa: S608
        f"FROM unnest({arrays}) AS s({', '.join(names)}) "
        f"ON CONFLICT ({', '.join(table.key)}) {conflict}"
    )


def _array_type(column: Column) -> str:
    return "text[]" if column.pg_type == "text[]" else f"{column.pg_type}[]"


def _selected(column: Column) -> str:
    if column.pg_type == "text[]":
        return f"ARRAY(SELECT jsonb_array_elements_text(CAST(s.{column.name} AS jsonb)))"
    return f"s.{column.name}"


def _merged(column: Column) -> str:
    old, new = f"t.{column.name}", f"excluded.{column.name}"
    if column.rule is Rule.KEEP and column.pg_type == "text":
        return f'LEAST({old} COLLATE "C", {new})'
    if column.rule in (Rule.KEEP, Rule.EARLIEST):
        return f"LEAST({old}, {new})"
    if column.rule is Rule.LATEST:
        return f"GREATEST({old}, {new})"
    olds = ", ".join(f"t.{g}" for g in column.guard)
    news = ", ".join(f"excluded.{g}" for g in column.guard)
    order = ">" if column.rule is Rule.BY_LATEST else "<"
    first = column.guard[0]
    wins = (
        f"excluded.{first} IS NOT NULL AND (t.{first} IS NULL OR ROW({news}) {order} ROW({olds}))"
    )
    return f"CASE WHEN {wins} THEN {new} ELSE {old} END"
