"""Per-second history of the gateway's traffic for the dashboard's sparklines (pure logic, no widgets).

Rates come from the diffs of the upstreams' cumulative `calls` and `errors` counters, so they are exact
however busy the gateway is; latency comes from the recent-call ring, which under load holds only the
newest calls: p50 and p99 are those of a sample.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from mcpstead.state import GatewaySnapshot

HISTORY_SECONDS = 300
"""How far back the charts reach (5 minutes), one bucket per second."""

RECENT_SECONDS = 10
"""The "now" figure of a rate is its mean over this many seconds (the header's figure uses as many)."""

LATENCY_SAMPLES = 200
"""At most this many call durations are kept per upstream and second, which bounds memory under load."""


def _zeros(seconds: int) -> deque[float]:
    # One more bucket than is shown: the second in progress.
    return deque([0.0] * (seconds + 1), maxlen=seconds + 1)


def _spread(series: deque[float], count: int, elapsed: int) -> None:
    """Share `count` evenly among the `elapsed` seconds it happened in (those still in the window)."""
    share = count / elapsed
    for index in range(max(len(series) - elapsed, 0), len(series)):
        series[index] += share


@dataclass(slots=True)
class _Buckets:
    """One upstream's (or the total's) buckets; the last of `calls` and `errors` is the second in progress."""

    seconds: int
    calls: deque[float] = field(init=False)
    errors: deque[float] = field(init=False)
    latencies: dict[int, list[float]] = field(default_factory=dict)
    """Sorted call durations (ms) by the second the calls started; only seconds with calls."""

    def __post_init__(self) -> None:
        self.calls = _zeros(self.seconds)
        self.errors = _zeros(self.seconds)

    def advance(self, elapsed: int, oldest: int) -> None:
        """Open `elapsed` new seconds and forget what is older than `oldest`."""
        new = [0.0] * min(elapsed, self.seconds + 1)
        self.calls.extend(new)
        self.errors.extend(new)
        for second in [s for s in self.latencies if s < oldest]:
            del self.latencies[second]


@dataclass(slots=True)
class ChartHistory:
    """Ingests every snapshot the dashboard shows; the series it hands out are oldest first, fixed length.

    The series cover the last `seconds` complete seconds: the second in progress is left out, so the
    newest bar never dips only because its second is not over yet.
    """

    seconds: int = HISTORY_SECONDS
    _newest: int | None = field(default=None, init=False)
    _counters: dict[str, tuple[int, int]] = field(default_factory=dict, init=False)
    _seen_seq: int = field(default=0, init=False)
    _total: _Buckets = field(init=False)
    _upstreams: dict[str, _Buckets] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._total = _Buckets(self.seconds)

    def observe(self, snapshot: GatewaySnapshot, now: float) -> None:
        """Count what changed since the previous snapshot into the seconds that passed since then.

        The first snapshot is only a baseline (its counters span the gateway's whole life). Seconds with
        no snapshot share the next one's diff evenly. An upstream that is new, or whose counter went down,
        belongs to a supervisor started since the previous snapshot (a reload added or restarted it), which
        counted from zero: its whole count is new, and a rate is never negative.
        """
        first = self._newest is None
        spread = max(self._advance(math.floor(now)), 1)
        present = {upstream.name for upstream in snapshot.upstreams}
        for name in [name for name in self._upstreams if name not in present]:
            del self._upstreams[name]  # its history went with it; bounded however names churn
            del self._counters[name]
        for upstream in snapshot.upstreams:
            buckets = self._upstreams.get(upstream.name)
            if buckets is None:
                buckets = self._upstreams[upstream.name] = _Buckets(self.seconds)
            calls, errors = self._counters.get(upstream.name, (0, 0))
            self._counters[upstream.name] = (upstream.calls, upstream.errors)
            if first:
                continue
            for series, total, counted, before in (
                (buckets.calls, self._total.calls, upstream.calls, calls),
                (buckets.errors, self._total.errors, upstream.errors, errors),
            ):
                new = counted - before if counted >= before else counted
                if new:
                    _spread(series, new, spread)
                    _spread(total, new, spread)
        self._sample_latency(snapshot)

    def _advance(self, second: int) -> int:
        """Move the newest bucket to `second` and return how many seconds passed (0: the same one, or the
        clock went back, in which case the newest bucket stays the newest)."""
        if self._newest is None:
            self._newest = second
        if second <= self._newest:
            return 0
        elapsed, self._newest = second - self._newest, second
        for buckets in (self._total, *self._upstreams.values()):
            buckets.advance(elapsed, self._oldest)
        return elapsed

    def _sample_latency(self, snapshot: GatewaySnapshot) -> None:
        """File the calls not seen before under the second they started (a call from the future: now)."""
        assert self._newest is not None
        seen = self._seen_seq
        for call in snapshot.calls:
            if call.seq <= seen:
                continue
            self._seen_seq = max(self._seen_seq, call.seq)
            buckets = self._upstreams.get(call.upstream)
            second = min(math.floor(call.started_at), self._newest)
            if buckets is None or second < self._oldest:
                continue
            samples = buckets.latencies.setdefault(second, [])
            if len(samples) < LATENCY_SAMPLES:
                bisect.insort(samples, call.total_ms)

    @property
    def _oldest(self) -> int:
        assert self._newest is not None
        return self._newest - self.seconds

    def calls(self, upstream: str | None = None) -> list[float]:
        """Calls per second of `upstream`, or of all upstreams together."""
        buckets = self._buckets(upstream)
        return list(buckets.calls)[:-1] if buckets else [0.0] * self.seconds

    def errors(self, upstream: str | None = None) -> list[float]:
        """Failed calls per second (errors and tool errors, as the upstream counts them)."""
        buckets = self._buckets(upstream)
        return list(buckets.errors)[:-1] if buckets else [0.0] * self.seconds

    def latency(self, upstream: str, quantile: float) -> list[float]:
        """The `quantile` (0.5: p50) of the sampled call durations (ms) per second; 0 for seconds without calls."""
        buckets = self._upstreams.get(upstream)
        if buckets is None or self._newest is None:
            return [0.0] * self.seconds
        by_second = buckets.latencies
        return [
            percentile(by_second[second], quantile) if second in by_second else 0.0
            for second in range(self._oldest, self._newest)
        ]

    def _buckets(self, upstream: str | None) -> _Buckets | None:
        return self._total if upstream is None else self._upstreams.get(upstream)


def percentile(ordered: Sequence[float], quantile: float) -> float:
    """Nearest-rank percentile of sorted values: always one of them, so a p99 of few calls is their slowest."""
    return ordered[max(math.ceil(quantile * len(ordered)) - 1, 0)]


def recent_rate(series: Sequence[float], seconds: int = RECENT_SECONDS) -> float:
    """The mean of the newest `seconds` of a per-second series."""
    recent = series[-seconds:]
    return sum(recent) / len(recent) if recent else 0.0


def latest(series: Sequence[float]) -> float:
    """The newest non-zero value (a latency series is 0 in seconds without calls), else 0."""
    return next((value for value in reversed(series) if value), 0.0)


def count(series: Sequence[float]) -> int:
    """How many events a per-second series holds in all (shares of spread diffs add up to whole ones)."""
    return round(sum(series))
