"""The counts behind /metrics: plain integer and dict arithmetic on the hot path (no locks, no
prometheus-client objects per call). mcpstead/exposition.py turns them into the reference gateway's metric
families at scrape time. Per-upstream numbers live in each supervisor's UpstreamStats (mcpstead/stats.py),
so the series of a removed upstream disappear with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sized
from dataclasses import dataclass, field
from typing import Protocol

from mcpstead.stats import Histogram, UpstreamStats

SESSION_DURATION_BUCKETS = (1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 21600.0)


class UpstreamSource(Protocol):
    """What the upstream families read from each supervisor (neither this module nor exposition.py imports it)."""

    @property
    def name(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def raw_tools(self) -> Sized: ...
    @property
    def reconnects(self) -> int: ...
    @property
    def last_seen(self) -> float | None: ...
    @property
    def stats(self) -> UpstreamStats: ...
    @property
    def calls_in_flight(self) -> int: ...


@dataclass(slots=True)
class ToolCallStats:
    calls: int = 0
    duration: Histogram = field(default_factory=Histogram)
    errors: dict[str, int] = field(default_factory=dict)


class GatewayMetrics:
    def __init__(
        self,
        supervisors: Callable[[], Iterable[UpstreamSource]],
        sessions_active: Callable[[], int],
        wall: Callable[[], float],
    ) -> None:
        self.start_time = wall()
        self.wall = wall
        self.supervisors = supervisors
        self.sessions_active = sessions_active
        self.tool_calls: dict[tuple[str, str], ToolCallStats] = {}
        self.mcp_requests: dict[tuple[str, str], int] = {}
        self.mcp_request_duration: dict[str, Histogram] = {}
        self.sessions_total = 0
        self.session_duration = Histogram(SESSION_DURATION_BUCKETS)
        self.session_terminations: dict[str, int] = {}
        self.auth_attempts = {"success": 0, "failure": 0}
        self.auth_failures: dict[str, int] = {}
        self.config_reloads = {"success": 0, "error": 0}
        self.last_reload: float | None = None
        self.limits_hit: dict[str, int] = {}
        self.era_requests = {"legacy": 0, "modern": 0}

    # -- counting (hot path: dict and int arithmetic only) ---------------------------------------------

    def tool_call(self, server: str, tool: str, seconds: float, error_reason: str | None) -> None:
        stats = self.tool_calls.get((server, tool))
        if stats is None:
            stats = self.tool_calls[(server, tool)] = ToolCallStats()
        stats.calls += 1
        stats.duration.observe(seconds)
        if error_reason is not None:
            stats.errors[error_reason] = stats.errors.get(error_reason, 0) + 1

    def request(self, method: str, ok: bool, seconds: float | None = None) -> None:
        key = (method, "success" if ok else "error")
        self.mcp_requests[key] = self.mcp_requests.get(key, 0) + 1
        if seconds is not None:
            histogram = self.mcp_request_duration.get(method)
            if histogram is None:
                histogram = self.mcp_request_duration[method] = Histogram()
            histogram.observe(seconds)

    def session_opened(self) -> None:
        self.sessions_total += 1

    def session_ended(self, reason: str, seconds: float) -> None:
        self.session_terminations[reason] = self.session_terminations.get(reason, 0) + 1
        self.session_duration.observe(seconds)

    def auth(self, failure_reason: str | None) -> None:
        self.auth_attempts["failure" if failure_reason else "success"] += 1
        if failure_reason:
            self.auth_failures[failure_reason] = self.auth_failures.get(failure_reason, 0) + 1

    def config_reload(self, ok: bool) -> None:
        self.config_reloads["success" if ok else "error"] += 1
        if ok:
            self.last_reload = self.wall()

    def limit_hit(self, limit: str) -> None:
        """A configured limit refused something (limits: in the config)."""
        self.limits_hit[limit] = self.limits_hit.get(limit, 0) + 1

    def era_request(self, era: str) -> None:
        """A POST to /mcp, counted by the protocol era it spoke."""
        self.era_requests[era] += 1

    def forget_upstream(self, server: str) -> None:
        """Drop the tool-call series of a removed upstream."""
        for key in [key for key in self.tool_calls if key[0] == server]:
            del self.tool_calls[key]
