"""How much CPU a process under measurement used, for the per-item figures beside each rate."""

from __future__ import annotations

import psutil


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)
