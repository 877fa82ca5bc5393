"""The Prometheus text for /metrics: the reference gateway's names, labels and buckets, built from the
counts (mcpstead/metrics.py) at scrape time on a registry of its own.

The admin endpoint imports this module at the first scrape, not at start: prometheus-client brings
http.server, wsgiref and email with it, 1.5 MiB of an idle gateway's resident memory that a gateway nobody
scrapes (most local ones) never needs.
"""

from __future__ import annotations

import asyncio
import os
import platform
import resource
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from mcpstead import __version__
from mcpstead.metrics import GatewayMetrics, UpstreamSource
from mcpstead.stats import Histogram, UpstreamStats

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def render(metrics: GatewayMetrics) -> bytes:
    """The exposition text of everything `metrics` counts, its upstreams' and the process's figures."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(lambda: _process_families(metrics)))
    registry.register(_Families(lambda: _upstream_families(metrics.supervisors(), metrics.wall())))
    registry.register(_Families(lambda: _gateway_families(metrics)))
    return generate_latest(registry)


def _process_families(metrics: GatewayMetrics) -> Iterator[Metric]:
    build = GaugeMetricFamily(
        "mcpstead_build_info", "Build and version info.", labels=["version", "python_version", "git_sha"]
    )
    build.add_metric([__version__, platform.python_version(), os.environ.get("MCPSTEAD_GIT_SHA", "unknown")], 1)
    yield build
    yield GaugeMetricFamily("mcpstead_start_time_seconds", "Unix timestamp for process start.", metrics.start_time)
    yield GaugeMetricFamily(
        "mcpstead_uptime_seconds", "Process uptime in seconds.", metrics.wall() - metrics.start_time
    )
    yield from _process_stats()
    try:
        tasks = len(asyncio.all_tasks())
    except RuntimeError:  # rendered outside the event loop (a test): there is no count to give
        return
    yield GaugeMetricFamily("mcpstead_event_loop_tasks", "asyncio tasks alive in the gateway's loop.", tasks)


def _gateway_families(metrics: GatewayMetrics) -> Iterator[Metric]:
    sessions_active = metrics.sessions_active()
    yield GaugeMetricFamily("mcpstead_downstream_sessions_active", "Active downstream sessions.", sessions_active)
    yield CounterMetricFamily("mcpstead_downstream_sessions", "Downstream sessions opened.", metrics.sessions_total)
    yield _histogram(
        "mcpstead_downstream_session_duration_seconds",
        "Downstream session duration.",
        [],
        [((), metrics.session_duration)],
    )
    yield _counter(
        "mcpstead_downstream_session_terminations",
        "Downstream session terminations.",
        ["reason"],
        [((k,), v) for k, v in metrics.session_terminations.items()],
    )
    yield _counter(
        "mcpstead_tool_calls",
        "Tool calls routed upstream.",
        ["server", "tool"],
        [(k, s.calls) for k, s in metrics.tool_calls.items()],
    )
    yield _counter(
        "mcpstead_tool_call_errors",
        "Tool call errors by reason.",
        ["server", "tool", "reason"],
        [((*k, reason), n) for k, s in metrics.tool_calls.items() for reason, n in s.errors.items()],
    )
    yield _histogram(
        "mcpstead_tool_call_duration_seconds",
        "Tool call duration.",
        ["server", "tool"],
        [(k, s.duration) for k, s in metrics.tool_calls.items()],
    )
    yield _counter(
        "mcpstead_limit_hits",
        "Requests or connections refused by a configured limit.",
        ["limit"],
        [((k,), v) for k, v in metrics.limits_hit.items()],
    )
    yield _counter(
        "mcpstead_mcp_era_requests",
        "POSTs to /mcp by protocol era (legacy: initialize and sessions; modern: 2026-07-28).",
        ["era"],
        [((k,), v) for k, v in metrics.era_requests.items()],
    )
    yield _counter(
        "mcpstead_mcp_requests",
        "MCP requests by method and result.",
        ["method", "result"],
        metrics.mcp_requests.items(),
    )
    yield _histogram(
        "mcpstead_mcp_request_duration_seconds",
        "MCP request duration.",
        ["method"],
        [((m,), h) for m, h in metrics.mcp_request_duration.items()],
    )
    yield _counter(
        "mcpstead_mcp_auth_attempts",
        "MCP auth attempts.",
        ["result"],
        [((k,), v) for k, v in metrics.auth_attempts.items() if v],
    )
    yield _counter(
        "mcpstead_mcp_auth_failures",
        "MCP auth failures by reason.",
        ["reason"],
        [((k,), v) for k, v in metrics.auth_failures.items()],
    )
    yield _counter(
        "mcpstead_config_reloads",
        "Config reload attempts.",
        ["result"],
        [((k,), v) for k, v in metrics.config_reloads.items() if v],
    )
    last = GaugeMetricFamily(
        "mcpstead_config_last_reload_timestamp_seconds", "Last successful config reload timestamp."
    )
    if metrics.last_reload is not None:
        last.add_metric([], metrics.last_reload)
    yield last


def _upstream_families(supervisors: Iterable[UpstreamSource], now: float) -> Iterator[Metric]:
    upstreams = sorted(supervisors, key=lambda s: s.name)

    def per(name: str, help_text: str, value: Callable[[UpstreamSource], float], kind: str = "gauge") -> Metric:
        family = (GaugeMetricFamily if kind == "gauge" else CounterMetricFamily)(name, help_text, labels=["server"])
        for upstream in upstreams:
            family.add_metric([upstream.name], value(upstream))
        return family

    def by_result(name: str, help_text: str, label: str, pick: Callable[[UpstreamStats], dict[str, int]]) -> Metric:
        return _counter(
            name, help_text, ["server", label], [((u.name, k), v) for u in upstreams for k, v in pick(u.stats).items()]
        )

    yield per("mcpstead_upstream_connected", "Upstream connection state.", lambda u: float(u.status == "ready"))
    yield per("mcpstead_upstream_tools_count", "Cached upstream tool count.", lambda u: float(len(u.raw_tools)))
    yield per("mcpstead_upstream_reconnects", "Upstream reconnect cycles.", lambda u: float(u.reconnects), "counter")
    yield per(
        "mcpstead_upstream_calls_in_flight",
        "Requests relayed to the upstream (its shared session and per-client ones) and not answered yet.",
        lambda u: float(u.calls_in_flight),
    )
    yield per(
        "mcpstead_upstream_last_seen_seconds",
        "Seconds since upstream success.",
        lambda u: now - u.last_seen if u.last_seen is not None else -1.0,
    )
    yield by_result("mcpstead_upstream_initialize", "Upstream initialize attempts.", "result", lambda s: s.initialize)
    yield _histogram(
        "mcpstead_upstream_initialize_duration_seconds",
        "Upstream initialize duration.",
        ["server"],
        [((u.name,), u.stats.initialize_duration) for u in upstreams],
    )
    yield by_result(
        "mcpstead_upstream_health_checks", "Upstream health check outcomes.", "result", lambda s: s.health_checks
    )
    yield by_result(
        "mcpstead_upstream_reconnect_attempts",
        "Upstream reconnect attempts inside reconnect cycles.",
        "result",
        lambda s: s.reconnect_attempts,
    )
    yield per(
        "mcpstead_upstream_backoff_seconds",
        "Seconds spent in upstream reconnect backoff.",
        lambda u: u.stats.backoff_seconds_total,
        "counter",
    )
    yield per(
        "mcpstead_upstream_in_backoff",
        "Whether upstream is currently in reconnect backoff.",
        lambda u: float(u.status == "backoff"),
    )
    yield per(
        "mcpstead_upstream_current_backoff_seconds",
        "Current upstream backoff delay.",
        lambda u: u.stats.current_backoff if u.status == "backoff" else 0.0,
    )
    yield by_result(
        "mcpstead_upstream_session_resets",
        "Upstream session resets after session invalidation.",
        "reason",
        lambda s: s.session_resets,
    )
    yield by_result(
        "mcpstead_upstream_tools_refresh",
        "Upstream tools/list cache refresh outcomes.",
        "result",
        lambda s: s.tools_refresh,
    )
    yield _histogram(
        "mcpstead_upstream_tools_refresh_duration_seconds",
        "Upstream tools/list cache refresh duration.",
        ["server"],
        [((u.name,), u.stats.tools_refresh_duration) for u in upstreams],
    )
    refreshed = GaugeMetricFamily(
        "mcpstead_upstream_tools_last_refresh_timestamp_seconds",
        "Last successful tool cache refresh timestamp.",
        labels=["server"],
    )
    for upstream in upstreams:
        if upstream.stats.tools_last_refresh is not None:
            refreshed.add_metric([upstream.name], upstream.stats.tools_last_refresh)
    yield refreshed
    yield by_result("mcpstead_upstream_bytes", "Bytes exchanged with upstreams.", "direction", lambda s: s.bytes)


def _counter(name: str, help_text: str, labels: list[str], samples: Iterable[tuple[tuple[str, ...], int]]) -> Metric:
    family = CounterMetricFamily(name, help_text, labels=labels)
    for values, value in sorted(samples):
        family.add_metric(list(values), value)
    return family


def _histogram(name: str, help_text: str, labels: list[str], series: list[tuple[tuple[str, ...], Histogram]]) -> Metric:
    family = HistogramMetricFamily(name, help_text, labels=labels)
    for values, histogram in sorted(series, key=lambda item: item[0]):
        family.add_metric(list(values), histogram.cumulative(), histogram.total)
    return family


def _process_stats() -> Iterator[Metric]:
    """Linux process figures from /proc, as the reference reports them; nothing elsewhere."""
    try:
        with open("/proc/self/stat") as stat_file:
            fields = stat_file.read().rsplit(")", 1)[1].split()
        fds = len(os.listdir("/proc/self/fd"))
    except OSError:
        return
    utime, stime, threads, vsize, rss = (
        int(fields[11]),
        int(fields[12]),
        int(fields[17]),
        int(fields[20]),
        int(fields[21]),
    )
    max_fds = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    yield GaugeMetricFamily(
        "mcpstead_process_resident_memory_bytes", "Resident memory size in bytes.", rss * _PAGE_SIZE
    )
    yield GaugeMetricFamily("mcpstead_process_virtual_memory_bytes", "Virtual memory size in bytes.", vsize)
    yield CounterMetricFamily("mcpstead_process_cpu_seconds", "Process CPU seconds.", (utime + stime) / _TICKS)
    yield GaugeMetricFamily("mcpstead_process_open_fds", "Open file descriptors.", fds)
    yield GaugeMetricFamily("mcpstead_process_max_fds", "Maximum file descriptors.", max_fds)
    yield GaugeMetricFamily("mcpstead_process_threads", "Process thread count.", threads)


class _Families(Collector):
    def __init__(self, families: Callable[[], Iterable[Metric]]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        return iter(list(self._families()))
