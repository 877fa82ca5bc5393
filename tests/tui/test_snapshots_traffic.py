"""SVG snapshots of the Traffic tab and the message detail (fixed clock and zone, animations off)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any

from textual.pilot import Pilot

from tests.tui.fakes import FakeClock, FakeView, two_upstreams
from tests.tui.helpers import show_tab, wait_for_screen, wait_until
from tests.tui.traffic_scene import Script, tools_call_over_stdio
from tui.app import DashboardApp
from tui.screens.traffic_detail import TrafficDetailScreen

Compare = Callable[..., bool]


def app() -> DashboardApp:
    script = Script()
    tools_call_over_stdio(script, call=1, client_id=7, upstream_id=41, token="t")
    view = FakeView(two_upstreams())
    view.traffic = script.records
    dashboard = DashboardApp(view, clock=FakeClock(), tz=UTC, frame_interval=0)
    dashboard.animation_level = "none"
    return dashboard


async def show_traffic(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, DashboardApp)
    await show_tab(pilot, "4", "traffic")
    table = app.dashboard.traffic.table
    await wait_until(pilot, lambda: table.row_count == 6 and app.focused is table)
    await pilot.pause()


def test_traffic_paired_call_with_progress_120x36(snap_compare: Compare) -> None:
    assert snap_compare(app(), terminal_size=(120, 36), run_before=show_traffic)


def test_traffic_paired_call_with_progress_80x24(snap_compare: Compare) -> None:
    assert snap_compare(app(), terminal_size=(80, 24), run_before=show_traffic)


def test_traffic_json_detail_120x36(snap_compare: Compare) -> None:
    async def open_detail(pilot: Pilot[Any]) -> None:
        await show_traffic(pilot)
        app = pilot.app
        assert isinstance(app, DashboardApp)
        app.dashboard.traffic.table.move_cursor(row=0)
        await pilot.press("enter")
        await wait_for_screen(pilot, TrafficDetailScreen)
        await pilot.pause()

    assert snap_compare(app(), terminal_size=(120, 36), run_before=open_detail)
