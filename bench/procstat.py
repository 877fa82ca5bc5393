"""CPU time and resident memory of process trees, read from /proc (Linux only)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Usage:
    """utime+stime and stime alone (seconds), and VmRSS (bytes), summed over a set of processes."""

    cpu_seconds: float
    system_seconds: float
    rss_bytes: int
    pids: tuple[int, ...]


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name, or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return None
    return text[text.rfind(")") + 2 :].split()


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(utime + stime, stime) of one process (its live threads included, exited children not), in seconds."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0, 0.0
    # After ")": state(0) ppid(1) ... utime(11) stime(12)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    """VmRSS of one process in bytes (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


def _parents() -> dict[int, int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None:
                parents[int(entry)] = int(fields[1])
    return parents


def tree(root: int, exclude: Iterable[int] = ()) -> tuple[int, ...]:
    """`root` and its live descendants, minus the subtrees rooted at `exclude`."""
    excluded = set(exclude)
    if root in excluded:
        return ()
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found: list[int] = []
    stack = [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(child for child in children.get(pid, ()) if child not in excluded)
    return tuple(found)


def usage(root: int, exclude: Iterable[int] = ()) -> Usage:
    """CPU and RSS of a process tree, e.g. a gateway and its children without the upstream."""
    pids = tree(root, exclude)
    times = [cpu_seconds(pid) for pid in pids]
    return Usage(sum(t[0] for t in times), sum(t[1] for t in times), sum(rss_bytes(pid) for pid in pids), pids)


@dataclass(frozen=True, slots=True)
class MachineCpu:
    """Machine-wide CPU seconds, all cores: busy (user, nice, system, irq, softirq, steal) and irq+softirq alone."""

    busy: float
    irq: float

    def __sub__(self, other: MachineCpu) -> MachineCpu:
        return MachineCpu(self.busy - other.busy, self.irq - other.irq)


def machine_cpu() -> MachineCpu:
    with open("/proc/stat", encoding="ascii") as handle:
        fields = handle.readline().split()
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[1:9])
    return MachineCpu((user + nice + system + irq + softirq + steal) / CLOCK_TICKS, (irq + softirq) / CLOCK_TICKS)
