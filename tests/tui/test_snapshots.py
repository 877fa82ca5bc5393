"""SVG snapshots with a fixed clock and zone and animations off (regenerate with --snapshot-update)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any

from textual.pilot import Pilot

from mcpstead.state import ReloadView
from tests.tui.fakes import T0, FakeClock, FakeView, call, demo, session, snapshot, two_upstreams
from tests.tui.helpers import wait_for_screen
from tui.app import DashboardApp
from tui.messages import RunTool, ShowCall
from tui.screens import CallDetailScreen, ReloadErrorsScreen, ToolRunnerScreen

Compare = Callable[..., bool]

CALLS = (
    call(4, "github__search_issues", started_at=T0 - 2, total_ms=48.3, upstream_ms=45.9),
    call(3, "files__read_text", started_at=T0 - 9, outcome="error", total_ms=0.4, upstream_ms=None),
    call(2, "github__get_file", started_at=T0 - 30, outcome="tool_error", client="cursor"),
    call(1, "github__search_issues", started_at=T0 - 61, total_ms=131.0, upstream_ms=127.5, source="dashboard"),
)
SESSIONS = (
    session("3f2a9c1e-0000-4000-8000-000000000001", calls=7),
    session("9b1c2d3e-0000-4000-8000-000000000002", "cursor", "0.42.1", created_at=T0 - 7300, last_activity=T0 - 95),
)
WEATHER_CALL = call(
    7,
    "demo__weather",
    started_at=T0 - 4,
    total_ms=18.6,
    upstream_ms=15.1,
    arguments={"city": "Paris", "units": "metric"},
    result={
        "content": [{"type": "text", "text": '{"city": "Paris", "temperature": 21, "conditions": "fog"}'}],
        "structuredContent": {"city": "Paris", "temperature": 21, "units": "metric", "conditions": "fog"},
    },
)


def app(view: FakeView) -> DashboardApp:
    dashboard = DashboardApp(view, clock=FakeClock(), tz=UTC)
    dashboard.animation_level = "none"
    return dashboard


def test_empty_gateway_120x36(snap_compare: Compare) -> None:
    assert snap_compare(app(FakeView(snapshot())), terminal_size=(120, 36))


def test_two_upstreams_one_in_backoff_120x36(snap_compare: Compare) -> None:
    assert snap_compare(app(FakeView(two_upstreams(CALLS, SESSIONS))), terminal_size=(120, 36))


def test_backoff_upstream_selected_80x24(snap_compare: Compare) -> None:
    assert snap_compare(app(FakeView(two_upstreams(CALLS, SESSIONS))), press=["down"], terminal_size=(80, 24))


def test_sessions_tab_80x24(snap_compare: Compare) -> None:
    assert snap_compare(app(FakeView(two_upstreams(CALLS, SESSIONS))), press=["2"], terminal_size=(80, 24))


def test_call_detail_120x36(snap_compare: Compare) -> None:
    async def open_detail(pilot: Pilot[Any]) -> None:
        pilot.app.post_message(ShowCall(WEATHER_CALL))
        await wait_for_screen(pilot, CallDetailScreen)

    view = FakeView(demo((WEATHER_CALL,)))
    assert snap_compare(app(view), terminal_size=(120, 36), run_before=open_detail)


def test_tool_runner_weather_form_120x36(snap_compare: Compare) -> None:
    async def open_runner(pilot: Pilot[Any]) -> None:
        pilot.app.post_message(RunTool("demo__weather"))
        await wait_for_screen(pilot, ToolRunnerScreen)

    assert snap_compare(app(FakeView(demo())), terminal_size=(120, 36), run_before=open_runner)


def test_tool_runner_validation_80x24(snap_compare: Compare) -> None:
    async def send_empty(pilot: Pilot[Any]) -> None:
        pilot.app.post_message(RunTool("demo__weather"))
        await wait_for_screen(pilot, ToolRunnerScreen)
        await pilot.press("ctrl+s")

    assert snap_compare(app(FakeView(demo())), terminal_size=(80, 24), run_before=send_empty)


def test_reload_error_80x24(snap_compare: Compare) -> None:
    async def reload(pilot: Pilot[Any]) -> None:
        await pilot.press("ctrl+r")
        await wait_for_screen(pilot, ReloadErrorsScreen)

    view = FakeView(two_upstreams(CALLS))
    view.reload_result = ReloadView(
        at=T0,
        ok=False,
        errors=(
            "config.yaml:9:10: servers[1] (name: local).url: must be an http(s) URL, got 'localhost:9000'",
            "config.yaml:12:11: servers[2] (name: github).name: duplicate name 'github' (also servers[0])",
            "config.yaml:3:16: mcp.auth.token_env: environment variable MCP_TOKEN is not set",
        ),
    )
    assert snap_compare(app(view), terminal_size=(80, 24), run_before=reload)
