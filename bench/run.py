"""Run the benchmark: `python -m bench.run` (full, a few minutes) or `python -m bench.run --quick` (< 60 s).

For each upstream kind (mcp SDK, node server-everything) and each target (direct, mcpstead headless, mcpstead
with the dashboard, FastMCP's proxy): a fresh upstream, then the target, then start-up time, idle RSS,
sequential latency, throughput at N sessions with CPU per call, RSS after load; then both are stopped.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop

from bench import load, procstat, report, throughput
from bench.report import MIB, Row, percentile
from bench.targets import (
    BENCH_DIR,
    REPO_DIR,
    TARGET_KINDS,
    UPSTREAM_KINDS,
    Proc,
    Target,
    install_cleanup,
    node_missing,
    snapshot,
    source_fingerprint,
    start_target,
    start_upstream,
    stop,
    stop_all,
)

READY_TIMEOUT = 30.0
NOISY_OTHER_CORES = 0.2


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer calls, 3 s of load")
    parser.add_argument("--upstreams", default=",".join(UPSTREAM_KINDS), help="comma-separated: sdk,sdk-sse,node")
    parser.add_argument("--targets", default=",".join(TARGET_KINDS), help="comma-separated: " + ",".join(TARGET_KINDS))
    parser.add_argument("--calls", type=int, help="sequential calls for latency (default 500; quick 100)")
    parser.add_argument("--sessions", type=int, default=32, help="concurrent sessions for throughput")
    parser.add_argument("--workers", type=int, default=2, help="load generator processes")
    parser.add_argument("--duration", type=float, help="seconds of load (default 10; quick 3)")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-call timeout, seconds")
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="offered calls/s in all for the throughput windows (default 0: back to back); at a rate every "
        "target can carry, CPU per call compares the targets at equal load instead of at their own saturation",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="load windows per target; the median one by throughput is reported"
    )
    parser.add_argument("--out", type=Path, help="JSON results path (default bench/results/<timestamp>.json)")
    parser.add_argument(
        "--src",
        type=Path,
        help="run mcpstead from this copy of the source tree (a dir with mcpstead/ and tui/) instead of the checkout",
    )
    parser.add_argument(
        "--snapshot",
        action="store_true",
        help="copy the checkout's mcpstead/ and tui/ aside first and run that copy (others may be editing them)",
    )
    parser.add_argument(
        "--curves", action="store_true", help="run the cost curves instead (bench/curves.py; with --quick, --snapshot)"
    )
    args = parser.parse_args()
    if args.snapshot and args.src:
        parser.error("--snapshot and --src exclude each other")
    args.calls = args.calls or (100 if args.quick else 500)
    args.duration = args.duration or (3.0 if args.quick else 10.0)
    args.warmup = 20 if args.quick else 50
    args.settle = 0.3 if args.quick else 1.0
    return args


def _ready(url: str, tool: str, proc: Proc) -> float:
    """Seconds from `proc`'s start until `url` lists `tool`; raises if it never does."""
    if not uvloop.run(load.wait_ready(url, tool, READY_TIMEOUT)):
        code = proc.popen.poll()
        state = f"exited with {code}" if code is not None else "still running"
        raise RuntimeError(f"{proc.name} not serving {tool} after {READY_TIMEOUT:.0f} s ({state}): {proc.log_tail()}")
    return time.monotonic() - proc.started


def _rss_mib(target: Target) -> float:
    exclude = () if target.kind == "direct" else (target.upstream.pid,)
    return procstat.usage(target.measured.pid, exclude).rss_bytes / MIB


def measure_target(row: Row, target: Target, args: argparse.Namespace) -> None:
    """Fill `row` with everything but start-up time, for a target that is already serving."""
    time.sleep(args.settle)
    row.rss_idle_mib = _rss_mib(target)
    tally = uvloop.run(
        load.latency(
            target.url,
            target.tool,
            target.expect_prefix,
            args.calls,
            args.warmup,
            args.timeout,
            modern=target.extra.get("client") == "modern",
        )
    )
    latencies = sorted(tally.latencies)
    row.latency_ok = len(latencies)
    row.p50_ms, row.p99_ms = (_ms(percentile(latencies, f)) for f in (0.5, 0.99))
    for kind, count in tally.errors.items():
        row.errors[f"latency:{kind}"] = count
    row.error_samples += tally.samples
    windows = []
    for _ in range(args.repeat):
        window = throughput.measure(target, args.sessions, args.workers, args.duration, args.timeout, args.rate)
        windows.append(window)
        for kind, count in window.errors.items():
            row.errors[f"load:{kind}"] = row.errors.get(f"load:{kind}", 0) + count
        row.error_samples += window.error_samples
    row.throughput_runs = [round(_rate(window), 1) for window in windows]
    _fill_load(row, target, sorted(windows, key=_rate)[len(windows) // 2])
    row.rss_after_mib = _rss_mib(target)
    for proc in {target.measured.name: target.measured, target.upstream.name: target.upstream}.values():
        if proc.popen.poll() is not None:
            row.notes.append(f"FAILED: {proc.name} exited with {proc.popen.returncode}: {proc.log_tail(500)}")


def _rate(window: throughput.Window) -> float:
    return window.ok / window.wall_s if window.wall_s else 0.0


def _fill_load(row: Row, target: Target, window: throughput.Window) -> None:
    """The load columns from one window (the median one by throughput when repeated)."""
    row.load_ok = window.ok
    row.throughput = _rate(window)
    row.load_p50_ms, row.load_p99_ms = (_ms(percentile(window.latencies, f)) for f in (0.5, 0.99))
    if window.ok:
        row.cpu_us_per_call = window.gateway_cpu_s / window.ok * 1e6
        row.cpu_sys_share = window.gateway_sys_s / window.gateway_cpu_s if window.gateway_cpu_s else None
        row.upstream_cpu_us_per_call = window.upstream_cpu_s / window.ok * 1e6
    row.loadgen_cores = window.loadgen_cpu_s / window.wall_s if window.wall_s else None
    row.loadgen_max_worker_cores = window.loadgen_max_worker_cores
    if window.window_s:
        ours = window.gateway_cpu_s + window.loadgen_cpu_s + (window.upstream_cpu_s if target.kind != "direct" else 0)
        row.machine_busy_cores = window.machine.busy / window.window_s
        row.machine_irq_cores = window.machine.irq / window.window_s
        row.other_cores = (window.machine.busy - window.machine.irq - ours) / window.window_s
        if row.other_cores > NOISY_OTHER_CORES:
            row.notes.append(f"noisy: other processes used {row.other_cores:.2f} cores during the load window")


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def run_one(upstream_kind: str, target_kind: str, args: argparse.Namespace, log_dir: Path) -> Row:
    """A fresh upstream and target; measure; stop both (always)."""
    row = Row(upstream_kind, target_kind, cpu_of="upstream" if target_kind == "direct" else "gateway")
    started: list[Proc] = []
    try:
        upstream, url = start_upstream(upstream_kind, log_dir)
        started.append(upstream)
        upstream_ready = _ready(url, "echo", upstream)
        target = start_target(target_kind, upstream_kind, upstream, url, log_dir, args.src)
        if target.measured is not upstream:
            started.append(target.measured)
            row.start_s = _ready(target.url, target.tool, target.measured)
        else:
            row.start_s = upstream_ready
        measure_target(row, target, args)
    except (RuntimeError, throughput.WorkerFailure, OSError) as exc:
        row.notes.append(f"FAILED: {exc}")
    finally:
        for proc in reversed(started):
            stop(proc)
    return row


def _versions() -> dict[str, Any]:
    versions: dict[str, Any] = {"python": platform.python_version()}
    for package in ("mcpstead", "mcp", "fastmcp", "aiohttp", "uvicorn", "textual"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    try:
        versions["node"] = subprocess.run(
            ["node", "--version"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        versions["node"] = None
    return versions


def _source(src: Path | None) -> dict[str, Any]:
    """Which gateway code is measured: the source dir, its fingerprint, and (read-only) git facts."""
    info: dict[str, Any] = {"dir": str(src or REPO_DIR), "fingerprint": source_fingerprint(src)}
    git = ["git", "--no-optional-locks", "-C", str(REPO_DIR)]
    try:
        info["git_head"] = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
        status = subprocess.run(
            [*git, "status", "--porcelain", "--", "mcpstead", "tui"], capture_output=True, text=True
        )
        info["checkout_uncommitted_files"] = len(status.stdout.splitlines())
    except OSError:
        pass
    return info


def _print_summary(rows: list[Row], notes: list[str]) -> None:
    for note in notes:
        print(f"note: {note}")
    print()
    print(report.table(rows))
    print()
    print("Ratios (a/b; throughput higher is better, latency and CPU lower is better):")
    print(report.ratio_lines(report.ratios(rows)))
    print()
    print("Issue targets:")
    print(report.check_lines(report.checks(rows)))
    for row in rows:
        if row.failed:
            print(f"\nFAILED {row.upstream}/{row.target}: errors {row.errors}")
            for line in row.notes + row.error_samples:
                print(f"  {line}")
        else:
            for line in row.notes:
                print(f"{row.upstream}/{row.target}: {line}")
        if len(row.throughput_runs) > 1:
            print(f"{row.upstream}/{row.target}: calls/s per window {row.throughput_runs}")


def main() -> int:
    args = _parse_args()
    if args.curves:
        from bench import curves

        passed = [*(["--quick"] if args.quick else []), *(["--snapshot"] if args.snapshot else [])]
        return curves.main(passed + (["--src", str(args.src)] if args.src else []))
    install_cleanup()
    snapshot_dir = tempfile.TemporaryDirectory(prefix="mcpstead-src-") if args.snapshot else None
    if snapshot_dir is not None:
        args.src = snapshot(Path(snapshot_dir.name))
    source = {**_source(args.src), "snapshot_of_checkout": args.snapshot}
    print(
        f"gateway source: {source['dir']} (fingerprint {source['fingerprint']}, git {source.get('git_head', '?')[:10]}, "
        f"{source.get('checkout_uncommitted_files', '?')} uncommitted files in the checkout's mcpstead/ tui/)"
    )
    upstreams = [kind for kind in args.upstreams.split(",") if kind]
    notes: list[str] = []
    if args.rate:
        notes.append(
            f"load paced at {args.rate:g} calls/s in all: throughput shows the offered rate, not what a target "
            "can carry; compare CPU per call (the targets' throughput checks do not apply)"
        )
    if "node" in upstreams and (why := node_missing()):
        notes.append(f"node upstream skipped: {why}")
        upstreams.remove("node")
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    rows: list[Row] = []
    began = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="mcpstead-bench-") as tmp:
            for upstream_kind in upstreams:
                for target_kind in (kind for kind in args.targets.split(",") if kind):
                    print(f"[{time.monotonic() - began:5.1f}s] {upstream_kind} / {target_kind} ...", flush=True)
                    rows.append(run_one(upstream_kind, target_kind, args, Path(tmp)))
    finally:
        stop_all()
        if snapshot_dir is not None:
            snapshot_dir.cleanup()
    if not args.snapshot and source_fingerprint(args.src) != source["fingerprint"]:
        notes.append("the gateway's source files changed during the run: rows may measure different code")
    _print_summary(rows, notes)
    failed = any(row.failed for row in rows)
    meta = {
        "timestamp": stamp,
        "command": " ".join(["python -m bench.run", *sys.argv[1:]]),
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "versions": _versions(),
        "source": source,
        "notes": notes,
        "elapsed_s": round(time.monotonic() - began, 1),
        "failed": failed,
    }
    out = args.out or BENCH_DIR / "results" / f"{stamp}{'-quick' if args.quick else ''}.json"
    report.write_json(out, meta, rows)
    print(f"\n{'FAILED' if failed else 'ok'}: results in {out} ({meta['elapsed_s']} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
