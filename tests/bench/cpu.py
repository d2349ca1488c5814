"""How much CPU a process under measurement used, for the per-item figures beside each rate."""

from __future__ import annotations

import psutil

from gmirs_stack.stack import LocalStack


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and all its children, live or already reaped (a PostgreSQL server
    with its backends, a service with its workers)."""
    process = psutil.Process(pid)
    times = process.cpu_times()
    total = times.user + times.system + times.children_user + times.children_system
    for child in process.children(recursive=True):
        try:
            child_times = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += child_times.user + child_times.system
    return float(total)


def stack_processes(stack: LocalStack) -> dict[str, int]:
    """Name -> pid of every process of the stack: services, fakes, PostgreSQL, the broker."""
    processes = dict(stack.processes)
    if stack.postgres.process is not None:
        processes["postgresql"] = stack.postgres.process
    processes["tansu"] = stack.broker.process
    return {name: p.pid for name, p in processes.items() if p.pid is not None}


def cpu_by_process(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds each process (with its children) has used so far."""
    return {name: tree_cpu_seconds(pid) for name, pid in pids.items()}
