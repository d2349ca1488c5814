"""The pack as JSON for programs: the month's figures as they are, with each breakdown's cells
and totals suppressed (`"*"`). Keys sorted and no time of building in it, so the same figures
give the same bytes."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from gmirs_metrics.domain.pack import Pack
from gmirs_metrics.domain.suppression import SUPPRESSED, SuppressedBreakdown

MEDIA_TYPE = "application/json"


def pack_json(pack: Pack) -> bytes:
    figures = pack.figures
    document = {
        "month": f"{pack.month:%Y-%m}",
        "as_of": pack.as_of.isoformat(),
        "kpis": [
            {**asdict(k), "percentage": k.percentage, "status": k.status} for k in figures.kpis
        ],
        "reports": [asdict(r) for r in figures.reports],
        "distance_travelled": [asdict(d) for d in figures.distance],
        "breakdowns": [_breakdown(b) for b in pack.breakdowns],
        "provider_activity": [asdict(a) for a in figures.activity],
    }
    text = json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode()


def _breakdown(b: SuppressedBreakdown) -> dict[str, Any]:
    def shown(values: list[int | None]) -> list[int | str]:
        return [SUPPRESSED if v is None else v for v in values]

    return {
        "indicator": b.indicator,
        "title": b.title,
        "row_labels": b.row_labels,
        "column_labels": b.column_labels,
        "cells": [shown(row) for row in b.cells],
        "row_totals": shown(b.row_totals),
        "column_totals": shown(b.column_totals),
        "total": SUPPRESSED if b.total is None else b.total,
    }
