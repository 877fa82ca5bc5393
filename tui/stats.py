"""Figures the dashboard derives from a snapshot's recent calls: call rate and per-upstream latency."""

from __future__ import annotations

import statistics
from collections.abc import Iterable

from mcpstead.state import CallView

RATE_WINDOW = 10.0
"""Seconds of recent calls the header's calls-per-second figure is averaged over."""

LATENCY_SAMPLE = 100
"""At most this many of an upstream's most recent calls make up its median latency."""


def calls_per_second(calls: Iterable[CallView], now: float, window: float = RATE_WINDOW) -> float:
    """Calls that started within the last `window` seconds, per second."""
    since = now - window
    return sum(1 for call in calls if since <= call.started_at <= now) / window


def p50_by_upstream(calls: Iterable[CallView], sample: int = LATENCY_SAMPLE) -> dict[str, float]:
    """Median total time (ms) of each upstream's most recent calls; `calls` come newest first.

    Calls that never reached an upstream ("error" with no upstream time) still count: a gateway-side
    failure is part of what a client waits for.
    """
    times: dict[str, list[float]] = {}
    for call in calls:
        bucket = times.setdefault(call.upstream, [])
        if len(bucket) < sample:
            bucket.append(call.total_ms)
    return {name: statistics.median(values) for name, values in times.items() if values}
