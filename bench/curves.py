"""Cost curves (issue 15): how the gateway's cost grows as the work grows.

    python -m bench.curves                    # every curve, ~2-3 min on 2 cores (at most 5)
    python -m bench.curves --only sessions,idle
    python -m bench.curves --snapshot         # run a copy of mcpstead/ taken at start (others may be editing)
    python -m bench.run --curves              # the same, from the main benchmark's entry point

Curves (all traffic on 127.0.0.1; headless `mcpstead serve` on a free port, one process per configuration):

1. sessions  - gateway CPU us per call and p50/p99 latency at 1, 8, 32, 128 concurrent sessions (the `mcp` SDK
               upstream, JSON answers; tools/call of echo through the gateway, load worker processes).
2. tools     - full tools/list latency (every page) and gateway RSS with 1, 10 and 50 upstreams, for 100,
               1,000 and 10,000 tools in total (one `bench.upstream_curves` process serves every upstream).
3. idle      - gateway RSS and /health latency with 0, 1,000 and 10,000 idle sessions (initialize POSTs).
4. resources - resources/read throughput for 1 KiB and 1 MiB resources, through the gateway and direct.
5. progress  - a tools/call whose upstream tool sends 0, 10 or 100 progress notifications (SDK upstream, SSE
               answers), latency through the gateway and direct.

Each curve writes bench/results/curves/<name>.json and <name>.png (matplotlib, Agg); the tables go to stdout and
bench/results/curves/README.md. Each curve is checked for faster-than-linear growth (see `growth`), and a
`FASTER THAN LINEAR` line is printed for each metric that grows so. Exit code 1 when a curve failed (an error,
a timeout, a process that died).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import gc
import json
import math
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import uvloop

from bench import load, procstat, throughput
from bench.client import ACCEPT, CLIENT_VERSION, CallError, McpSession, parse_answer
from bench.report import MIB, percentile
from bench.targets import (
    BENCH_DIR,
    Proc,
    Target,
    free_port,
    install_cleanup,
    mcpstead_headless,
    snapshot,
    source_fingerprint,
    spawn,
    start_target,
    start_upstream,
    stop,
    stop_all,
    write_gateway_config,
)

RESULTS_DIR = BENCH_DIR / "results" / "curves"
READY_TIMEOUT = 30.0
CALL_TIMEOUT = 30.0
TIME_BUDGET_S = 300.0
"""The whole run must take at most this long (issue 15); a run over it says so."""
SUPERLINEAR_EXPONENT = 1.2
"""A total cost growing with an exponent above this (log-log, over the last segment) is flagged."""
NOISE_FRACTION = 0.05
"""A marginal time below this share of the smallest point's is within run-to-run noise (the same point
varies by 5-10% between runs on these machines): no exponent can be read from it. Memory is read exactly."""
PER_UNIT_RISE = 1.25
"""A per-unit cost (CPU per call) that rises by more than this factor from the smallest point is flagged."""

SESSION_COUNTS = (1, 8, 32, 128)
UPSTREAM_COUNTS = (1, 10, 50)
TOOL_TOTALS = (100, 1_000, 10_000)
IDLE_COUNTS = (0, 1_000, 10_000)
RESOURCE_BYTES = (1024, 1024 * 1024)
PROGRESS_COUNTS = (0, 10, 100)
CURVES = ("sessions", "tools", "idle", "resources", "progress")


@dataclass
class Check:
    """Whether one metric of one curve grows faster than linear in the work."""

    series: str
    metric: str
    kind: str
    """`total` (a cost whose growth exponent is estimated) or `per_unit` (a cost per unit of work)."""
    value: float | None
    """The exponent (total) or the rise factor (per_unit); None when not measurable (below noise)."""
    method: str
    superlinear: bool


@dataclass
class Curve:
    name: str
    title: str
    points: list[dict[str, Any]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0

    @property
    def failed(self) -> bool:
        return bool(self.errors) or any(note.startswith("FAILED") for note in self.notes)

    def error(self, kind: str, count: int = 1) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + count


# --- growth ---------------------------------------------------------------------------------------------------


def growth(work: Sequence[float], cost: Sequence[float], noise: float = 0.0) -> tuple[float | None, str]:
    """The exponent k of cost ~ work^k over the last segment of a curve.

    With 3 or more points the first point is the baseline and the exponent is that of the marginal cost
    (cost - cost[0] against work - work[0]) between the last two points, so a fixed cost (idle RSS, a
    request's own overhead) neither hides growth nor fakes it: linear growth gives k ~ 1, quadratic ~ 2.
    When the marginal cost of the middle point is within noise (not above `noise` times the first point's
    cost: a 3 ms rise on 380 ms would turn any later rise into a huge exponent), or with only 2 points, the
    raw ratio over the whole range is used instead, a lower bound on the true exponent.
    """
    if len(work) >= 3:
        m1, m2 = cost[-2] - cost[0], cost[-1] - cost[0]
        w1, w2 = work[-2] - work[0], work[-1] - work[0]
        if m1 > noise * cost[0] and m1 > 0 and m2 > 0 and w2 > w1 > 0:
            return math.log(m2 / m1) / math.log(w2 / w1), f"marginal over {work[0]:g}, {work[-2]:g}->{work[-1]:g}"
    if cost[0] > 0 and cost[-1] > 0 and work[0] > 0 and work[-1] > work[0]:
        return math.log(cost[-1] / cost[0]) / math.log(work[-1] / work[0]), f"raw {work[0]:g}->{work[-1]:g}"
    return None, "not measurable"


def check_total(series: str, metric: str, work: Sequence[float], cost: Sequence[float]) -> Check:
    value, method = growth(work, cost, 0.0 if metric.endswith("_mib") else NOISE_FRACTION)
    return Check(series, metric, "total", value, method, value is not None and value > SUPERLINEAR_EXPONENT)


def check_per_unit(series: str, metric: str, work: Sequence[float], cost: Sequence[float]) -> Check:
    rise = cost[-1] / cost[0] if cost[0] > 0 else None
    method = f"per unit, {work[0]:g}->{work[-1]:g}"
    return Check(series, metric, "per_unit", rise, method, rise is not None and rise > PER_UNIT_RISE)


# --- processes and the gateway --------------------------------------------------------------------------------


@dataclass
class Env:
    log_dir: Path
    src: Path | None
    duration: float
    """Seconds per load window (sessions, resources)."""


def limits_yaml(sessions: int = 1000) -> str:
    """A `limits:` block that lets one client address (the benchmark, 127.0.0.1) hold `sessions` sessions."""
    return (
        f"limits:\n  sessions: {sessions}\n  sessions_per_client: {sessions}\n"
        "  calls_in_flight: 4096\n  items_per_upstream: 20000\n"
    )


def gateway_yaml(port: int, servers: Sequence[tuple[str, str]], sessions: int = 1000) -> str:
    lines = [f"port: {port}", "servers:"]
    for name, url in servers:
        lines += [
            f"  - name: {name}",
            f"    url: {url}",
            "    protocol: streamable",
            '    protocol_version: "2025-11-25"',
        ]
    return "\n".join(lines) + "\n" + limits_yaml(sessions)


def start_gateway(env: Env, name: str, config_text: str) -> tuple[Proc, str]:
    """`mcpstead serve` on a config written from `config_text`; returns it and its base URL (no path)."""
    config = env.log_dir / f"{name}.yaml"
    config.write_text(config_text, encoding="utf-8")
    port = int(config_text.split("\n", 1)[0].removeprefix("port: "))
    return mcpstead_headless(config, env.log_dir, env.src), f"http://127.0.0.1:{port}"


async def wait_health(base: str, proc: Proc, servers: int, tools: int, timeout: float = READY_TIMEOUT) -> float:
    """Poll /health until `servers` upstreams are connected with `tools` tools in all; seconds since spawn."""
    deadline = time.monotonic() + timeout
    last: Any = None
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        while time.monotonic() < deadline:
            if proc.popen.poll() is not None:
                raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}: {proc.log_tail(800)}")
            try:
                async with http.get(f"{base}/health") as response:
                    last = await response.json()
                listed = last.get("servers", [])
                if (
                    len(listed) == servers
                    and all(s.get("connected") for s in listed)
                    and sum(int(s.get("tools_count") or 0) for s in listed) == tools
                ):
                    return time.monotonic() - proc.started
            except (aiohttp.ClientError, OSError, ValueError, TimeoutError):
                pass
            await asyncio.sleep(0.02)
    summary = json.dumps(last)[:400] if last is not None else "no answer"
    raise RuntimeError(
        f"{proc.name}: not all {servers} upstreams ready with {tools} tools in {timeout:.0f} s: {summary}"
    )


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """This process's garbage collector off while it times sequential requests: a full collection of its
    own heap (~8 ms here) landed in the timings of large answers (the 10,000-tool list) and made the
    client's cost look like the gateway's. The windows are short, so the garbage held meanwhile is small."""
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def stopping() -> Iterator[list[Proc]]:
    """The processes a curve starts, appended to the list this yields, stopped in reverse order at its end."""
    started: list[Proc] = []
    try:
        yield started
    finally:
        for proc in reversed(started):
            stop(proc)


def rss_mib(pid: int, exclude: Sequence[int] = ()) -> float:
    return procstat.usage(pid, exclude).rss_bytes / MIB


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def _ready(url: str, tool: str, proc: Proc) -> None:
    if not uvloop.run(load.wait_ready(url, tool, READY_TIMEOUT)):
        raise RuntimeError(f"{proc.name} not serving {tool} after {READY_TIMEOUT:.0f} s: {proc.log_tail(800)}")


def _check_alive(curve: Curve, *procs: Proc) -> None:
    for proc in procs:
        if proc.popen.poll() is not None:
            curve.notes.append(f"FAILED: {proc.name} exited with {proc.popen.returncode}: {proc.log_tail(500)}")


# --- 1. sessions ----------------------------------------------------------------------------------------------


def curve_sessions(env: Env) -> Curve:
    curve = Curve("sessions", "Gateway CPU per call and latency vs concurrent sessions (SDK upstream, tools/call)")
    with stopping() as started:
        upstream, url = start_upstream("sdk", env.log_dir)
        started.append(upstream)
        _ready(url, "echo", upstream)
        config = env.log_dir / "curve-sessions.yaml"
        port = free_port()
        write_gateway_config(config, port, "sdk", url)
        with config.open("a", encoding="utf-8") as handle:
            handle.write(limits_yaml(max(SESSION_COUNTS) * 2))
        gateway = mcpstead_headless(config, env.log_dir, env.src)
        started.append(gateway)
        target = Target("sdk", "mcpstead", f"http://127.0.0.1:{port}/mcp", "sdk__echo", "", gateway, upstream)
        _ready(target.url, target.tool, gateway)
        for sessions in SESSION_COUNTS:
            window = throughput.measure(target, sessions, min(2, sessions), env.duration, 10.0)
            for kind, count in window.errors.items():
                curve.error(f"{sessions}:{kind}", count)
            curve.notes += window.error_samples
            rate = window.ok / window.wall_s if window.wall_s else 0.0
            curve.points.append(
                {
                    "sessions": sessions,
                    "calls": window.ok,
                    "calls_per_s": round(rate, 1),
                    "cpu_us_per_call": round(window.gateway_cpu_s / window.ok * 1e6, 1) if window.ok else None,
                    "cpu_sys_share": round(window.gateway_sys_s / window.gateway_cpu_s, 3)
                    if window.gateway_cpu_s
                    else None,
                    "upstream_cpu_us_per_call": round(window.upstream_cpu_s / window.ok * 1e6, 1)
                    if window.ok
                    else None,
                    "p50_ms": ms(percentile(window.latencies, 0.5)),
                    "p99_ms": ms(percentile(window.latencies, 0.99)),
                    "loadgen_cores": round(window.loadgen_cpu_s / window.wall_s, 2) if window.wall_s else None,
                    "machine_busy_cores": round(window.machine.busy / window.window_s, 2) if window.window_s else None,
                    "errors": sum(window.errors.values()),
                }
            )
            print(
                f"    {sessions:>4} sessions: {rate:7.0f} calls/s, {curve.points[-1]['cpu_us_per_call']} us/call",
                flush=True,
            )
        _check_alive(curve, gateway, upstream)
    good = [p for p in curve.points if p["calls"]]
    if len(good) >= 2:
        work = [float(p["sessions"]) for p in good]
        curve.checks.append(check_per_unit("all", "cpu_us_per_call", work, [p["cpu_us_per_call"] for p in good]))
        curve.checks.append(check_total("all", "p50_ms", work, [p["p50_ms"] for p in good]))
        curve.checks.append(check_total("all", "p99_ms", work, [p["p99_ms"] for p in good]))
    return curve


# --- 2. tools -------------------------------------------------------------------------------------------------


def _start_curves_upstream(env: Env) -> tuple[Proc, str]:
    """The cheap many-tools upstream; returns it and its base URL (paths /u/<index>/<tools>/mcp)."""
    port = free_port()
    sizes = ",".join(str(size) for size in RESOURCE_BYTES)
    argv = [sys.executable, "-m", "bench.upstream_curves", "--port", str(port)]
    proc = spawn("upstream-curves", [*argv, "--resource-bytes", sizes], env.log_dir)
    base = f"http://127.0.0.1:{port}"
    _ready(f"{base}/u/0/1/mcp", "echo", proc)
    return proc, base


async def _list_all_tools(session: McpSession) -> tuple[int, int]:
    """Every page of tools/list; (tools, pages)."""
    cursor: str | None = None
    tools = pages = 0
    while True:
        result = await session.request("tools/list", {} if cursor is None else {"cursor": cursor})
        tools += len(result.get("tools", []))
        pages += 1
        next_cursor = result.get("nextCursor")
        if not isinstance(next_cursor, str) or pages > 1000:
            return tools, pages
        cursor = next_cursor


async def _time_tools_list(url: str, repeats: int, budget_s: float) -> dict[str, Any]:
    session = McpSession(url, CALL_TIMEOUT)
    try:
        await session.initialize()
        with gc_paused():
            start = time.perf_counter()
            tools, pages = await _list_all_tools(session)
            first = time.perf_counter() - start
            times: list[float] = []
            deadline = time.perf_counter() + budget_s
            while len(times) < repeats and time.perf_counter() < deadline:
                start = time.perf_counter()
                await _list_all_tools(session)
                times.append(time.perf_counter() - start)
        times.sort()
        return {
            "listed": tools,
            "pages": pages,
            "first_ms": ms(first),
            "list_min_ms": ms(times[0] if times else None),
            "list_ms": ms(percentile(times, 0.5)),
            "list_max_ms": ms(times[-1] if times else None),
            "repeats": len(times),
        }
    finally:
        await session.close()


def curve_tools(env: Env) -> Curve:
    curve = Curve("tools", "Full tools/list latency and gateway RSS vs tools in total, for 1, 10 and 50 upstreams")
    upstream: Proc | None = None
    try:
        upstream, base = _start_curves_upstream(env)
        for upstreams in UPSTREAM_COUNTS:
            for total in TOOL_TOTALS:
                per = total // upstreams
                servers = [(f"u{i}", f"{base}/u/{i}/{per}/mcp") for i in range(upstreams)]
                port = free_port()
                gateway, gw_base = start_gateway(env, f"curve-tools-{upstreams}-{total}", gateway_yaml(port, servers))
                try:
                    ready_s = uvloop.run(wait_health(gw_base, gateway, upstreams, per * upstreams))
                    time.sleep(0.3)
                    rss_ready = rss_mib(gateway.pid)
                    timing = uvloop.run(_time_tools_list(f"{gw_base}/mcp", 30, 3.0))
                    rss_after = rss_mib(gateway.pid)
                    _check_alive(curve, gateway)
                finally:
                    stop(gateway)
                if timing["listed"] != per * upstreams:
                    curve.error("tools_listed_mismatch")
                    curve.notes.append(f"{upstreams} upstreams: listed {timing['listed']} of {per * upstreams} tools")
                curve.points.append(
                    {
                        "upstreams": upstreams,
                        "tools": per * upstreams,
                        "ready_s": round(ready_s, 3),
                        "rss_ready_mib": round(rss_ready, 1),
                        "rss_after_list_mib": round(rss_after, 1),
                        **timing,
                    }
                )
                print(
                    f"    {upstreams:>2} upstreams, {per * upstreams:>5} tools: ready {ready_s:.2f} s, "
                    f"list {timing['list_ms']} ms ({timing['pages']} pages), RSS {rss_after:.1f} MiB",
                    flush=True,
                )
        _check_alive(curve, upstream)
    finally:
        if upstream is not None:
            stop(upstream)
    for upstreams in UPSTREAM_COUNTS:
        series = [p for p in curve.points if p["upstreams"] == upstreams]
        if len(series) >= 2:
            work = [float(p["tools"]) for p in series]
            # Checked on the best of the repeats: listing is deterministic work, and what the machine's other
            # load adds to one listing (the median of a 1,000-tool page ranged 1.9-3.3 ms across runs) read
            # as growth in one series or another from run to run.
            best = [p["list_min_ms"] for p in series]
            curve.checks.append(check_total(f"{upstreams} upstreams", "list_min_ms", work, best))
            rss = [p["rss_after_list_mib"] for p in series]
            curve.checks.append(check_total(f"{upstreams} upstreams", "rss_after_list_mib", work, rss))
    # Upstreams and tools growing together (1 x 100, 10 x 100, 50 x 200 tools): the usual way a setup grows.
    diagonal = [
        p
        for upstreams, total in zip(UPSTREAM_COUNTS, TOOL_TOTALS, strict=True)
        for p in curve.points
        if (p["upstreams"], p["tools"]) == (upstreams, total)
    ]
    if len(diagonal) >= 2:
        work = [float(p["tools"]) for p in diagonal]
        label = "upstreams and tools together"
        curve.checks.append(check_total(label, "ready_s", work, [p["ready_s"] for p in diagonal]))
        curve.checks.append(check_total(label, "rss_after_list_mib", work, [p["rss_after_list_mib"] for p in diagonal]))
    biggest = [p for p in curve.points if p["tools"] == max(TOOL_TOTALS)]
    if len(biggest) >= 2:
        work = [float(p["upstreams"]) for p in biggest]
        label = f"{max(TOOL_TOTALS)} tools, by upstreams"
        curve.checks.append(check_total(label, "list_min_ms", work, [p["list_min_ms"] for p in biggest]))
        curve.checks.append(check_total(label, "ready_s", work, [p["ready_s"] for p in biggest]))
        curve.checks.append(check_total(label, "rss_after_list_mib", work, [p["rss_after_list_mib"] for p in biggest]))
    return curve


# --- 3. idle sessions -----------------------------------------------------------------------------------------


async def _open_sessions(url: str, count: int, concurrency: int = 32) -> tuple[int, dict[str, int]]:
    """`count` sessions, each made by one initialize POST (never used again); (opened, errors by kind)."""
    payload = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": CLIENT_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "idle", "version": "1"},
        },
    }
    body = json.dumps(payload).encode()
    headers = {"Accept": ACCEPT, "Content-Type": "application/json"}
    opened = 0
    errors: dict[str, int] = {}
    remaining = iter(range(count))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=10)) as http:

        async def worker() -> None:
            nonlocal opened
            for _ in remaining:
                try:
                    async with http.post(url, data=body, headers=headers) as response:
                        await response.read()
                        if response.status == 200 and response.headers.get("Mcp-Session-Id"):
                            opened += 1
                        else:
                            errors[f"http_{response.status}"] = errors.get(f"http_{response.status}", 0) + 1
                except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return opened, errors


async def _time_health(base: str, count: int) -> tuple[list[float], int]:
    """`count` sequential GET /health on one connection; (sorted latencies, the sessions /health reports)."""
    times: list[float] = []
    reported = -1
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        with gc_paused():
            for _ in range(count):
                start = time.perf_counter()
                async with http.get(f"{base}/health") as response:
                    document = await response.json()
                times.append(time.perf_counter() - start)
                reported = int(document.get("sessions", -1))
    return sorted(times), reported


def curve_idle(env: Env) -> Curve:
    curve = Curve("idle", "Gateway RSS and /health latency vs idle sessions")
    with stopping() as started:
        upstream, base = _start_curves_upstream(env)
        started.append(upstream)
        port = free_port()
        config = gateway_yaml(port, [("u0", f"{base}/u/0/10/mcp")], sessions=max(IDLE_COUNTS) * 2)
        gateway, gw_base = start_gateway(env, "curve-idle", config)
        started.append(gateway)
        uvloop.run(wait_health(gw_base, gateway, 1, 10))
        uvloop.run(_time_health(gw_base, 20))  # warm-up
        opened_total = 0
        for count in IDLE_COUNTS:
            start = time.perf_counter()
            opened, errors = uvloop.run(_open_sessions(f"{gw_base}/mcp", count - opened_total))
            open_s = time.perf_counter() - start
            opened_total += opened
            for kind, n in errors.items():
                curve.error(f"initialize:{kind}", n)
            time.sleep(0.5)
            rss = rss_mib(gateway.pid)
            times, reported = uvloop.run(_time_health(gw_base, 50))
            if reported != opened_total:
                curve.notes.append(f"/health reported {reported} sessions, {opened_total} were opened")
            curve.points.append(
                {
                    "idle_sessions": opened_total,
                    "health_reported": reported,
                    "rss_mib": round(rss, 1),
                    "health_p50_ms": ms(percentile(times, 0.5)),
                    "health_p99_ms": ms(percentile(times, 0.99)),
                    "initialize_per_s": round((count - (opened_total - opened)) / open_s, 1)
                    if count and open_s
                    else None,
                }
            )
            print(
                f"    {opened_total:>5} idle sessions: RSS {rss:.1f} MiB, /health {curve.points[-1]['health_p50_ms']} ms",
                flush=True,
            )
        _check_alive(curve, gateway, upstream)
    if len(curve.points) >= 2:
        work = [float(p["idle_sessions"]) for p in curve.points]
        curve.checks.append(check_total("all", "rss_mib", work, [p["rss_mib"] for p in curve.points]))
        curve.checks.append(check_total("all", "health_p50_ms", work, [p["health_p50_ms"] for p in curve.points]))
        base_rss = curve.points[0]["rss_mib"]
        for point in curve.points[1:]:
            if point["idle_sessions"]:
                point["kib_per_session"] = round((point["rss_mib"] - base_rss) * 1024 / point["idle_sessions"], 2)
    return curve


# --- 4. resources ---------------------------------------------------------------------------------------------


async def _resource_uris(url: str) -> dict[int, str]:
    """Size -> the URI of that blob, as `url` lists it."""
    session = McpSession(url, CALL_TIMEOUT)
    try:
        await session.initialize()
        result = await session.request("resources/list", {})
        return {int(r["size"]): str(r["uri"]) for r in result.get("resources", []) if "size" in r}
    finally:
        await session.close()


async def _read_load(url: str, uri: str, size: int, sessions: int, duration: float) -> dict[str, Any]:
    """`sessions` sessions reading `uri` in a closed loop for `duration` seconds (in this process)."""
    clients = [McpSession(url, CALL_TIMEOUT) for _ in range(sessions)]
    latencies: list[float] = []
    errors: dict[str, int] = {}
    try:
        await asyncio.gather(*(client.initialize() for client in clients))

        async def drive(client: McpSession, deadline: float) -> None:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                try:
                    result = await client.request("resources/read", {"uri": uri})
                    contents = result.get("contents") or [{}]
                    if len(contents[0].get("text", "")) != size:
                        raise CallError("wrong_size", f"{uri}: {len(contents[0].get('text', ''))} bytes")
                    latencies.append(time.perf_counter() - start)
                except (CallError, aiohttp.ClientError, OSError, TimeoutError) as exc:
                    kind = exc.kind if isinstance(exc, CallError) else type(exc).__name__
                    errors[kind] = errors.get(kind, 0) + 1

        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(drive(client, wall0 + duration) for client in clients))
        wall = time.perf_counter() - wall0
        return {
            "reads": len(latencies),
            "wall_s": wall,
            "loadgen_cores": (time.process_time() - cpu0) / wall,
            "latencies": sorted(latencies),
            "errors": errors,
        }
    finally:
        await asyncio.gather(*(client.close() for client in clients), return_exceptions=True)


def curve_resources(env: Env, sessions: int = 8) -> Curve:
    curve = Curve("resources", f"resources/read throughput, 1 KiB and 1 MiB, gateway vs direct ({sessions} sessions)")
    with stopping() as started:
        upstream, base = _start_curves_upstream(env)
        started.append(upstream)
        port = free_port()
        direct_url = f"{base}/u/0/1/mcp"
        gateway, gw_base = start_gateway(env, "curve-resources", gateway_yaml(port, [("blobs", direct_url)]))
        started.append(gateway)
        uvloop.run(wait_health(gw_base, gateway, 1, 1))
        targets = {"direct": (direct_url, upstream), "mcpstead": (f"{gw_base}/mcp", gateway)}
        duration = max(2.0, env.duration * 0.6)
        for size in RESOURCE_BYTES:
            for target, (url, measured) in targets.items():
                uri = uvloop.run(_resource_uris(url)).get(size)
                if uri is None:
                    curve.error(f"{target}:no_resource_{size}")
                    continue
                gw0, up0 = procstat.usage(gateway.pid).cpu_seconds, procstat.usage(upstream.pid).cpu_seconds
                window = uvloop.run(_read_load(url, uri, size, sessions, duration))
                gw_cpu = procstat.usage(gateway.pid).cpu_seconds - gw0
                up_cpu = procstat.usage(upstream.pid).cpu_seconds - up0
                for kind, n in window["errors"].items():
                    curve.error(f"{target}:{size}:{kind}", n)
                reads, wall = window["reads"], window["wall_s"]
                rate = reads / wall if wall else 0.0
                curve.points.append(
                    {
                        "bytes": size,
                        "target": target,
                        "reads": reads,
                        "reads_per_s": round(rate, 1),
                        "mib_per_s": round(rate * size / MIB, 2),
                        "p50_ms": ms(percentile(window["latencies"], 0.5)),
                        "p99_ms": ms(percentile(window["latencies"], 0.99)),
                        "gateway_cpu_us_per_read": round(gw_cpu / reads * 1e6, 1)
                        if reads and target != "direct"
                        else None,
                        "upstream_cpu_us_per_read": round(up_cpu / reads * 1e6, 1) if reads else None,
                        "loadgen_cores": round(window["loadgen_cores"], 2),
                        "rss_mib": round(rss_mib(measured.pid), 1),
                    }
                )
                print(f"    {size:>7} B {target:>8}: {rate:7.1f} reads/s ({rate * size / MIB:.1f} MiB/s)", flush=True)
        _check_alive(curve, gateway, upstream)
    for point in curve.points:
        if point["loadgen_cores"] >= 0.9:
            curve.notes.append(
                f"{point['bytes']} B {point['target']}: the load generator (this process) used "
                f"{point['loadgen_cores']} cores: client-bound, the target may go faster"
            )
    through = [p for p in curve.points if p["target"] == "mcpstead" and p["reads"]]
    direct = {p["bytes"]: p for p in curve.points if p["target"] == "direct" and p["reads"]}
    for point in through:
        if point["bytes"] in direct:
            point["vs_direct"] = round(point["reads_per_s"] / direct[point["bytes"]]["reads_per_s"], 3)
    if len(through) >= 2:
        work = [float(p["bytes"]) for p in through]
        ms_per_read = [1000 / p["reads_per_s"] for p in through]
        curve.checks.append(check_total("mcpstead", "ms_per_read", work, ms_per_read))
        cpu = [p["gateway_cpu_us_per_read"] for p in through]
        curve.checks.append(check_total("mcpstead", "gateway_cpu_us_per_read", work, cpu))
    return curve


# --- 5. progress relay ----------------------------------------------------------------------------------------


async def _progress_calls(url: str, tool: str, steps: int, calls: int, budget_s: float) -> dict[str, Any]:
    """Sequential calls of the SDK upstream's `sleep` tool (0 s, `steps` progress notifications each)."""
    session = McpSession(url, CALL_TIMEOUT)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    try:
        with gc_paused():
            await session.initialize()
            deadline = time.perf_counter() + budget_s
            for n in range(calls + 20):
                if time.perf_counter() > deadline:
                    break
                payload = {
                    "jsonrpc": "2.0",
                    "id": n + 1,
                    "method": "tools/call",
                    "params": {
                        "name": tool,
                        "arguments": {"seconds": 0, "steps": steps},
                        "_meta": {"progressToken": f"p{n}"},
                    },
                }
                start = time.perf_counter()
                try:
                    async with session.http.post(
                        url, data=json.dumps(payload).encode(), headers=session.headers
                    ) as response:
                        body = await response.read()
                        content_type = response.headers.get("Content-Type", "")
                    elapsed = time.perf_counter() - start
                    answer = parse_answer(content_type, body, n + 1)
                    progress = body.count(b'"notifications/progress"')
                    if response.status != 200 or "result" not in answer:
                        raise CallError("bad_answer", body[:200].decode(errors="replace"))
                    if progress != steps:
                        raise CallError("progress_lost", f"{progress} of {steps} progress notifications")
                except (CallError, ValueError, aiohttp.ClientError, OSError, TimeoutError) as exc:
                    kind = exc.kind if isinstance(exc, CallError) else type(exc).__name__
                    errors[kind] = errors.get(kind, 0) + 1
                    continue
                if n >= 20:
                    latencies.append(elapsed)
            latencies.sort()
            return {"latencies": latencies, "errors": errors}
    finally:
        await session.close()


def curve_progress(env: Env, calls: int = 200) -> Curve:
    curve = Curve("progress", "tools/call with N progress notifications: latency through the gateway vs direct")
    with stopping() as started:
        upstream, url = start_upstream("sdk-sse", env.log_dir)
        started.append(upstream)
        _ready(url, "sleep", upstream)
        gateway_target = start_target("mcpstead", "sdk-sse", upstream, url, env.log_dir, env.src)
        started.append(gateway_target.measured)
        _ready(gateway_target.url, "sdk-sse__sleep", gateway_target.measured)
        targets = {"direct": (url, "sleep"), "mcpstead": (gateway_target.url, "sdk-sse__sleep")}
        for steps in PROGRESS_COUNTS:
            for target, (target_url, tool) in targets.items():
                result = uvloop.run(_progress_calls(target_url, tool, steps, calls, 4.0))
                for kind, n in result["errors"].items():
                    curve.error(f"{target}:{steps}:{kind}", n)
                latencies = result["latencies"]
                curve.points.append(
                    {
                        "notifications": steps,
                        "target": target,
                        "calls": len(latencies),
                        "p50_ms": ms(percentile(latencies, 0.5)),
                        "p99_ms": ms(percentile(latencies, 0.99)),
                    }
                )
            print(
                f"    {steps:>3} notifications: {[(p['target'], p['p50_ms']) for p in curve.points[-2:]]}", flush=True
            )
        _check_alive(curve, gateway_target.measured, upstream)
    direct = {p["notifications"]: p for p in curve.points if p["target"] == "direct" and p["calls"]}
    through = [p for p in curve.points if p["target"] == "mcpstead" and p["calls"] and p["notifications"] in direct]
    for point in through:
        point["overhead_p50_ms"] = round(point["p50_ms"] - direct[point["notifications"]]["p50_ms"], 3)
        point["vs_direct_p50"] = round(point["p50_ms"] / direct[point["notifications"]]["p50_ms"], 3)
    if len(through) >= 2:
        work = [float(p["notifications"]) for p in through]
        curve.checks.append(check_total("mcpstead", "p50_ms", work, [p["p50_ms"] for p in through]))
        curve.checks.append(check_total("mcpstead", "overhead_p50_ms", work, [p["overhead_p50_ms"] for p in through]))
    return curve


# --- output ---------------------------------------------------------------------------------------------------


def markdown_table(points: Sequence[dict[str, Any]]) -> str:
    if not points:
        return "(no points)"
    columns = list(dict.fromkeys(key for point in points for key in point))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for point in points:
        cells = []
        for column in columns:
            value = point.get(column)
            cells.append("-" if value is None else f"{value:g}" if isinstance(value, float) else str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def check_lines(curve: Curve) -> list[str]:
    lines = []
    for check in curve.checks:
        shown = "n/a" if check.value is None else f"{check.value:.2f}"
        what = "exponent" if check.kind == "total" else "rise x"
        verdict = "FASTER THAN LINEAR" if check.superlinear else "ok"
        lines.append(f"{verdict}: {curve.name} [{check.series}] {check.metric}: {what} {shown} ({check.method})")
    return lines


def _series(points: Sequence[dict[str, Any]], key: str, value: Any) -> list[dict[str, Any]]:
    return [p for p in points if p.get(key) == value]


def plot(curve: Curve, path: Path) -> bool:
    """One PNG per curve; False (with a note) when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        curve.notes.append("no plot: matplotlib is not installed (pip install -e '.[bench]')")
        return False
    points = curve.points
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    left, right = axes[0], axes[1]

    def line(ax: Any, rows: Sequence[dict[str, Any]], x: str, y: str, label: str) -> None:
        rows = [r for r in rows if r.get(y) is not None]
        ax.plot([r[x] for r in rows], [r[y] for r in rows], marker="o", label=label)

    plotters: dict[str, Callable[[], None]] = {}

    def sessions() -> None:
        line(left, points, "sessions", "cpu_us_per_call", "gateway CPU us/call")
        left.set(xscale="log", xlabel="concurrent sessions", ylabel="us per call", ylim=(0, None))
        line(right, points, "sessions", "p50_ms", "p50")
        line(right, points, "sessions", "p99_ms", "p99")
        right.set(xscale="log", yscale="log", xlabel="concurrent sessions", ylabel="latency ms")

    def tools() -> None:
        for upstreams in UPSTREAM_COUNTS:
            rows = _series(points, "upstreams", upstreams)
            line(left, rows, "tools", "list_ms", f"{upstreams} upstreams")
            line(right, rows, "tools", "rss_after_list_mib", f"{upstreams} upstreams")
        left.set(xscale="log", yscale="log", xlabel="tools in total", ylabel="full tools/list ms")
        right.set(xscale="log", xlabel="tools in total", ylabel="gateway RSS MiB")

    def idle() -> None:
        line(left, points, "idle_sessions", "rss_mib", "gateway RSS")
        left.set(xlabel="idle sessions", ylabel="MiB")
        line(right, points, "idle_sessions", "health_p50_ms", "/health p50")
        line(right, points, "idle_sessions", "health_p99_ms", "/health p99")
        right.set(xlabel="idle sessions", ylabel="ms")

    def resources() -> None:
        for target in ("direct", "mcpstead"):
            rows = _series(points, "target", target)
            line(left, rows, "bytes", "reads_per_s", target)
            line(right, rows, "bytes", "mib_per_s", target)
        left.set(xscale="log", yscale="log", xlabel="resource bytes", ylabel="reads/s")
        right.set(xscale="log", yscale="log", xlabel="resource bytes", ylabel="MiB/s")

    def progress() -> None:
        for target in ("direct", "mcpstead"):
            rows = _series(points, "target", target)
            line(left, rows, "notifications", "p50_ms", f"{target} p50")
            line(right, rows, "notifications", "p99_ms", f"{target} p99")
        left.set(xlabel="progress notifications per call", ylabel="ms", ylim=(0, None))
        right.set(xlabel="progress notifications per call", ylabel="ms", ylim=(0, None))

    plotters.update(sessions=sessions, tools=tools, idle=idle, resources=resources, progress=progress)
    plotters[curve.name]()
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    flagged = [f"{c.series} {c.metric}" for c in curve.checks if c.superlinear]
    suffix = f"\nfaster than linear: {', '.join(flagged)}" if flagged else ""
    fig.suptitle(curve.title + suffix, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def write(curve: Curve, meta: dict[str, Any], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    document = {**meta, "curve": curve.name, **asdict(curve), "failed": curve.failed}
    (out_dir / f"{curve.name}.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    plot(curve, out_dir / f"{curve.name}.png")


def readme(curves: Sequence[Curve], meta: dict[str, Any]) -> str:
    parts = [
        "# Cost curves",
        "",
        f"`{meta['command']}` at {meta['timestamp']}, {meta['elapsed_s']} s, gateway source fingerprint "
        f"{meta['fingerprint']}. Latencies ms, CPU us, memory MiB. Written by bench/curves.py.",
        "",
    ]
    for curve in curves:
        parts += [f"## {curve.name}: {curve.title}", "", f"![{curve.name}]({curve.name}.png)", ""]
        parts += [markdown_table(curve.points), ""]
        parts += [f"- {line}" for line in check_lines(curve)]
        parts += [f"- note: {note}" for note in curve.notes]
        if curve.errors:
            parts.append(f"- errors: {curve.errors}")
        parts.append("")
    return "\n".join(parts)


# --- main -----------------------------------------------------------------------------------------------------

RUNNERS: dict[str, Callable[[Env], Curve]] = {
    "sessions": curve_sessions,
    "tools": curve_tools,
    "idle": curve_idle,
    "resources": curve_resources,
    "progress": curve_progress,
}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.curves", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default=",".join(CURVES), help="comma-separated: " + ",".join(CURVES))
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per load window (default 8)")
    parser.add_argument("--quick", action="store_true", help="2 s load windows")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="results directory")
    parser.add_argument("--src", type=Path, help="run mcpstead from this copy of the source tree")
    parser.add_argument("--snapshot", action="store_true", help="copy mcpstead/ and tui/ aside first and run that")
    args = parser.parse_args(argv)
    if args.snapshot and args.src:
        parser.error("--snapshot and --src exclude each other")
    unknown = set(args.only.split(",")) - set(CURVES)
    if unknown:
        parser.error(f"unknown curves: {', '.join(sorted(unknown))}")
    if args.quick:
        args.duration = 2.0
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    install_cleanup()
    names = [name for name in CURVES if name in args.only.split(",")]
    curves: list[Curve] = []
    began = time.monotonic()
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    snapshot_dir = tempfile.TemporaryDirectory(prefix="mcpstead-src-") if args.snapshot else None
    try:
        src = snapshot(Path(snapshot_dir.name)) if snapshot_dir is not None else args.src
        meta: dict[str, Any] = {
            "timestamp": stamp,
            "command": " ".join(["python -m bench.curves", *(argv if argv is not None else sys.argv[1:])]),
            "fingerprint": source_fingerprint(src),
            "settings": {"duration": args.duration, "src": str(src) if src else None, "snapshot": args.snapshot},
        }
        with tempfile.TemporaryDirectory(prefix="mcpstead-curves-") as tmp:
            env = Env(Path(tmp), src, args.duration)
            for name in names:
                print(f"[{time.monotonic() - began:5.1f}s] curve {name} ...", flush=True)
                curve_began = time.monotonic()
                try:
                    curve = RUNNERS[name](env)
                except (RuntimeError, throughput.WorkerFailure, OSError, CallError, aiohttp.ClientError) as exc:
                    curve = Curve(name, name)
                    curve.notes.append(f"FAILED: {type(exc).__name__}: {exc}")
                curve.elapsed_s = round(time.monotonic() - curve_began, 1)
                write(curve, meta, args.out)
                curves.append(curve)
    finally:
        stop_all()
        if snapshot_dir is not None:
            snapshot_dir.cleanup()
    meta["elapsed_s"] = round(time.monotonic() - began, 1)
    text = readme(curves, meta)
    print()
    print(text)
    if len(names) == len(CURVES):
        (args.out / "README.md").write_text(text, encoding="utf-8")
    else:
        (args.out / f"README-{'-'.join(names)}.md").write_text(text, encoding="utf-8")
    flagged = [line for curve in curves for line in check_lines(curve) if line.startswith("FASTER")]
    for line in flagged:
        print(line)
    failed = [curve.name for curve in curves if curve.failed]
    print(
        f"\n{'FAILED: ' + ', '.join(failed) if failed else 'ok'}: {len(curves)} curves in {meta['elapsed_s']} s, "
        f"{len(flagged)} faster than linear; results in {args.out}"
    )
    if meta["elapsed_s"] > TIME_BUDGET_S:
        print(f"over budget: the curves took {meta['elapsed_s']} s, more than {TIME_BUDGET_S:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
