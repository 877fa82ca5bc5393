"""bench.load's paced sessions (`--rate`): a call starts no earlier than its slot, and a call that overruns
its slot is followed by one call, not by a burst that catches up the slots it missed."""

from __future__ import annotations

import asyncio
import time
from typing import cast

from bench.client import McpSession
from bench.load import Tally, _drive


class Recorder:
    """Stands in for a session: records when each call starts; the first call can be made slow."""

    def __init__(self, first_call_seconds: float = 0.0) -> None:
        self.starts: list[float] = []
        self.first_call_seconds = first_call_seconds

    async def echo(self, tool: str, message: str, expected: str) -> None:
        self.starts.append(time.perf_counter())
        if len(self.starts) == 1:
            await asyncio.sleep(self.first_call_seconds)


async def test_paced_calls_start_no_earlier_than_their_slots() -> None:
    recorder, interval = Recorder(), 0.02
    first = time.perf_counter() + 0.01
    await _drive(cast(McpSession, recorder), "t", "echo", "", first + 0.19, Tally(), interval, first)
    assert recorder.starts
    assert len(recorder.starts) <= 10  # slots at first + 0, 0.02, ... 0.18 before the deadline
    for n, start in enumerate(recorder.starts):
        assert start >= first + n * interval


async def test_a_call_that_overruns_is_followed_by_one_call_then_the_pace_again() -> None:
    """The slow call ends 0.1 s in; from there to the deadline (0.19 s) the pace leaves room for 5 calls
    (0.10, 0.12, ... 0.18), whatever the scheduling delays; catching up a missed slot would make it 6."""
    recorder, interval = Recorder(first_call_seconds=0.1), 0.02
    first = time.perf_counter()
    await _drive(cast(McpSession, recorder), "t", "echo", "", first + 0.19, Tally(), interval, first)
    after_slow = recorder.starts[1:]
    assert 1 <= len(after_slow) <= 5


async def test_unpaced_calls_go_back_to_back() -> None:
    recorder = Recorder()
    first = time.perf_counter()
    await _drive(cast(McpSession, recorder), "t", "echo", "", first + 0.05, Tally(), 0.0, first)
    assert len(recorder.starts) > 100
