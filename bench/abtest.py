"""Before/after of two mcpstead source trees, interleaved window by window: `python -m bench.abtest --a DIR --b DIR`.

For each upstream kind, one upstream and both gateways (headless, or `--target mcpstead-tui` with the dashboard,
`mcpstead-tui-capture` with capture too; each with its own `--src` tree) run side by side; load windows then rotate direct, a, b / direct, b, a / ... against them, so machine drift (other people's
processes on a shared box) lands on both trees alike. Every window is recorded (calls/s, gateway and upstream
CPU per call, busy "other" cores), and each round adds a sequential-latency p50 per target. The summary gives
medians over all windows and over the quiet ones (other cores below --quiet), and ratios b/a.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import uvloop

from bench import load, throughput
from bench.report import percentile
from bench.targets import (
    BENCH_DIR,
    UPSTREAM_KINDS,
    Target,
    install_cleanup,
    source_fingerprint,
    start_target,
    start_upstream,
    stop_all,
)


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.abtest", description=__doc__)
    parser.add_argument("--a", type=Path, required=True, help="source tree (mcpstead/, tui/) for 'a' (before)")
    parser.add_argument("--b", type=Path, required=True, help="source tree for 'b' (after)")
    parser.add_argument("--upstreams", default=",".join(UPSTREAM_KINDS))
    parser.add_argument(
        "--target", default="mcpstead", choices=("mcpstead", "mcpstead-tui", "mcpstead-tui-capture"), help="how a/b run"
    )
    parser.add_argument("--rounds", type=int, default=4, help="rounds of (direct, a, b) windows, order alternating")
    parser.add_argument("--sessions", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument(
        "--rate", type=float, default=0.0, help="offered calls/s in all (0: back to back); compares CPU at equal load"
    )
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--calls", type=int, default=300, help="sequential calls per latency sample")
    parser.add_argument("--quiet", type=float, default=0.2, help="'other' cores below which a window is quiet")
    parser.add_argument("--out", type=Path)
    return parser.parse_args()


def _ready(target: Target) -> None:
    if not uvloop.run(load.wait_ready(target.url, target.tool, 30.0)):
        raise RuntimeError(f"{target.measured.name} not ready: {target.measured.log_tail()}")


def _window(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    w = throughput.measure(target, args.sessions, args.workers, args.duration, args.timeout, args.rate)
    ours = w.gateway_cpu_s + w.loadgen_cpu_s + (w.upstream_cpu_s if target.kind != "direct" else 0)
    return {
        "ok": w.ok,
        "errors": w.errors,
        "calls_s": w.ok / w.wall_s if w.wall_s else 0.0,
        "cpu_us": w.gateway_cpu_s / w.ok * 1e6 if w.ok else None,
        "upstream_cpu_us": w.upstream_cpu_s / w.ok * 1e6 if w.ok else None,
        "load_p50_ms": (percentile(w.latencies, 0.5) or 0) * 1000,
        "other_cores": (w.machine.busy - w.machine.irq - ours) / w.window_s if w.window_s else None,
    }


def _latency_p50(target: Target, args: argparse.Namespace) -> tuple[float | None, dict[str, int]]:
    tally = uvloop.run(load.latency(target.url, target.tool, target.expect_prefix, args.calls, 30, args.timeout))
    p50 = percentile(sorted(tally.latencies), 0.5)
    return (None if p50 is None else p50 * 1000), dict(tally.errors)


def _med(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _any(window: dict[str, Any]) -> bool:
    return True


def _summary(windows: list[dict[str, Any]], quiet: float) -> dict[str, Any]:
    out: dict[str, Any] = {}

    def _quiet(window: dict[str, Any]) -> bool:
        return bool((window["other_cores"] or 0) < quiet)

    for subset, keep in (("all", _any), ("quiet", _quiet)):
        per: dict[str, dict[str, Any]] = {}
        for name in ("direct", "a", "b"):
            ws = [w for w in windows if w["target"] == name and keep(w)]
            per[name] = {
                "windows": len(ws),
                "calls_s": _med([w["calls_s"] for w in ws]),
                "cpu_us": _med([w["cpu_us"] for w in ws]),
                "upstream_cpu_us": _med([w["upstream_cpu_us"] for w in ws]),
                "errors": sum(sum(w["errors"].values()) for w in ws),
            }
        # Throughput against direct: each gateway window over the direct window of the same round.
        direct_of = {w["round"]: w["calls_s"] for w in windows if w["target"] == "direct"}
        for name in ("a", "b"):
            ratios = [
                w["calls_s"] / direct_of[w["round"]]
                for w in windows
                if w["target"] == name and keep(w) and direct_of.get(w["round"])
            ]
            per[name]["throughput_ratio_direct"] = _med(ratios)
        out[subset] = per
    return out


def main() -> int:
    args = _parse_args()
    install_cleanup()
    sources = {"a": args.a.resolve(), "b": args.b.resolve()}
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    result: dict[str, Any] = {
        "timestamp": stamp,
        "settings": {k: str(v) for k, v in vars(args).items()},
        "sources": {k: {"dir": str(v), "fingerprint": source_fingerprint(v)} for k, v in sources.items()},
        "upstreams": {},
    }
    failed = False
    began = time.monotonic()
    try:
        for kind in (k for k in args.upstreams.split(",") if k):
            with tempfile.TemporaryDirectory(prefix="mcpstead-ab-") as tmp:
                root = Path(tmp)
                upstream, url = start_upstream(kind, root)
                targets: dict[str, Target] = {"direct": start_target("direct", kind, upstream, url, root)}
                _ready(targets["direct"])
                for name, src in sources.items():
                    (root / name).mkdir()  # own config and log per gateway (the config is watched)
                    targets[name] = start_target(args.target, kind, upstream, url, root / name, src)
                for target in targets.values():
                    _ready(target)
                windows: list[dict[str, Any]] = []
                latency: dict[str, list[float]] = {"direct": [], "a": [], "b": []}
                for rnd in range(args.rounds):
                    order = ("direct", "a", "b") if rnd % 2 == 0 else ("direct", "b", "a")
                    for name in order:
                        p50, lat_errors = _latency_p50(targets[name], args)
                        if p50 is not None:
                            latency[name].append(p50)
                        w = {"round": rnd, "target": name, **_window(targets[name], args)}
                        w["errors"] = {**w["errors"], **{f"latency:{k}": v for k, v in lat_errors.items()}}
                        failed |= bool(w["errors"])
                        windows.append(w)
                        print(
                            f"[{time.monotonic() - began:6.1f}s] {kind} r{rnd} {name:6} {w['calls_s']:7.1f} calls/s "
                            f"cpu {w['cpu_us']:6.0f} us/call  upstream {w['upstream_cpu_us']:6.0f}  "
                            f"seq p50 {p50 or 0:.3f} ms  other {w['other_cores']:.2f}  errors {w['errors']}",
                            flush=True,
                        )
                for name, target in targets.items():
                    if target.measured.popen.poll() is not None:
                        failed = True
                        print(f"FAILED: {name} exited: {target.measured.log_tail(500)}")
                summary = _summary(windows, args.quiet)
                p50s = {name: _med(values) for name, values in latency.items()}
                direct_p50 = p50s["direct"]
                for name in ("a", "b"):
                    p50 = p50s[name]
                    for subset in summary.values():
                        subset[name]["p50_ratio_direct"] = p50 / direct_p50 if p50 and direct_p50 else None
                result["upstreams"][kind] = {
                    "windows": windows,
                    "seq_p50_ms": latency,
                    "seq_p50_ms_median": p50s,
                    "summary": summary,
                }
                stop_all()
                print(json.dumps({kind: summary, "seq_p50_ms_median": p50s}, indent=1))
    finally:
        stop_all()
    result["failed"] = failed
    result["elapsed_s"] = round(time.monotonic() - began, 1)
    out = args.out or BENCH_DIR / "results" / f"{stamp}-abtest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"{'FAILED' if failed else 'ok'}: results in {out} ({result['elapsed_s']} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
