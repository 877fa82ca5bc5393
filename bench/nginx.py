"""Calls per second through nginx (the shipped deploy/nginx/mcpstead.conf) with one mcpstead instance and with two.

    python -m bench.nginx                  # ~1 min: four load windows of 10 s
    python -m bench.nginx --duration 5     # shorter windows

One `bench.upstream_sdk` upstream (the `sdk` upstream of bench.run) serves every instance, as a team's shared
upstreams would. Rows, each one window of 32 sessions in 2 load worker processes (bench.throughput):

- `1 instance, direct`: the instance's own port, no nginx (what nginx costs is the difference);
- `nginx -> 1 instance`: both of the config's instance ports name the one instance;
- `nginx -> 2 instances`: 2025-era sessions, round-robined at `initialize`, then sticky;
- `nginx -> 2, 2026 clients`: no session, every call round-robined.

CPU per call is summed over the instances, nginx (master and worker) and the upstream, each over the
window plus the load workers' session set-up. On 2 cores these processes and the load workers share the same
two cores, so a second instance cannot add throughput there: the ratio shows the CPU limit, not the design.
Results: `bench/results/<timestamp>-nginx.json`. Exit code 1 when any call failed or any process died.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import procstat, throughput
from bench.report import percentile
from bench.targets import BENCH_DIR, Proc, Target, install_cleanup, start_upstream, stop
from tests.deploy.nginx_harness import Cluster, nginx_binary, start_cluster


@dataclass
class NginxRow:
    label: str
    instances: int
    via_nginx: bool
    client: str
    calls_per_s: float = 0.0
    ok: int = 0
    p50_ms: float | None = None
    p99_ms: float | None = None
    errors: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    calls_per_instance: dict[str, int] = field(default_factory=dict)
    """Tool calls each instance forwarded during the window (from its /health)."""
    cpu_us_per_call: dict[str, float] = field(default_factory=dict)
    """instances (summed), nginx, upstream."""
    machine_busy_cores: float | None = None
    loadgen_cores: float | None = None


def _proc(name: str, popen: Any, log: Path) -> Proc:
    return Proc(name, popen, time.monotonic(), log)


def _cpu(pid: int) -> float:
    return procstat.usage(pid).cpu_seconds


def _measure(
    row: NginxRow, cluster: Cluster, upstream: Proc, url: str, args: argparse.Namespace, modern: bool
) -> NginxRow:
    instance_a = cluster.instances["a"]
    measured = _proc("mcpstead-a", instance_a.popen, instance_a.log)
    target = Target("sdk", "mcpstead", url, "sdk__echo", "", measured, upstream, {"client": "modern" if modern else ""})
    assert cluster.nginx is not None
    pids = {"instances": [i.popen.pid for i in cluster.instances.values()], "nginx": [cluster.nginx.popen.pid]}
    pids["upstream"] = [upstream.pid]
    calls0 = {name: instance.calls() for name, instance in cluster.instances.items()}
    cpu0 = {kind: sum(_cpu(pid) for pid in group) for kind, group in pids.items()}
    window = throughput.measure(target, args.sessions, args.workers, args.duration, args.timeout)
    cpu1 = {kind: sum(_cpu(pid) for pid in group) for kind, group in pids.items()}
    row.calls_per_instance = {name: instance.calls() - calls0[name] for name, instance in cluster.instances.items()}
    row.ok = window.ok
    row.calls_per_s = round(window.ok / window.wall_s, 1) if window.wall_s else 0.0
    p50, p99 = (percentile(window.latencies, f) for f in (0.5, 0.99))
    row.p50_ms = None if p50 is None else round(p50 * 1000, 2)
    row.p99_ms = None if p99 is None else round(p99 * 1000, 2)
    row.errors, row.error_samples = window.errors, window.error_samples
    if window.ok:
        row.cpu_us_per_call = {kind: round((cpu1[kind] - cpu0[kind]) / window.ok * 1e6, 1) for kind in pids}
    row.machine_busy_cores = round(window.machine.busy / window.window_s, 2) if window.window_s else None
    row.loadgen_cores = round(window.loadgen_cpu_s / window.wall_s, 2) if window.wall_s else None
    return row


def _print(rows: list[NginxRow]) -> None:
    header = f"{'target':<26} {'calls/s':>8} {'vs 1':>5} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}  "
    header += f"{'per instance':<16} {'CPU us/call: mcpstead, nginx, upstream':<38} {'busy cores':>10}"
    print(header)
    base = next((row.calls_per_s for row in rows if row.label == "nginx -> 1 instance"), None)
    for row in rows:
        ratio = f"{row.calls_per_s / base:.2f}" if base else "-"
        spread = "/".join(str(n) for n in row.calls_per_instance.values())
        cpu = ", ".join(f"{row.cpu_us_per_call.get(kind, 0):.0f}" for kind in ("instances", "nginx", "upstream"))
        print(
            f"{row.label:<26} {row.calls_per_s:>8.0f} {ratio:>5} {row.p50_ms or 0:>7.2f} {row.p99_ms or 0:>7.2f} "
            f"{sum(row.errors.values()):>6}  {spread:<16} {cpu:<38} {row.machine_busy_cores or 0:>10.2f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per load window")
    parser.add_argument("--sessions", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=10.0, help="per call, seconds")
    parser.add_argument("--out", type=Path, help="JSON results path (default bench/results/<timestamp>-nginx.json)")
    args = parser.parse_args()
    binary = nginx_binary()
    if binary is None:
        print("nginx is not installed (apt-get install nginx)")
        return 1
    install_cleanup()
    started = time.monotonic()
    rows: list[NginxRow] = []
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mcpstead-bench-nginx-") as tmp:
        directory = Path(tmp)
        upstream, upstream_url = start_upstream("sdk", directory)
        servers = f"servers:\n  - name: sdk\n    url: {upstream_url}\n    protocol: streamable\n"
        try:
            for count in (1, 2):
                cluster = start_cluster(binary, directory / f"cluster-{count}", count, servers)
                try:
                    if count == 1:
                        direct = f"{cluster.instances['a'].base}/mcp"
                        rows.append(
                            _measure(
                                NginxRow("1 instance, direct", 1, False, "2025"), cluster, upstream, direct, args, False
                            )
                        )
                        rows.append(
                            _measure(
                                NginxRow("nginx -> 1 instance", 1, True, "2025"),
                                cluster,
                                upstream,
                                cluster.url,
                                args,
                                False,
                            )
                        )
                    else:
                        rows.append(
                            _measure(
                                NginxRow("nginx -> 2 instances", 2, True, "2025"),
                                cluster,
                                upstream,
                                cluster.url,
                                args,
                                False,
                            )
                        )
                        rows.append(
                            _measure(
                                NginxRow("nginx -> 2, 2026 clients", 2, True, "2026-07-28"),
                                cluster,
                                upstream,
                                cluster.url,
                                args,
                                True,
                            )
                        )
                    for instance in cluster.instances.values():
                        if instance.popen.poll() is not None:
                            failed.append(f"instance {instance.instance_id} exited with {instance.popen.returncode}")
                finally:
                    cluster.stop()
        except (RuntimeError, throughput.WorkerFailure, OSError) as exc:
            failed.append(str(exc))
        finally:
            stop(upstream)
    failed += [f"{row.label}: {row.errors}" for row in rows if row.errors]
    _print(rows)
    two = next((row for row in rows if row.label == "nginx -> 2 instances"), None)
    one = next((row for row in rows if row.label == "nginx -> 1 instance"), None)
    if one and two and one.calls_per_s:
        print(
            f"\n2 instances / 1 instance through nginx: {two.calls_per_s / one.calls_per_s:.2f}x on {os.cpu_count()} cores"
        )
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or BENCH_DIR / "results" / f"{stamp}-nginx.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "cores": os.cpu_count(),
        "elapsed_s": round(time.monotonic() - started, 1),
        "args": vars(args) | {"out": str(out)},
    }
    out.write_text(json.dumps({"meta": meta, "rows": [asdict(row) for row in rows], "failed": failed}, indent=2))
    print(f"\n{'FAILED: ' + '; '.join(failed) if failed else 'ok'}: results in {out} ({meta['elapsed_s']} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
