"""Liveness without cost: a burst of changes costs a bounded number of frames, and failures stay local."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC

import pytest
from textual.pilot import Pilot

from mcpstead.state import CallView
from tests.tui.fakes import FakeClock, FakeView, call, two_upstreams
from tests.tui.helpers import dashboard, toasts, wait_until
from tui import app as app_module
from tui.app import DashboardApp
from tui.messages import SnapshotChanged

BURST = 1000
MAX_FRAMES = 20


async def test_a_burst_of_1000_calls_costs_a_bounded_number_of_frames() -> None:
    view = FakeView(two_upstreams())
    app = DashboardApp(view, clock=FakeClock(), frame_interval=0.1, tz=UTC)
    app.animation_level = "none"
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        frames_before = app.frames_applied
        calls: tuple[CallView, ...] = ()
        for seq in range(1, BURST + 1):
            calls = (call(seq, "github__get_file"), *calls[:499])  # the core's ring keeps the newest 500
            view.publish(two_upstreams(calls))
            await asyncio.sleep(0)  # let the app run between publishes, as it would under real load
        await wait_until(pilot, lambda: dashboard(pilot).calls.keys[:1] == [str(BURST)])
        frames = app.frames_applied - frames_before
        assert 1 <= frames <= MAX_FRAMES, frames
        assert dashboard(pilot).calls.row_count == 200  # bounded however many calls arrive


def test_snapshot_messages_coalesce() -> None:
    older = SnapshotChanged(two_upstreams())
    newer = SnapshotChanged(dataclasses.replace(two_upstreams(), version=2))
    assert older.can_replace(newer)
    assert newer.can_replace(older)


async def test_a_failing_view_is_reported_once_and_retried(
    pilot: Pilot[None], view: FakeView, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "RETRY_SECONDS", 0.05)
    good = view.snapshot

    def broken() -> object:
        raise RuntimeError("snapshot exploded")

    view.snapshot = broken  # type: ignore[method-assign,assignment]
    view.publish(two_upstreams())
    await wait_until(pilot, lambda: any("snapshot exploded" in m for m in toasts(pilot)))
    view.snapshot = good  # type: ignore[method-assign]
    view.publish(two_upstreams((call(1, "github__get_file"),)))
    await wait_until(pilot, lambda: dashboard(pilot).calls.row_count == 1, timeout=5)
    assert sum("snapshot exploded" in m for m in toasts(pilot)) == 1


async def test_a_frame_that_fails_to_render_is_a_toast_not_an_exit(pilot: Pilot[None], view: FakeView) -> None:
    dash = dashboard(pilot)
    apply = dash.apply

    def broken(snapshot: object) -> None:
        raise ValueError("bad cell")

    dash.apply = broken  # type: ignore[method-assign]
    view.publish(two_upstreams())
    await wait_until(pilot, lambda: any("bad cell" in m for m in toasts(pilot)))
    dash.apply = apply  # type: ignore[method-assign]
    view.publish(two_upstreams((call(1, "github__get_file"),)))
    await wait_until(pilot, lambda: dash.calls.row_count == 1)
    assert pilot.app.is_running
