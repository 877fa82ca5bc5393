"""The soak: headless mcpstead under steady load while its upstreams die and its config changes, watched for leaks.

    python -m bench.soak                   # 10 minutes
    python -m bench.soak --minutes 3       # the CI-sized variant
    python -m bench.soak --seconds 60      # what .ci/run runs

64 sessions call tools in a closed loop (echo on an HTTP upstream and a stdio one, calls with progress, calls
cancelled half-way, calls to a server that comes and goes). Meanwhile the HTTP upstream is killed (SIGKILL)
and restarted on the same port every 20 s, the stdio child crashes every 30 s (its `crash` tool), and every
15 s a reload adds or removes the server `extra`.

Every call sent must get exactly one answer: a result, or a JSON-RPC error with a code and a message. Lost
(no answer within the call's timeout plus a margin), duplicated answers, HTTP 500s and any other failure are
counted, as are progress notifications.

Every `--sample-seconds` (at 70% into each interval, clear of the faults' schedule) the gateway's RSS, open
fds (all, and apart from established TCP connections, which come and go with keep-alive), threads, child
processes (and zombies among them) and asyncio tasks (`mcpstead_event_loop_tasks`) are
sampled at a quiet moment: the sessions hold their next call until the calls in flight have ended and the
upstreams are connected (each wait bounded), so that in-flight work neither hides a leak nor fakes one.
Once warm they must stay flat: over the last half of the run, the median of its last third may exceed the
median of its first third by under 5% (for counts under 20, by at most one). Samples taken with the server
`extra` configured are compared with each other, and those without it with each other, since its child and
pipes are expected to come and go.

Writes `bench/results/<timestamp>-soak.json` and, with matplotlib installed, a `.png` plot beside it. The
exit code is 1 when any property fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench import procstat
from bench.client import ACCEPT, CLIENT_VERSION
from bench.targets import BENCH_DIR, VENV_BIN, Proc, free_port, install_cleanup, spawn, stop, stop_all

RESULTS_DIR = BENCH_DIR / "results"
CALL_TIMEOUT = 10.0
"""The gateway's per-call timeout for both upstreams; the client waits this plus LOST_MARGIN."""
LOST_MARGIN = 5.0
FLAT_TOLERANCE = 0.05
SMALL_COUNT = 20


@dataclass
class Tally:
    """What came back for the calls sent."""

    sent: int = 0
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    """Clear JSON-RPC errors, by code and the gist of the message."""
    failures: Counter[str] = field(default_factory=Counter)
    """Everything that breaks the promise: lost, duplicated, http_500, other statuses, unclear errors..."""
    progress: int = 0
    cancelled: int = 0

    def error_bucket(self, error: Any) -> str | None:
        """The bucket of a clear error (int code, non-empty message), or None when it is not one."""
        if not isinstance(error, dict) or type(error.get("code")) is not int:
            return None
        message = error.get("message")
        if not isinstance(message, str) or not message:
            return None
        gist = re.sub(r"\d+(\.\d+)?", "N", message.split(":")[0])
        return f"{error['code']} {gist[:70]}"


@dataclass
class Sample:
    seconds: float
    rss_mb: float
    fds: int
    fds_apart_from_connections: int
    """Open fds minus the established TCP connections to clients and to the HTTP upstream, which come and go
    with keep-alive; what is left (pipes, listeners, half-closed sockets...) is where a leak shows."""
    threads: int
    children: int
    zombies: list[int]
    tasks: int
    answered: int
    extra_on: bool
    quiet: bool
    """The calls in flight had ended and every upstream was connected when the sample was taken."""


@dataclass
class Soak:
    args: argparse.Namespace
    config_path: Path
    gateway_port: int
    upstream_port: int
    log_dir: Path
    tally: Tally = field(default_factory=Tally)
    samples: list[Sample] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    gateway: Proc | None = None
    upstream: Proc | None = None
    extra_on: bool = False
    shutdown: dict[str, Any] = field(default_factory=dict)
    started: float = 0.0
    in_flight: int = 0
    go: asyncio.Event = field(default_factory=asyncio.Event)
    """Set while sessions may send; cleared while a sample is taken."""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    # -- processes --------------------------------------------------------------------------------------

    def write_config(self) -> None:
        def stdio(name: str) -> str:
            return (
                f"  - name: {name}\n    command: mcpstead\n    args: [demo-server]\n"
                f"    timeout_seconds: {CALL_TIMEOUT}\n    reconnect: {{backoff_base_ms: 100, backoff_max_ms: 1000}}\n"
            )

        text = (
            f"port: {self.gateway_port}\nlogging: {{level: warn}}\nservers:\n"
            f"  - name: web\n    url: http://127.0.0.1:{self.upstream_port}/mcp\n"
            f"    timeout_seconds: {CALL_TIMEOUT}\n    health_check_seconds: 2\n"
            "    reconnect: {backoff_base_ms: 100, backoff_max_ms: 1000}\n" + stdio("demo")
        )
        if self.extra_on:
            text += stdio("extra")
        self.config_path.write_text(text, encoding="utf-8")

    def start_upstream(self) -> None:
        argv = [sys.executable, "-m", "bench.upstream_sdk", "--port", str(self.upstream_port), "--sse"]
        self.upstream = spawn("soak-upstream", argv, self.log_dir)

    def kill_upstream(self) -> None:
        if self.upstream is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.upstream.pid, signal.SIGKILL)
            self.upstream.popen.wait(5)
            stop(self.upstream)

    def start_gateway(self) -> None:
        argv = [str(VENV_BIN / "mcpstead"), "serve", "-c", str(self.config_path)]
        self.gateway = spawn("soak-gateway", argv, self.log_dir)

    # -- load ------------------------------------------------------------------------------------------

    async def worker(self, number: int, deadline: float) -> None:
        rng = random.Random(number)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=CALL_TIMEOUT + LOST_MARGIN)) as http:
            client = Client(http, f"{self.base}/mcp", self.tally)
            await client.initialize()
            while time.monotonic() < deadline:
                await self.go.wait()
                self.in_flight += 1
                try:
                    await client.random_call(rng, self.extra_on)
                finally:
                    self.in_flight -= 1
                await asyncio.sleep(self.args.think)

    # -- faults ----------------------------------------------------------------------------------------

    async def faults_loop(self, deadline: float) -> None:
        every = {"kill_upstream": self.args.kill_every, "crash_stdio": self.args.crash_every}
        every["reload"] = self.args.reload_every
        due = {name: time.monotonic() + seconds for name, seconds in every.items()}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            crasher = Client(http, f"{self.base}/mcp", Tally())
            await crasher.initialize()
            while time.monotonic() < deadline:
                name = min(due, key=due.__getitem__)
                await asyncio.sleep(max(0.0, due[name] - time.monotonic()))
                if time.monotonic() >= deadline:
                    break
                due[name] += every[name]
                if name == "kill_upstream":
                    self.kill_upstream()
                    self.start_upstream()
                elif name == "crash_stdio":
                    await crasher.call("demo__crash", {"code": 7})
                else:
                    self.extra_on = not self.extra_on
                    self.write_config()
                    async with http.post(f"{self.base}/-/reload") as response:
                        name = "reload_ok" if response.status == 200 else f"reload_http_{response.status}"
                self.faults[name] += 1

    # -- sampling ----------------------------------------------------------------------------------------

    async def sampler(self, deadline: float) -> None:
        every = self.args.sample_seconds
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            self.samples.append(await self.sample(http))
            for n in itertools.count():
                at = self.started + every * (n + 0.7)
                if at > deadline - 1:
                    return
                await asyncio.sleep(at - time.monotonic())
                self.go.clear()
                try:
                    self.samples.append(await self.sample(http))
                finally:
                    self.go.set()

    async def quiesce(self, http: aiohttp.ClientSession) -> bool:
        """Wait (bounded) until no call is in flight and every configured upstream is connected."""
        names = ("web", "demo", "extra") if self.extra_on else ("web", "demo")
        until = time.monotonic() + 8
        while time.monotonic() < until:
            if self.in_flight == 0:
                with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
                    async with http.get(f"{self.base}/health") as response:
                        servers = {s["name"]: s for s in (await response.json())["servers"]}
                    if all(servers.get(n, {}).get("connected") for n in names):
                        await asyncio.sleep(0.2)  # what the last answers started has ended
                        return True
            await asyncio.sleep(0.05)
        return False

    async def sample(self, http: aiohttp.ClientSession) -> Sample:
        assert self.gateway is not None
        pid = self.gateway.pid
        quiet = await self.quiesce(http)
        async with http.get(f"{self.base}/metrics") as response:
            text = await response.text()
        match = re.search(r"^mcpstead_event_loop_tasks (\S+)$", text, re.M)
        children = [p for p, parent in procstat._parents().items() if parent == pid]
        fds = open_fds(pid)
        connections = established({self.gateway_port, self.upstream_port})
        return Sample(
            seconds=round(time.monotonic() - self.started, 1),
            rss_mb=round(procstat.rss_bytes(pid) / 1e6, 2),
            fds=len(fds),
            fds_apart_from_connections=sum(1 for target in fds if target not in connections),
            threads=_status_field(pid, "Threads"),
            children=len(children),
            zombies=[p for p in children if _state(p) == "Z"],
            tasks=int(float(match.group(1))) if match else -1,
            answered=self.tally.ok + sum(self.tally.errors.values()),
            extra_on=self.extra_on,
            quiet=quiet,
        )

    def stop_gateway(self) -> None:
        """SIGTERM, as systemd or Docker would: it must exit 0 in time and leave no child behind."""
        assert self.gateway is not None
        pid = self.gateway.pid
        children = [p for p, parent in procstat._parents().items() if parent == pid]
        began = time.monotonic()
        os.kill(pid, signal.SIGTERM)
        try:
            code: int | None = self.gateway.popen.wait(15)
        except subprocess.TimeoutExpired:
            code = None
        left = [p for p in children if _state(p) not in ("gone", "Z")]
        self.shutdown = {"exit_code": code, "seconds": round(time.monotonic() - began, 2), "children_left": left}

    async def run(self) -> None:
        self.write_config()
        self.start_upstream()
        self.start_gateway()
        await wait_ready(self.base, ("web", "demo"), 30)
        self.started = time.monotonic()
        self.go.set()
        deadline = self.started + self.args.duration
        load = [asyncio.create_task(self.worker(n, deadline)) for n in range(self.args.sessions)]
        await asyncio.gather(self.faults_loop(deadline), self.sampler(deadline), *load)


class Client:
    """One MCP session on raw aiohttp: every answer is read whole and checked, SSE or JSON."""

    def __init__(self, http: aiohttp.ClientSession, url: str, tally: Tally) -> None:
        self.http = http
        self.url = url
        self.tally = tally
        self.headers = {"Accept": ACCEPT, "Content-Type": "application/json"}
        self.ids = itertools.count(1)

    async def initialize(self) -> None:
        params = {"protocolVersion": CLIENT_VERSION, "capabilities": {}, "clientInfo": {"name": "soak", "version": "1"}}
        body = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params}
        async with self.http.post(self.url, json=body, headers=self.headers) as response:
            response.raise_for_status()
            self.headers["Mcp-Session-Id"] = response.headers["Mcp-Session-Id"]
            await response.read()
        self.headers["MCP-Protocol-Version"] = CLIENT_VERSION
        async with self.http.post(
            self.url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=self.headers
        ) as response:
            await response.read()

    async def random_call(self, rng: random.Random, extra_on: bool) -> None:
        pick = rng.random()
        if pick < 0.55:
            await self.call("web__echo", {"message": f"m{rng.randrange(10**6)}"}, expect="m")
        elif pick < 0.75:
            await self.call("demo__echo", {"message": f"d{rng.randrange(10**6)}"}, expect="d")
        elif pick < 0.85:
            await self.call("web__sleep", {"seconds": 0.2, "steps": 2}, progress=True, expect="slept")
        elif pick < 0.92:
            await self.call("demo__sleep", {"seconds": 0.2, "steps": 2}, progress=True, expect="slept")
        elif pick < 0.97:
            tool = rng.choice(["web__sleep", "demo__sleep"])
            await self.call(tool, {"seconds": 3, "steps": 3}, progress=True, cancel_after=0.3)
        else:
            await self.call("extra__echo", {"message": "x"}, expect="x")

    async def call(
        self,
        tool: str,
        arguments: dict[str, Any],
        *,
        progress: bool = False,
        cancel_after: float | None = None,
        expect: str | None = None,
    ) -> None:
        tally = self.tally
        request_id = next(self.ids)
        params: dict[str, Any] = {"name": tool, "arguments": arguments}
        if progress:
            params["_meta"] = {"progressToken": f"p{request_id}"}
        body = {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}
        tally.sent += 1
        canceller = asyncio.create_task(self.cancel(request_id, cancel_after)) if cancel_after else None
        try:
            async with self.http.post(self.url, json=body, headers=self.headers) as response:
                status, content_type, raw = (
                    response.status,
                    response.headers.get("Content-Type", ""),
                    await response.read(),
                )
        except TimeoutError:
            tally.failures["lost (no answer in time)"] += 1
            return
        except aiohttp.ClientError as exc:
            tally.failures[f"connection: {type(exc).__name__}"] += 1
            return
        finally:
            if canceller is not None:
                canceller.cancel()
        if status != 200:
            tally.failures[f"http_{status}"] += 1
            return
        messages = parse_messages(content_type, raw)
        if messages is None:
            tally.failures["unparseable reply"] += 1
            return
        answers = [m for m in messages if m.get("id") == request_id and "method" not in m]
        tally.progress += sum(1 for m in messages if m.get("method") == "notifications/progress")
        if not answers:
            tally.failures["lost (reply without its answer)"] += 1
            return
        if len(answers) > 1:
            tally.failures["duplicated"] += 1
        answer = answers[0]
        if "error" in answer:
            bucket = tally.error_bucket(answer["error"])
            if bucket is None:
                tally.failures[f"unclear error {json.dumps(answer['error'])[:80]}"] += 1
            else:
                tally.errors[bucket] += 1
                tally.cancelled += cancel_after is not None
            return
        text = _text(answer.get("result"))
        if expect is not None and (text is None or expect not in text):
            tally.failures[f"wrong answer {json.dumps(answer)[:80]}"] += 1
            return
        tally.ok += 1

    async def cancel(self, request_id: int, after: float | None) -> None:
        await asyncio.sleep(after or 0)
        note = {
            "jsonrpc": "2.0",
            "method": "notifications/cancelled",
            "params": {"requestId": request_id, "reason": "soak"},
        }
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with self.http.post(self.url, json=note, headers=self.headers) as response:
                await response.read()


def parse_messages(content_type: str, raw: bytes) -> list[dict[str, Any]] | None:
    try:
        if content_type.startswith("text/event-stream"):
            return [json.loads(line[5:]) for line in raw.split(b"\n") if line.startswith(b"data:")]
        message = json.loads(raw)
    except ValueError:
        return None
    return [message] if isinstance(message, dict) else None


def _text(result: Any) -> str | None:
    content = result.get("content") if isinstance(result, dict) else None
    first = content[0] if isinstance(content, list) and content else None
    text = first.get("text") if isinstance(first, dict) else None
    return text if isinstance(text, str) else None


def open_fds(pid: int) -> list[str]:
    """What each open fd of `pid` points at (`socket:[inode]`, `pipe:[inode]`, a path...)."""
    found = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            found.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
    return found


def established(ports: set[int]) -> set[str]:
    """`socket:[inode]` of every established TCP connection with one end on one of `ports`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table, encoding="ascii") as handle:
            next(handle)
            for row in handle:
                fields = row.split()
                local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
                ends = {int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16)}
                if state == "01" and ends & ports:  # 01: ESTABLISHED
                    inodes.add(f"socket:[{inode}]")
    return inodes


def _status_field(pid: int, name: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{name}:"):
                return int(line.split()[1])
    return 0


def _state(pid: int) -> str:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "gone"
    return text[text.rfind(")") + 2 :].split()[0]


async def wait_ready(base: str, names: tuple[str, ...], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
                async with http.get(f"{base}/health") as response:
                    servers = {s["name"]: s for s in (await response.json())["servers"]}
                if all(servers.get(n, {}).get("connected") for n in names):
                    return
            await asyncio.sleep(0.1)
    raise SystemExit(f"the gateway at {base} did not connect {names} within {timeout}s")


# -- verdicts -----------------------------------------------------------------------------------------------


def growth(values: list[float]) -> tuple[float, float, float]:
    """(first, last, growth) over the last half: medians of its first and last thirds."""
    half = values[len(values) // 2 :]
    third = max(1, len(half) // 3)
    first, last = statistics.median(half[:third]), statistics.median(half[-third:])
    return first, last, (last - first) / first if first else 0.0


def flat(values: list[float]) -> bool:
    """Growth under 5%, or by at most one for small counts."""
    first, last, rise = growth(values)
    return rise < FLAT_TOLERANCE or (first < SMALL_COUNT and last - first <= 1)


def verdicts(soak: Soak) -> dict[str, Any]:
    samples = soak.samples
    zombie_sets = [set(s.zombies) for s in samples]
    lasting = sorted({z for a, b in itertools.pairwise(zombie_sets) for z in a & b})
    checks: dict[str, Any] = {
        "no failures": not soak.tally.failures,
        "every call answered": soak.tally.sent == soak.tally.ok + sum(soak.tally.errors.values())
        and not soak.tally.failures,
        "no zombie children (in two samples running)": not lasting,
        "children at most 3": all(s.children <= 3 for s in samples),
        "progress seen": soak.tally.progress > 0,
        "faults injected": all(soak.faults[k] for k in ("kill_upstream", "crash_stdio", "reload_ok")),
        "samples taken quietly": all(s.quiet for s in samples[1:]),
        "SIGTERM: exit 0, no child left": soak.shutdown.get("exit_code") == 0
        and not soak.shutdown.get("children_left"),
    }
    for extra_on in (False, True):
        group = [s for s in samples[1:] if s.extra_on == extra_on]
        label = "with extra" if extra_on else "without extra"
        for name in ("rss_mb", "fds_apart_from_connections", "tasks", "threads"):
            values = [float(getattr(s, name)) for s in group]
            if len(values) >= 4:
                first, last, rise = growth(values)
                checks[f"{name} {label} flat over the last half ({first:g} -> {last:g}, {rise:+.1%})"] = flat(values)
    return checks


def write_results(soak: Soak, checks: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = RESULTS_DIR / f"{stamp}-soak.json"
    tally = soak.tally
    document = {
        "duration_seconds": soak.args.duration,
        "sessions": soak.args.sessions,
        "calls": {
            "sent": tally.sent,
            "ok": tally.ok,
            "errors": sum(tally.errors.values()),
            "failures": dict(tally.failures),
            "progress_notifications": tally.progress,
            "cancelled_calls_answered_with_an_error": tally.cancelled,
        },
        "errors_by_kind": dict(tally.errors.most_common()),
        "faults": dict(soak.faults),
        "shutdown": soak.shutdown,
        "samples": [asdict(s) for s in soak.samples],
        "checks": checks,
    }
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")
    plot(soak.samples, path.with_suffix(".png"))
    return path


def plot(samples: list[Sample], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no plot: matplotlib is not installed (pip install -e '.[bench]')")
        return
    panels = [("rss_mb", "RSS (MB)"), ("fds", "open fds"), ("fds_apart_from_connections", "fds but connections")]
    panels += [("tasks", "asyncio tasks"), ("threads", "threads"), ("children", "child processes")]
    figure, axes = plt.subplots(len(panels), 1, figsize=(8, 12), sharex=True)
    xs = [s.seconds for s in samples]
    for axis, (key, label) in zip(axes, panels, strict=True):
        axis.plot(xs, [getattr(s, key) for s in samples], marker=".")
        axis.set_ylabel(label)
        axis.set_ylim(bottom=0)
        axis.axvline(xs[len(xs) // 2] if xs else 0, color="grey", linestyle=":", linewidth=1)
    axes[-1].set_xlabel("seconds (dotted: start of the half that must stay flat)")
    figure.suptitle("mcpstead soak: 64 sessions, upstream kills, stdio crashes, reloads")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def report(soak: Soak, checks: dict[str, Any], path: Path) -> None:
    tally = soak.tally
    print(
        f"calls sent {tally.sent}, ok {tally.ok}, clear errors {sum(tally.errors.values())}, "
        f"failures {sum(tally.failures.values())}, progress notifications {tally.progress}"
    )
    for bucket, count in tally.errors.most_common(8):
        print(f"  error  {count:6d}  {bucket}")
    for bucket, count in tally.failures.most_common():
        print(f"  FAIL   {count:6d}  {bucket}")
    print("faults: " + ", ".join(f"{k} {v}" for k, v in sorted(soak.faults.items())))
    print(f"shutdown: {soak.shutdown}")
    print("samples (s, RSS MB, fds, fds but connections, tasks, threads, children, extra configured, quiet):")
    for s in soak.samples:
        print(
            f"  {s.seconds:7.1f} {s.rss_mb:8.1f} {s.fds:5d} {s.fds_apart_from_connections:5d} {s.tasks:6d}"
            f" {s.threads:4d} {s.children:3d}"
            f" {'extra' if s.extra_on else '-':>5} {'quiet' if s.quiet else 'BUSY'}"
        )
    for name, passed in checks.items():
        print(f"  [{'ok' if passed else 'FAIL'}] {name}")
    print(f"results: {path}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="mcpstead soak", formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, help="overrides --minutes (CI: 60)")
    parser.add_argument("--sessions", type=int, default=64)
    parser.add_argument("--think", type=float, default=0.05, help="pause between a session's calls (s)")
    parser.add_argument("--kill-every", type=float, default=20.0, help="kill and restart the HTTP upstream (s)")
    parser.add_argument("--crash-every", type=float, default=30.0, help="crash the stdio child (s)")
    parser.add_argument("--reload-every", type=float, default=15.0, help="reload, adding or removing a server (s)")
    parser.add_argument("--sample-seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    args.duration = args.seconds if args.seconds is not None else args.minutes * 60
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    install_cleanup()
    log_dir = RESULTS_DIR / f"soak-logs-{time.strftime('%Y%m%d-%H%M%S')}"
    log_dir.mkdir(parents=True, exist_ok=True)
    soak = Soak(args, log_dir / "soak.yaml", free_port(), free_port(), log_dir)
    print(f"soak: {args.duration:g} s, {args.sessions} sessions; logs in {log_dir}")
    try:
        asyncio.run(soak.run())
        soak.stop_gateway()
    finally:
        stop_all()
    checks = verdicts(soak)
    path = write_results(soak, checks)
    report(soak, checks, path)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
