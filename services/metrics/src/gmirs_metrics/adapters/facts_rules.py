"""How facts from several events merge into one row, whatever order the events come in.

Each fact table is declared once here: its key and, per column, the rule that merges what two
events say about the same row. The same rules run in two places: in Python, to fold a batch's
events about one row into one (PostgreSQL cannot upsert a row twice in one statement), and in
the `ON CONFLICT DO UPDATE` that merges the folded row into the stored one
(`facts_upsert.py` writes that SQL from these declarations). Every rule is commutative
and idempotent, so applying an event twice, or events in any order, gives the same row:

- `KEEP`: a value that does not change once known (the producers agree on it); should two
  facts disagree, the smallest wins (byte order for text), so the row still does not depend on
  the order.
- `EARLIEST` / `LATEST`: a time; the earliest (a milestone keeps its first occurrence) or latest.
- `BY_LATEST(guard)` / `BY_EARLIEST(guard)`: a value that follows the fact with the latest
  (earliest) guard, a tuple of columns compared in order (null: not known by this fact).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

Row = dict[str, Any]


class Rule(Enum):
    KEEP = "keep"
    EARLIEST = "earliest"
    LATEST = "latest"
    BY_LATEST = "by-latest"
    BY_EARLIEST = "by-earliest"


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its PostgreSQL type (for the bulk upsert's arrays) and its merge rule."""

    name: str
    pg_type: str
    rule: Rule = Rule.KEEP
    guard: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class FactTable:
    """A fact table's key and columns; `Fact`s for it are folded and upserted by these rules.

    Compared and hashed by identity: each table is declared once (and hashing the declaration
    for every fact of a batch cost more than merging it).
    """

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    by_name: Mapping[str, Column] = field(init=False, repr=False)
    guarded: Mapping[tuple[tuple[str, ...], Rule], tuple[str, ...]] = field(init=False, repr=False)
    plain: Mapping[str, Rule] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {c.name: c for c in self.columns})
        groups: dict[tuple[tuple[str, ...], Rule], tuple[str, ...]] = {}
        for c in self.columns:
            if c.rule in _BY_GUARD:
                groups[c.guard, c.rule] = (*groups.get((c.guard, c.rule), ()), c.name)
        object.__setattr__(self, "guarded", groups)
        object.__setattr__(
            self, "plain", {c.name: c.rule for c in self.columns if c.rule in _PLAIN}
        )

    def key_of(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(row[k] for k in self.key)

    def merge(self, old: Row, new: Row) -> Row:
        """The row a complete `old` row and a fact's (sparse) `new` one make together.

        Commutative: merging the facts in any order gives the same row.
        """
        return self.merge_into(dict(old), new)

    def merge_into(self, row: Row, new: Row) -> Row:
        """`merge`, changing the complete `row` in place (a fold's own rows: no copy per fact).

        Guarded columns are settled first, against the row's guards as they were: a guard may
        itself be a plain column (a report's `acknowledged_at`), which the second step changes.
        """
        for (guard, rule), names in self.guarded.items():
            if _guard_wins(rule, row, new, guard):
                for name in names:
                    row[name] = new.get(name)
        plain = self.plain
        for name, b in new.items():
            if b is None:
                continue
            merged_by = plain.get(name)
            if merged_by is not None:
                a = row[name]
                latest = merged_by is Rule.LATEST
                row[name] = b if a is None else (max(a, b) if latest else min(a, b))
        return row


@dataclass(frozen=True, slots=True)
class Fact:
    """What one event says about one row of `table` (columns it does not know are absent)."""

    table: FactTable
    row: Row


def fold(facts: Iterable[Fact]) -> dict[FactTable, list[Row]]:
    """One merged row per table and key, in first-seen order (the batch's upsert rows)."""
    tables: dict[FactTable, dict[tuple[Any, ...], Row]] = {}
    for fact in facts:
        rows = tables.setdefault(fact.table, {})
        key = fact.table.key_of(fact.row)
        old = rows.get(key)
        if old is None:
            rows[key] = _complete(fact)
        else:
            fact.table.merge_into(old, fact.row)
    return {table: list(rows.values()) for table, rows in tables.items()}


def _complete(fact: Fact) -> Row:
    return {c.name: fact.row.get(c.name) for c in fact.table.columns}


_BY_GUARD = (Rule.BY_LATEST, Rule.BY_EARLIEST)
_PLAIN = (Rule.KEEP, Rule.EARLIEST, Rule.LATEST)


def _guard_wins(rule: Rule, old: Row, new: Row, guard: Sequence[str]) -> bool:
    """Whether the new fact's values replace the old; a known guard beats an unknown one.

    A guard's columns are compared in order; all of them are known together, or none is.
    """
    if new.get(guard[0]) is None:
        return False
    if old.get(guard[0]) is None:
        return True
    newer, older = _guard(guard, new), _guard(guard, old)
    return newer > older if rule is Rule.BY_LATEST else newer < older


def _guard(guard: Sequence[str], row: Row) -> tuple[Any, ...]:
    return tuple(row.get(g) for g in guard)
