"""Throughput under N concurrent sessions, split over load worker processes, with CPU measured over the window.

The window starts just before `go` is sent to the workers (their sessions are already initialized) and ends when
every worker has reported, so the gateway's CPU delta covers exactly the calls counted (plus a few idle ms).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import procstat
from bench.targets import REPO_DIR, Target, die_with_parent


class WorkerFailure(Exception):
    pass


@dataclass(frozen=True)
class Window:
    """What one load window measured."""

    ok: int
    errors: dict[str, int]
    error_samples: list[str]
    wall_s: float
    latencies: list[float]
    gateway_cpu_s: float
    gateway_sys_s: float
    upstream_cpu_s: float
    loadgen_cpu_s: float
    loadgen_max_worker_cores: float
    machine: procstat.MachineCpu
    """All cores, all processes (other people's too): shows whether the machine itself was the ceiling."""
    window_s: float


def _read_line(proc: subprocess.Popen[str], deadline: float) -> dict[str, Any]:
    assert proc.stdout is not None
    remaining = deadline - time.monotonic()
    ready, _, _ = select.select([proc.stdout], [], [], max(0.0, remaining))
    if not ready:
        raise WorkerFailure(f"load worker {proc.pid} did not answer in time")
    line = proc.stdout.readline()
    if not line:
        raise WorkerFailure(f"load worker {proc.pid} exited (code {proc.wait()})")
    parsed: dict[str, Any] = json.loads(line)
    return parsed


def _split(sessions: int, workers: int) -> list[int]:
    return [sessions // workers + (1 if i < sessions % workers else 0) for i in range(workers) if i < sessions]


def measure(target: Target, sessions: int, workers: int, duration: float, timeout: float, rate: float = 0.0) -> Window:
    """Drive `sessions` sessions over `workers` processes for `duration` seconds against `target`, back to
    back, or offering `rate` calls/s in all (shared among the workers by their sessions)."""
    procs: list[subprocess.Popen[str]] = []
    results_dir = tempfile.TemporaryDirectory(prefix="mcpstead-load-")
    result_files: list[Path] = []
    try:
        for index, count in enumerate(_split(sessions, workers)):
            result_files.append(Path(results_dir.name) / f"worker-{index}.json")
            argv = [sys.executable, "-m", "bench.load", "--url", target.url, "--tool", target.tool]
            argv += ["--prefix", target.expect_prefix, "--sessions", str(count), "--duration", str(duration)]
            argv += ["--timeout", str(timeout), "--worker", str(index), "--result", str(result_files[-1])]
            if rate:
                argv += ["--rate", str(rate * count / sessions)]
            if target.extra.get("client") == "modern":
                argv.append("--modern")
            procs.append(
                subprocess.Popen(
                    argv,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    cwd=REPO_DIR,
                    start_new_session=True,
                    preexec_fn=die_with_parent,
                )
            )
        deadline = time.monotonic() + 30
        for proc in procs:
            _read_line(proc, deadline)  # {"ready": n}; sessions that failed to initialize are in its errors
        gateway_pid, upstream_pid = target.measured.pid, target.upstream.pid
        exclude = () if target.kind == "direct" else (upstream_pid,)
        gateway0 = procstat.usage(gateway_pid, exclude)
        upstream0 = procstat.usage(upstream_pid).cpu_seconds
        machine0, window0 = procstat.machine_cpu(), time.monotonic()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        deadline = time.monotonic() + duration + timeout + 15
        for proc in procs:
            _read_line(proc, deadline)  # {"done": true} once its result file is written
        results = [json.loads(path.read_text()) for path in result_files]
        gateway1 = procstat.usage(gateway_pid, exclude)
        upstream_cpu = procstat.usage(upstream_pid).cpu_seconds - upstream0
        machine, window = procstat.machine_cpu() - machine0, time.monotonic() - window0
    finally:
        for proc in procs:
            _end(proc)
        results_dir.cleanup()
    errors: dict[str, int] = {}
    for result in results:
        for kind, count in result["errors"].items():
            errors[kind] = errors.get(kind, 0) + count
    return Window(
        ok=sum(result["ok"] for result in results),
        errors=errors,
        error_samples=[sample for result in results for sample in result["error_samples"]],
        wall_s=max(result["wall_s"] for result in results),
        latencies=sorted(x for result in results for x in result["latencies"]),
        gateway_cpu_s=gateway1.cpu_seconds - gateway0.cpu_seconds,
        gateway_sys_s=gateway1.system_seconds - gateway0.system_seconds,
        upstream_cpu_s=upstream_cpu,
        loadgen_cpu_s=sum(result["cpu_s"] for result in results),
        loadgen_max_worker_cores=max(result["cpu_s"] / result["wall_s"] for result in results),
        machine=machine,
        window_s=window,
    )


def _end(proc: subprocess.Popen[str]) -> None:
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
