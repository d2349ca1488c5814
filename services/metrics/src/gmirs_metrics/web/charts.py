"""Charts as inline SVG, drawn here from the figures: no script, no other site, nothing to load.

Each chart is an image with a text alternative (`role="img"` and a `<title>` that says the
figures in words); the page puts a table of the same figures beside it for anyone who reads
tables rather than pictures. Colours are presentation attributes, not inline styles, so the
page's Content-Security-Policy can forbid inline styles altogether.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

BAR = "#1d70b8"
"""GOV.UK blue."""
MISSED = "#d4351c"
TEXT = "#0b0c0c"
AXIS = "#505a5f"


def _image(chart_id: str, width: int, height: int, title: str, body: str) -> str:
    return (
        f'<svg class="chart" id="{chart_id}" role="img" aria-labelledby="{chart_id}-title"'
        f' viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title>{body}</svg>'
    )


def column_sparkline(
    chart_id: str, title: str, labels: Sequence[str], values: Sequence[int]
) -> str:
    """Small columns, one per month, scaled to the largest value (labels under each column)."""
    width, height, base = 36 * len(values) + 8, 110, 80
    top = max(values, default=0) or 1
    parts = [f'<line x1="4" y1="{base}" x2="{width - 4}" y2="{base}" stroke="{AXIS}"/>']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x, bar = 8 + 36 * i, round(60 * value / top)
        parts.append(
            f'<rect x="{x}" y="{base - bar}" width="26" height="{bar}" fill="{BAR}"/>'
            f'<text x="{x + 13}" y="{base - bar - 4}" text-anchor="middle" font-size="12"'
            f' fill="{TEXT}">{value}</text>'
            f'<text x="{x + 13}" y="{base + 16}" text-anchor="middle" font-size="11"'
            f' fill="{TEXT}">{escape(label)}</text>'
        )
    return _image(chart_id, width, height, title, "".join(parts))


def proportion_bars(
    chart_id: str, title: str, rows: Sequence[tuple[str, int, int]], *, label_width: int = 110
) -> str:
    """One horizontal bar per row: the part (in time) in blue, the rest (late) in red, with the
    figures written at the end of the bar. `rows` are (label, part, whole)."""
    scale, row_height = 300, 28
    width = label_width + scale + 120
    height = row_height * len(rows) + 8
    parts = []
    for i, (label, part, whole) in enumerate(rows):
        y = 4 + row_height * i
        done = round(scale * part / whole) if whole else 0
        percent = f"{round(100 * part / whole)}%" if whole else "none due"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 17}" text-anchor="end" font-size="13"'
            f' fill="{TEXT}">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{done}" height="20" fill="{BAR}"/>'
            f'<rect x="{label_width + done}" y="{y + 3}" width="{scale - done if whole else 0}"'
            f' height="20" fill="{MISSED}"/>'
            f'<text x="{label_width + scale + 6}" y="{y + 17}" font-size="13" fill="{TEXT}">'
            f"{part} of {whole} ({percent})</text>"
        )
    return _image(chart_id, width, height, title, "".join(parts))
