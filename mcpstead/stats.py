"""The numbers the gateway counts, with no exposition: histograms, outcome blocks and per-upstream counters.

A leaf module (it imports nothing of mcpstead), so the supervisor can own its UpstreamStats and metrics.py can
read them without either importing the other.
"""

from __future__ import annotations

import contextlib
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Histogram:
    """Bucket counts, sum and count: all a Prometheus histogram needs, at the cost of one bisect."""

    __slots__ = ("bounds", "count", "counts", "total")

    def __init__(self, bounds: tuple[float, ...] = DURATION_BUCKETS) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.total = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value
        self.count += 1

    def cumulative(self) -> list[tuple[str, float]]:
        running = 0
        buckets: list[tuple[str, float]] = []
        for bound, count in zip((*(f"{b:g}" for b in self.bounds), "+Inf"), self.counts, strict=True):
            running += count
            buckets.append((bound, float(running)))
        return buckets


@contextlib.contextmanager
def measured(outcomes: dict[str, int], histogram: Histogram, clock: Callable[[], float]) -> Iterator[None]:
    """Count the block's outcome ("success" or "error") and observe how long it took."""
    started = clock()
    try:
        yield
    except Exception:
        outcomes["error"] += 1
        raise
    else:
        outcomes["success"] += 1
    finally:
        histogram.observe(clock() - started)


@dataclass(slots=True)
class UpstreamStats:
    """Counters for one upstream, owned by its supervisor."""

    initialize: dict[str, int] = field(default_factory=lambda: {"success": 0, "error": 0})
    initialize_duration: Histogram = field(default_factory=Histogram)
    health_checks: dict[str, int] = field(default_factory=lambda: {"success": 0, "failure": 0})
    reconnect_attempts: dict[str, int] = field(default_factory=lambda: {"success": 0, "error": 0})
    backoff_seconds_total: float = 0.0
    current_backoff: float = 0.0
    tools_refresh: dict[str, int] = field(default_factory=lambda: {"success": 0, "error": 0})
    tools_refresh_duration: Histogram = field(default_factory=Histogram)
    tools_last_refresh: float | None = None
    bytes: dict[str, int] = field(default_factory=lambda: {"sent": 0, "received": 0})
    session_resets: dict[str, int] = field(
        default_factory=lambda: {"unknown_session": 0, "expired": 0, "terminated": 0}
    )

    def count_bytes(self, direction: str, size: int) -> None:
        self.bytes[direction] += size
