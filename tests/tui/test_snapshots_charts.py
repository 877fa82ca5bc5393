"""SVG snapshots of the sparklines after two minutes of scripted traffic (regenerate with --snapshot-update).

Each second's snapshot is applied at once, at that second of a fake clock, so the charts are the same on
every run whatever the app's own frame timing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC
from typing import Any

from textual.pilot import Pilot

from mcpstead.state import CallView, GatewaySnapshot
from tests.tui.fakes import T0, FakeClock, FakeView, call, two_upstreams
from tests.tui.helpers import dashboard
from tui.app import DashboardApp

Compare = Callable[..., bool]

SECONDS = 120
ERROR_SECONDS = {50: 2, 51: 1, 95: 3}
SLOW_SECOND = 70
"""One call of 400 ms here: p99 shows it, p50 does not."""
RING = 500


def rate(second: int) -> int:
    """A triangle wave between 1 and 11 calls per second."""
    phase = second % 40
    return 1 + (phase if phase < 20 else 40 - phase) // 2


def scene(seconds: int = SECONDS) -> list[GatewaySnapshot]:
    """One snapshot per second: github's counters grow by the wave, its calls fill the ring."""
    base = dataclasses.replace(two_upstreams(), client_seen=True)  # the calls come from a client
    github, files = base.upstreams
    calls, errors, seq = github.calls, github.errors, 0
    ring: list[CallView] = []
    snapshots = []
    for second in range(1, seconds + 1):
        for index in range(rate(second)):
            seq += 1
            slow = second == SLOW_SECOND and index == 0
            total_ms = 400.0 if slow else 20.0 + second % 30 + index
            started = T0 + second - 1 + index / 20
            ring.insert(0, call(seq, "github__get_file", started_at=started, total_ms=total_ms, upstream_ms=total_ms))
        del ring[RING:]
        calls += rate(second)
        errors += ERROR_SECONDS.get(second, 0)
        upstreams = (dataclasses.replace(github, calls=calls, errors=errors), files)
        snapshots.append(dataclasses.replace(base, upstreams=upstreams, calls=tuple(ring)))
    return snapshots


def app(view: FakeView, clock: FakeClock) -> DashboardApp:
    dashboard_app = DashboardApp(view, clock=clock, tz=UTC)
    dashboard_app.animation_level = "none"
    return dashboard_app


def traffic(view: FakeView, clock: FakeClock, *keys: str) -> Callable[[Pilot[Any]], Any]:
    async def run(pilot: Pilot[Any]) -> None:
        screen = dashboard(pilot)
        await pilot.pause()  # nothing queued from before may land after the scripted seconds
        for snapshot in scene():
            clock.advance(1)
            view.publish(snapshot)
            screen.apply(view.snapshot())  # no await in between: the app's own frames see the same state
        await pilot.press(*keys)
        await pilot.pause()

    return run


def test_charts_of_github_with_errors_120x36(snap_compare: Compare) -> None:
    clock = FakeClock()
    view = FakeView(two_upstreams(), clock=clock)
    assert snap_compare(app(view, clock), terminal_size=(120, 36), run_before=traffic(view, clock))


def test_charts_of_github_with_errors_80x24(snap_compare: Compare) -> None:
    clock = FakeClock()
    view = FakeView(two_upstreams(), clock=clock)
    assert snap_compare(app(view, clock), terminal_size=(80, 24), run_before=traffic(view, clock))


def test_charts_hidden_give_the_tools_the_width_80x24(snap_compare: Compare) -> None:
    clock = FakeClock()
    view = FakeView(two_upstreams(), clock=clock)
    assert snap_compare(app(view, clock), terminal_size=(80, 24), run_before=traffic(view, clock, "g"))
