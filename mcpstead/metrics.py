"""Prometheus metrics on a per-gateway registry (never the global one), with the reference's names.

Upstream gauges are computed at scrape time from live state, so a removed upstream's series disappear.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from mcpstead import __version__
from mcpstead.state import UpstreamView

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# The `_created` series double the output and no dashboard of ours reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]


class _UpstreamCollector(Collector):
    def __init__(self, upstreams: Callable[[], Iterable[UpstreamView]], wall: Callable[[], float]) -> None:
        self._upstreams = upstreams
        self._wall = wall

    def collect(self) -> Iterator[Metric]:
        connected = GaugeMetricFamily("mcpstead_upstream_connected", "Upstream connection state.", labels=["server"])
        tools = GaugeMetricFamily("mcpstead_upstream_tools_count", "Cached upstream tool count.", labels=["server"])
        seen = GaugeMetricFamily(
            "mcpstead_upstream_last_seen_seconds", "Seconds since upstream success.", labels=["server"]
        )
        now = self._wall()
        for upstream in self._upstreams():
            connected.add_metric([upstream.name], 1.0 if upstream.connected else 0.0)
            tools.add_metric([upstream.name], float(len(upstream.tools)))
            seen.add_metric([upstream.name], now - upstream.last_seen if upstream.last_seen is not None else -1.0)
        yield connected
        yield tools
        yield seen


class GatewayMetrics:
    def __init__(self, upstreams: Callable[[], Iterable[UpstreamView]], wall: Callable[[], float]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        build = GaugeMetricFamily(
            "mcpstead_build_info", "Build and version info.", labels=["version", "python_version", "git_sha"]
        )
        build.add_metric([__version__, platform.python_version(), "unknown"], 1.0)
        self.registry.register(_Static([build]))
        self.registry.register(_UpstreamCollector(upstreams, wall))
        self.tool_calls = Counter(
            "mcpstead_tool_calls", "Tool calls routed upstream.", ["server", "tool"], registry=self.registry
        )
        self.tool_call_errors = Counter(
            "mcpstead_tool_call_errors",
            "Tool call errors by reason.",
            ["server", "tool", "reason"],
            registry=self.registry,
        )
        self.tool_call_duration = Histogram(
            "mcpstead_tool_call_duration_seconds",
            "Tool call duration.",
            ["server", "tool"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.mcp_requests = Counter(
            "mcpstead_mcp_requests",
            "MCP requests by method and result.",
            ["method", "result"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _Static(Collector):
    def __init__(self, metrics: list[Metric]) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        return iter(self._metrics)
