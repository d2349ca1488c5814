"""Small-number suppression of a breakdown, so that no one in a small group can be picked out.

Primary suppression hides every count from 1 to `threshold - 1` (zeros are shown: an empty cell
names no one). Secondary suppression then hides more cells until no hidden cell can be worked out
from what is shown: the row and column totals and the grand total are published too, so the
table is treated as its totals-extended form, where each row and each column adds up.

A hidden cell can be recovered exactly when the equations of its row and column pin it down, or
when the counts' being non-negative does (e.g. two hidden cells that must sum to a shown total
of 1 with the other hidden cell already at its lower bound). `exposed_cells` finds both: a hidden
cell is safe only if it can move both up and down by a whole person, the other hidden cells
changing with it so that every shown total still holds (an alternating cycle in the graph whose
nodes are the rows and columns and whose edges are the hidden cells; flow theory's residual
graph). Suppression adds cells, smallest counts first, until no hidden cell is exposed; it
always ends, because a fully hidden table exposes nothing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from gmirs_metrics.domain.figures import Breakdown

SUPPRESSED = "*"
Cell = tuple[int, int]
"""(row, column) in the extended table: the last row holds the column totals, the last column
the row totals, and the corner the grand total."""


@dataclass(frozen=True)
class SuppressedBreakdown:
    """A breakdown as it may be published: `None` where a count is hidden (shown as `*`)."""

    indicator: str
    title: str
    row_labels: list[str]
    column_labels: list[str]
    cells: list[list[int | None]]
    row_totals: list[int | None]
    column_totals: list[int | None]
    total: int | None

    @property
    def suppressed_count(self) -> int:
        hidden = sum(value is None for row in self.cells for value in row)
        hidden += sum(value is None for value in (*self.row_totals, *self.column_totals))
        return hidden + (self.total is None)


def extended(breakdown: Breakdown) -> list[list[int]]:
    """The table with its row totals as a last column and column totals (and the grand total)
    as a last row."""
    rows = [[*row, sum(row)] for row in breakdown.cells]
    width = len(breakdown.column_labels) + 1
    return [*rows, [sum(row[j] for row in rows) for j in range(width)]]


def suppress(breakdown: Breakdown, threshold: int = 5) -> SuppressedBreakdown:
    """The breakdown with primary and secondary suppression applied."""
    _check_shape(breakdown)
    table = extended(breakdown)
    hidden = {cell for cell in _cells(table) if 0 < _value(table, cell) < threshold}
    hidden = _protect(table, hidden)
    shown = [
        [None if (i, j) in hidden else v for j, v in enumerate(row)] for i, row in enumerate(table)
    ]
    return SuppressedBreakdown(
        indicator=breakdown.indicator,
        title=breakdown.title,
        row_labels=list(breakdown.row_labels),
        column_labels=list(breakdown.column_labels),
        cells=[row[:-1] for row in shown[:-1]],
        row_totals=[row[-1] for row in shown[:-1]],
        column_totals=shown[-1][:-1],
        total=shown[-1][-1],
    )


def _check_shape(breakdown: Breakdown) -> None:
    width = len(breakdown.column_labels)
    if len(breakdown.cells) != len(breakdown.row_labels) or any(
        len(row) != width for row in breakdown.cells
    ):
        raise ValueError(f"{breakdown.indicator}: cells do not match its labels")
    if any(value < 0 for row in breakdown.cells for value in row):
        raise ValueError(f"{breakdown.indicator}: counts cannot be negative")


def _protect(table: list[list[int]], hidden: set[Cell]) -> set[Cell]:
    """Hide more cells until none of the hidden ones can be worked out."""
    hidden = _at_least_two_per_line(table, hidden)
    while exposed := exposed_cells(table, hidden):
        hidden = _at_least_two_per_line(table, hidden | {_companion(table, hidden, exposed[0])})
    return hidden


def _at_least_two_per_line(table: list[list[int]], hidden: set[Cell]) -> set[Cell]:
    """A line (row or column) with one hidden cell gives it away by subtraction: hide another."""
    hidden = set(hidden)
    changed = True
    while changed:
        changed = False
        for line in _lines(table):
            inside = [cell for cell in line if cell in hidden]
            if len(inside) == 1:
                hidden.add(min((c for c in line if c not in hidden), key=_cost(table)))
                changed = True
    return hidden


def _companion(table: list[list[int]], hidden: set[Cell], cell: Cell) -> Cell:
    """The cheapest cell to hide beside an exposed one: in its row or column, preferring one
    that leaves it unexposed."""
    row, column = cell
    beside = [c for c in (*_row(table, row), *_column(table, column)) if c not in hidden]
    candidates = sorted(beside or set(_cells(table)) - hidden, key=_cost(table))
    for candidate in candidates:
        trial = _at_least_two_per_line(table, hidden | {candidate})
        if cell not in exposed_cells(table, trial):
            return candidate
    return candidates[0]


def _cost(table: list[list[int]]) -> Callable[[Cell], tuple[int, ...]]:
    """Hide small interior counts first, zeros after (they cannot fall, so protect less), totals
    last and the grand total never unless nothing else is left."""
    last_row, last_column = len(table) - 1, len(table[0]) - 1

    def cost(cell: Cell) -> tuple[int, ...]:
        i, j = cell
        margins = (i == last_row) + (j == last_column)
        return (margins, _value(table, cell) == 0, _value(table, cell), i, j)

    return cost


def exposed_cells(table: list[list[int]], hidden: set[Cell]) -> list[Cell]:
    """The hidden cells someone could work out, or bound on one side, from the shown ones: a
    hidden count must be able to rise by one and, unless it is 0, to fall by one."""
    lines = _HiddenLines(hidden)
    return sorted(
        cell
        for cell in hidden
        if not _can_change(table, lines, cell, +1)
        or (_value(table, cell) > 0 and not _can_change(table, lines, cell, -1))
    )


class _HiddenLines:
    """The hidden cells by row and by column, for the walk."""

    def __init__(self, hidden: set[Cell]) -> None:
        self.in_row: dict[int, list[int]] = {}
        self.in_column: dict[int, list[int]] = {}
        for i, j in sorted(hidden):
            self.in_row.setdefault(i, []).append(j)
            self.in_column.setdefault(j, []).append(i)


def _can_change(table: list[list[int]], lines: _HiddenLines, cell: Cell, count_step: int) -> bool:
    """Whether the cell's count can change by `count_step` with only hidden cells changing and
    every shown figure still true: an alternating cycle through it whose cells can each move
    their way by one.

    Signed so that every extended line sums to zero (totals count negative, the grand total
    positive); `step` is the change of the signed value."""
    step = count_step * _sign(table, cell)
    start_row, target_column = cell
    # From the cell's row to its column: a step along a row moves the opposite way (-step),
    # a step down a column the same way (+step), alternating around the cycle.
    seen_rows, seen_columns = {start_row}, set[int]()
    queue: deque[int] = deque([start_row])
    while queue:
        row = queue.popleft()
        for j in lines.in_row.get(row, []):
            if (row, j) == cell or j in seen_columns or not _signed_can(table, (row, j), -step):
                continue
            if j == target_column:
                return True
            seen_columns.add(j)
            for i in lines.in_column.get(j, []):
                if i not in seen_rows and _signed_can(table, (i, j), step):
                    seen_rows.add(i)
                    queue.append(i)
    return False


def _sign(table: list[list[int]], cell: Cell) -> int:
    """-1 for a row or column total (it is subtracted in its line), +1 otherwise."""
    last_row, last_column = len(table) - 1, len(table[0]) - 1
    return -1 if (cell[0] == last_row) != (cell[1] == last_column) else 1


def _signed_can(table: list[list[int]], cell: Cell, step: int) -> bool:
    """Whether the cell's signed value can move by `step` without its count going negative."""
    return step * _sign(table, cell) > 0 or _value(table, cell) > 0


def _value(table: list[list[int]], cell: Cell) -> int:
    return table[cell[0]][cell[1]]


def _cells(table: list[list[int]]) -> Iterator[Cell]:
    return ((i, j) for i in range(len(table)) for j in range(len(table[0])))


def _row(table: list[list[int]], row: int) -> list[Cell]:
    return [(row, j) for j in range(len(table[0]))]


def _column(table: list[list[int]], column: int) -> list[Cell]:
    return [(i, column) for i in range(len(table))]


def _lines(table: list[list[int]]) -> Iterator[list[Cell]]:
    yield from (_row(table, i) for i in range(len(table)))
    yield from (_column(table, j) for j in range(len(table[0])))
