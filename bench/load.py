"""Client-side measurements: readiness polling, sequential latency, and the throughput worker process.

The worker (`python -m bench.load ...`) opens its sessions, prints `{"ready": ...}`, waits for `go` on stdin,
drives its sessions for `--duration` seconds (each session: one call at a time), then writes its result (with
its own CPU time over the window) to the `--result` file, prints `{"done": true}`, and exits. The result goes
through a file because its latencies can pass a pipe's 64 KiB, where a line read once came back cut.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import uvloop

from bench.client import CallError, McpSession

MAX_ERROR_SAMPLES = 5


@dataclass
class Tally:
    """Outcomes of calls: successful latencies (seconds), errors by kind and a few samples."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        if len(self.samples) < MAX_ERROR_SAMPLES:
            self.samples.append(f"{kind}: {detail}"[:300])

    def as_dict(self) -> dict[str, Any]:
        return {"ok": len(self.latencies), "errors": dict(self.errors), "error_samples": self.samples}


async def _call(session: McpSession, tool: str, prefix: str, message: str, tally: Tally) -> None:
    start = time.perf_counter()
    try:
        await session.echo(tool, message, prefix + message)
    except CallError as exc:
        tally.error(exc.kind, exc.detail)
    except TimeoutError:
        tally.error("timeout", "no answer within the call timeout")
    except (aiohttp.ClientError, ValueError, OSError) as exc:
        tally.error(type(exc).__name__, str(exc))
    else:
        tally.latencies.append(time.perf_counter() - start)


async def wait_ready(url: str, tool: str, timeout: float, interval: float = 0.01) -> bool:
    """Poll until `tools/list` at `url` lists `tool` (initialize first, retried until it works)."""
    deadline = time.monotonic() + timeout
    session: McpSession | None = None
    try:
        while time.monotonic() < deadline:
            try:
                if session is None:
                    candidate = McpSession(url, timeout=2.0)
                    try:
                        await candidate.initialize()
                    except BaseException:
                        await candidate.close()
                        raise
                    session = candidate
                if tool in await session.tool_names():
                    return True
            except (CallError, aiohttp.ClientError, OSError, ValueError, TimeoutError):
                pass
            await asyncio.sleep(interval)
        return False
    finally:
        if session is not None:
            await session.close()


async def latency(
    url: str, tool: str, prefix: str, calls: int, warmup: int, timeout: float, modern: bool = False
) -> Tally:
    """`calls` sequential tools/call in one session, after `warmup` unrecorded ones."""
    session = McpSession(url, timeout, modern)
    try:
        await session.initialize()
        await _sequential(session, tool, prefix, warmup, "w", Tally())
        tally = Tally()
        await _sequential(session, tool, prefix, calls, "l", tally)
        return tally
    finally:
        await session.close()


async def _sequential(session: McpSession, tool: str, prefix: str, calls: int, tag: str, tally: Tally) -> None:
    for n in range(calls):
        await _call(session, tool, prefix, f"hi-{tag}-{n}", tally)


async def _drive(
    session: McpSession, tag: str, tool: str, prefix: str, deadline: float, tally: Tally, interval: float, first: float
) -> None:
    """Call back to back, or (`interval` > 0) start a call every `interval` seconds from `first`: a call that
    overruns its slot is followed at once, so the offered rate is a ceiling, never a backlog."""
    n = 0
    next_start = first
    while (now := time.perf_counter()) < deadline:
        if interval and next_start > now:
            await asyncio.sleep(next_start - now)
            continue
        next_start = max(next_start, now) + interval
        await _call(session, tool, prefix, f"hi-{tag}-{n}", tally)
        n += 1


async def _worker(args: argparse.Namespace) -> dict[str, Any]:
    sessions = [McpSession(args.url, args.timeout, args.modern) for _ in range(args.sessions)]
    tally = Tally()
    try:
        outcomes = await asyncio.gather(*(session.initialize() for session in sessions), return_exceptions=True)
        live = []
        for session, outcome in zip(sessions, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                tally.error("initialize", repr(outcome))
            else:
                live.append(session)
        print(json.dumps({"ready": len(live)}), flush=True)
        loop = asyncio.get_running_loop()
        if (await loop.run_in_executor(None, sys.stdin.readline)).strip() != "go":
            return {"aborted": True}
        cpu0, wall0 = time.process_time(), time.perf_counter()
        deadline = wall0 + args.duration
        interval = len(live) / args.rate if args.rate and live else 0.0
        firsts = [wall0 + interval * i / len(live) for i in range(len(live))]  # spread over one interval
        tasks = (
            _drive(session, f"{args.worker}.{i}", args.tool, args.prefix, deadline, tally, interval, first)
            for i, (session, first) in enumerate(zip(live, firsts, strict=True))
        )
        await asyncio.gather(*tasks)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        return {**tally.as_dict(), "latencies": [round(x, 6) for x in tally.latencies], "cpu_s": cpu, "wall_s": wall}
    finally:
        await asyncio.gather(*(session.close() for session in sessions), return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="One load worker process (started by bench.throughput).")
    parser.add_argument("--url", required=True)
    parser.add_argument("--modern", action="store_true", help="call as a 2026-07-28 client (no session)")
    parser.add_argument("--tool", required=True)
    parser.add_argument("--prefix", default="", help="what the echo tool puts before the message")
    parser.add_argument("--sessions", type=int, required=True)
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument(
        "--rate", type=float, default=0.0, help="calls/s this worker's sessions offer in all (0: back to back)"
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="per call, seconds")
    parser.add_argument("--worker", default="0", help="a tag that keeps messages unique across workers")
    parser.add_argument("--result", required=True, help="file the result is written to (it can pass 64 KiB)")
    args = parser.parse_args()
    result = uvloop.run(_worker(args))
    Path(args.result).write_text(json.dumps(result))
    print(json.dumps({"done": True}), flush=True)


if __name__ == "__main__":
    main()
