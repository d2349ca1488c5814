"""Suppression cannot be undone: generated tables are suppressed, then attacked as an outsider
would, from the published cells and totals alone.

Two attacks, written here independently of the code under test: solving the row and column
equations exactly (Gaussian elimination over the rationals), and trying every simple cycle of
hidden cells to see whether a hidden count can move at all without a count going negative.
"""

from __future__ import annotations

import functools
from fractions import Fraction
from itertools import combinations, permutations

import hypothesis
import pytest
from hypothesis import strategies as st

from gmirs_metrics.domain.figures import Breakdown
from gmirs_metrics.domain.suppression import SuppressedBreakdown, extended, suppress

THRESHOLD = 5
Published = list[list[int | None]]
SETTINGS = hypothesis.settings(max_examples=300, deadline=None, derandomize=True)


def _breakdown(cells: list[list[int]]) -> Breakdown:
    return Breakdown(
        indicator="A5",
        title="test",
        row_labels=[f"r{i}" for i in range(len(cells))],
        column_labels=[f"c{j}" for j in range(len(cells[0]))],
        cells=cells,
    )


def _published(s: SuppressedBreakdown) -> Published:
    """The extended table as an outsider sees it (None: `*`)."""
    rows: Published = [[*row, total] for row, total in zip(s.cells, s.row_totals, strict=True)]
    return [*rows, [*s.column_totals, s.total]]


def _equations(published: Published) -> list[tuple[dict[tuple[int, int], int], int]]:
    """Each extended line: sum of the interior cells minus its total is 0; the unknowns are the
    hidden cells, the rest is moved to the right-hand side."""
    height, width = len(published), len(published[0])
    lines = [[(i, j) for j in range(width)] for i in range(height)]
    lines += [[(i, j) for i in range(height)] for j in range(width)]
    equations = []
    for line in lines:
        coefficients: dict[tuple[int, int], int] = {}
        constant = 0
        for position, (i, j) in enumerate(line):
            sign = -1 if position == len(line) - 1 else 1
            value = published[i][j]
            if value is None:
                coefficients[(i, j)] = sign
            else:
                constant -= sign * value
        equations.append((coefficients, constant))
    return equations


def _determined_by_equations(published: Published) -> set[tuple[int, int]]:
    """Hidden cells whose value the equations alone fix (reduced row echelon form)."""
    hidden = [(i, j) for i, row in enumerate(published) for j, v in enumerate(row) if v is None]
    index = {cell: k for k, cell in enumerate(hidden)}
    rows = []
    for coefficients, constant in _equations(published):
        row = [Fraction(0)] * (len(hidden) + 1)
        for cell, c in coefficients.items():
            row[index[cell]] = Fraction(c)
        row[-1] = Fraction(constant)
        rows.append(row)
    pivots = _reduce(rows, len(hidden))
    return {
        hidden[column]
        for r, column in pivots
        if sum(1 for k in range(len(hidden)) if rows[r][k] != 0) == 1
    }


def _reduce(rows: list[list[Fraction]], unknowns: int) -> list[tuple[int, int]]:
    pivots: list[tuple[int, int]] = []
    r = 0
    for column in range(unknowns):
        pivot = next((k for k in range(r, len(rows)) if rows[k][column] != 0), None)
        if pivot is None:
            continue
        rows[r], rows[pivot] = rows[pivot], rows[r]
        rows[r] = [v / rows[r][column] for v in rows[r]]
        for k in range(len(rows)):
            if k != r and rows[k][column] != 0:
                factor = rows[k][column]
                rows[k] = [a - factor * b for a, b in zip(rows[k], rows[r], strict=True)]
        pivots.append((r, column))
        r += 1
    return pivots


@functools.cache
def _cycles(height: int, width: int, size: int) -> list[list[tuple[int, int]]]:
    """Every simple cycle over `size` rows and `size` columns, as its cells in order."""
    found = []
    for rows in permutations(range(height), size):
        for columns in permutations(range(width), size):
            cells = []
            for k in range(size):
                cells += [(rows[k], columns[k]), (rows[k], columns[(k + 1) % size])]
            found.append(cells)
    return found


def _movable(true: list[list[int]], published: Published, cell: tuple[int, int]) -> set[int]:
    """The directions (+1, -1) the hidden count of `cell` can move, by brute force over every
    cycle of hidden cells: signs alternate around a cycle, and no count may go negative."""
    height, width = len(true), len(true[0])
    directions = set()
    for size in range(2, min(height, width) + 1):
        for cycle in _cycles(height, width, size):
            if cell not in cycle or any(published[i][j] is not None for i, j in cycle):
                continue
            for step in (1, -1):
                signs = _signs(cycle, cell, step, height, width)
                if all(true[i][j] + s >= 0 for (i, j), s in zip(cycle, signs, strict=True)):
                    directions.add(step)
    return directions


def _signs(
    cycle: list[tuple[int, int]], cell: tuple[int, int], step: int, height: int, width: int
) -> list[int]:
    """The change of each count around the cycle when `cell` changes by `step`: alternating in
    the signed table (totals negative, grand total positive), converted back to counts."""

    def sign(i: int, j: int) -> int:
        return -1 if (i == height - 1) != (j == width - 1) else 1

    start = cycle.index(cell)
    signed = [step * sign(*cell) * (1 if (k - start) % 2 == 0 else -1) for k in range(len(cycle))]
    return [s * sign(i, j) for s, (i, j) in zip(signed, cycle, strict=True)]


tables = st.integers(min_value=1, max_value=3).flatmap(
    lambda height: st.integers(min_value=1, max_value=3).flatmap(
        lambda width: st.lists(
            st.lists(st.integers(min_value=0, max_value=12), min_size=width, max_size=width),
            min_size=height,
            max_size=height,
        )
    )
)


@SETTINGS
@hypothesis.given(tables)
def test_no_hidden_cell_can_be_solved_from_the_row_and_column_equations(
    cells: list[list[int]],
) -> None:
    published = _published(suppress(_breakdown(cells), THRESHOLD))
    assert _determined_by_equations(published) == set()


@SETTINGS
@hypothesis.given(tables)
def test_no_hidden_count_is_pinned_by_counts_being_non_negative(cells: list[list[int]]) -> None:
    true = extended(_breakdown(cells))
    published = _published(suppress(_breakdown(cells), THRESHOLD))
    for i, row in enumerate(published):
        for j, value in enumerate(row):
            if value is None:
                wanted = {1, -1} if true[i][j] > 0 else {1}
                assert wanted <= _movable(true, published, (i, j)), (i, j, true, published)


@SETTINGS
@hypothesis.given(tables)
def test_small_counts_are_hidden_and_the_rest_shown_as_they_are(cells: list[list[int]]) -> None:
    true = extended(_breakdown(cells))
    published = _published(suppress(_breakdown(cells), THRESHOLD))
    for i, row in enumerate(published):
        for j, value in enumerate(row):
            if 0 < true[i][j] < THRESHOLD:
                assert value is None
            assert value in (None, true[i][j])
    for line in [*published, *zip(*published, strict=True)]:
        assert sum(v is None for v in line) != 1


@pytest.mark.parametrize(
    ("cells", "hidden"),
    [
        ([[10, 20], [30, 40]], 0),
        ([[3, 20], [30, 40]], 4),  # 3, its row's and column's partners, and the 40 beside them
        ([[0, 0], [0, 0]], 0),
    ],
)
def test_hand_worked_tables(cells: list[list[int]], hidden: int) -> None:
    assert suppress(_breakdown(cells), THRESHOLD).suppressed_count == hidden


def test_the_threshold_is_a_setting_and_the_shape_is_checked() -> None:
    assert suppress(_breakdown([[6, 20], [30, 40]]), 10).suppressed_count == 4
    assert suppress(_breakdown([[6, 20], [30, 40]]), 5).suppressed_count == 0
    with pytest.raises(ValueError, match="labels"):
        suppress(Breakdown("A5", "t", ["a"], ["b", "c"], [[1]]))
    with pytest.raises(ValueError, match="negative"):
        suppress(_breakdown([[-1]]))


def test_a_large_breakdown_leaves_most_cells_shown() -> None:
    """Ten boroughs by twelve categories with a handful of small cells: suppression stays
    local (the point of suppressing the smallest neighbours first)."""
    cells = [[20 + (i * 7 + j * 3) % 40 for j in range(10)] for i in range(12)]
    for i, j in combinations(range(10), 2):
        if i + j in (3, 11):
            cells[i][j] = 2
    result = suppress(_breakdown(cells), THRESHOLD)
    assert 0 < result.suppressed_count < 0.2 * 13 * 11
