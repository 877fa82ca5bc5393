"""Rows, the printed table, the ratios, the issue's targets, and the JSON results file."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MIB = 1024 * 1024


@dataclass
class Row:
    """Everything measured for one upstream kind x target. Times in ms, CPU in us per call, memory in MiB."""

    upstream: str
    target: str
    start_s: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    latency_ok: int = 0
    throughput: float | None = None
    throughput_runs: list[float] = field(default_factory=list)
    """Every load window's calls/s when repeated; the row shows the median window."""
    load_ok: int = 0
    load_p50_ms: float | None = None
    load_p99_ms: float | None = None
    cpu_us_per_call: float | None = None
    cpu_sys_share: float | None = None
    """The kernel's share (stime) of that CPU: socket calls, which on loopback include the peer's TCP receive."""
    cpu_of: str = "gateway"
    """`gateway`, or `upstream` on direct rows (no gateway there: the upstream's own numbers)."""
    upstream_cpu_us_per_call: float | None = None
    rss_idle_mib: float | None = None
    rss_after_mib: float | None = None
    loadgen_cores: float | None = None
    loadgen_max_worker_cores: float | None = None
    machine_busy_cores: float | None = None
    """Busy cores on the whole machine during the load window (all processes, kernel included)."""
    machine_irq_cores: float | None = None
    """Of which interrupts and softirqs (loopback TCP is mostly here)."""
    other_cores: float | None = None
    """Busy cores not accounted for by the gateway, upstream, load workers or irqs: other processes (noise)."""
    errors: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.errors) or any(note.startswith("FAILED") for note in self.notes)


def percentile(sorted_values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile of an already sorted sequence."""
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(fraction * len(sorted_values)) - 1)]


def _fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return "-" if value is None else format(value, spec) + suffix


COLUMNS = (
    ("upstream", "upstream"),
    ("target", "target"),
    ("start s", "start"),
    ("p50 ms", "p50"),
    ("p99 ms", "p99"),
    ("calls/s", "tput"),
    ("errors", "errors"),
    ("load p50/p99 ms", "loadlat"),
    ("CPU us/call", "cpu"),
    ("upstream us/call", "ucpu"),
    ("RSS idle/after MiB", "rss"),
    ("loadgen cores", "loadgen"),
    ("machine busy (irq, other)", "machine"),
)


def _cells(row: Row) -> dict[str, str]:
    cpu = f"{_fmt(row.cpu_us_per_call, '.0f')} (sys {_fmt(row.cpu_sys_share, '.0%')})"
    cpu += " (upstream)" if row.cpu_of == "upstream" else ""
    rss = f"{_fmt(row.rss_idle_mib, '.1f')} / {_fmt(row.rss_after_mib, '.1f')}"
    if row.cpu_of == "upstream":
        rss += " (upstream)"
    return {
        "upstream": row.upstream,
        "target": row.target,
        "start": _fmt(row.start_s, ".2f"),
        "p50": _fmt(row.p50_ms, ".3f"),
        "p99": _fmt(row.p99_ms, ".3f"),
        "tput": _fmt(row.throughput, ".0f"),
        "errors": str(sum(row.errors.values())) if row.errors else "0",
        "loadlat": f"{_fmt(row.load_p50_ms, '.2f')} / {_fmt(row.load_p99_ms, '.2f')}",
        "cpu": cpu,
        "ucpu": _fmt(row.upstream_cpu_us_per_call, ".0f"),
        "rss": rss,
        "loadgen": f"{_fmt(row.loadgen_cores, '.2f')} (max {_fmt(row.loadgen_max_worker_cores, '.2f')})",
        "machine": f"{_fmt(row.machine_busy_cores, '.2f')}/{os.cpu_count()} "
        f"({_fmt(row.machine_irq_cores, '.2f')}, {_fmt(row.other_cores, '.2f')})",
    }


def table(rows: Sequence[Row]) -> str:
    cells = [_cells(row) for row in rows]
    widths = {key: max([len(title)] + [len(c[key]) for c in cells]) for title, key in COLUMNS}
    lines = ["  ".join(title.ljust(widths[key]) for title, key in COLUMNS)]
    lines.append("  ".join("-" * widths[key] for _, key in COLUMNS))
    lines += ["  ".join(c[key].ljust(widths[key]) for _, key in COLUMNS) for c in cells]
    return "\n".join(lines)


def _find(rows: Sequence[Row], upstream: str, target: str) -> Row | None:
    return next((row for row in rows if row.upstream == upstream and row.target == target), None)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def ratios(rows: Sequence[Row]) -> dict[str, dict[str, float | None]]:
    """Per upstream kind: mcpstead/direct, mcpstead/fastmcp, dashboard/headless and capture/dashboard."""
    out: dict[str, dict[str, float | None]] = {}
    for upstream in dict.fromkeys(row.upstream for row in rows):
        gw, direct = _find(rows, upstream, "mcpstead"), _find(rows, upstream, "direct")
        peer, tui = _find(rows, upstream, "fastmcp"), _find(rows, upstream, "mcpstead-tui")
        captured = _find(rows, upstream, "mcpstead-tui-capture")
        pairs: dict[str, tuple[Row | None, Row | None]] = {
            "mcpstead/direct": (gw, direct),
            "mcpstead/fastmcp": (gw, peer),
            "dashboard/headless": (tui, gw),
            "capture/dashboard": (captured, tui),
        }
        for name, (a, b) in pairs.items():
            if a is None or b is None:
                continue
            out[f"{upstream}: {name}"] = {
                "throughput": _ratio(a.throughput, b.throughput),
                "p50": _ratio(a.p50_ms, b.p50_ms),
                "p99": _ratio(a.p99_ms, b.p99_ms),
                "cpu_per_call": _ratio(a.cpu_us_per_call, b.cpu_us_per_call),
            }
    return out


def ratio_lines(table_ratios: dict[str, dict[str, float | None]]) -> str:
    lines = []
    for name, values in table_ratios.items():
        parts = [f"{key} {_fmt(value, '.2f', 'x')}" for key, value in values.items()]
        note = "  (direct CPU is the upstream's own)" if name.endswith("mcpstead/direct") else ""
        lines.append(f"{name:<28} " + "  ".join(parts) + note)
    return "\n".join(lines)


def checks(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """The performance issue's targets (issue 15), each with the measured value and PASS/MISS (or n/a)."""
    found: list[dict[str, Any]] = []

    def check(name: str, value: float | None, limit: float, at_most: bool) -> None:
        met = value is not None and (value <= limit if at_most else value >= limit)
        verdict = "n/a" if value is None else "PASS" if met else "MISS"
        found.append({"check": name, "value": value, "limit": limit, "at_most": at_most, "verdict": verdict})

    for upstream in dict.fromkeys(row.upstream for row in rows):
        gw = _find(rows, upstream, "mcpstead")
        if gw is None:
            continue
        direct, peer = _find(rows, upstream, "direct"), _find(rows, upstream, "fastmcp")
        tui, captured = _find(rows, upstream, "mcpstead-tui"), _find(rows, upstream, "mcpstead-tui-capture")
        check(f"{upstream}: gateway CPU per call (us)", gw.cpu_us_per_call, 200, True)
        if direct is not None:
            check(f"{upstream}: throughput / direct", _ratio(gw.throughput, direct.throughput), 0.85, False)
        if peer is not None:
            check(f"{upstream}: throughput / FastMCP proxy", _ratio(gw.throughput, peer.throughput), 2.4, False)
        if upstream == "sdk" and direct is not None:
            check(f"{upstream}: p50 / direct", _ratio(gw.p50_ms, direct.p50_ms), 1.3, True)
        if tui is not None:
            check(f"{upstream}: dashboard throughput / headless", _ratio(tui.throughput, gw.throughput), 0.9, False)
        if captured is not None:
            check(f"{upstream}: capture throughput / headless", _ratio(captured.throughput, gw.throughput), 0.9, False)
        check(f"{upstream}: idle RSS headless (MiB)", gw.rss_idle_mib, 45, True)
        check(f"{upstream}: start to serving tools/list (s)", gw.start_s, 0.3, True)
    json_row, sse_row = _find(rows, "sdk", "mcpstead"), _find(rows, "sdk-sse", "mcpstead")
    if json_row is not None and sse_row is not None:
        cost = None
        if json_row.cpu_us_per_call is not None and sse_row.cpu_us_per_call is not None:
            cost = sse_row.cpu_us_per_call - json_row.cpu_us_per_call
        check("SSE answers - JSON answers: CPU per call (us)", cost, 25, True)
    return found


def check_lines(found: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{item['verdict']:<4}  {item['check']:<45} {_fmt(item['value'], '.3g'):>8}  "
        f"({'<=' if item['at_most'] else '>='} {item['limit']})"
        for item in found
    )


def write_json(path: Path, meta: dict[str, Any], rows: Sequence[Row]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        **meta,
        "rows": [{**asdict(row), "failed": row.failed} for row in rows],
        "ratios": ratios(rows),
        "checks": checks(rows),
    }
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
