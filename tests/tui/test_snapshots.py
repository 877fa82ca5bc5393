"""SVG snapshots of the dashboard with a fixed clock and zone (regenerate with --snapshot-update)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any

from tests.tui.fakes import T0, FakeClock, FakeView, call, two_upstreams
from tui.app import DashboardApp

CALLS = (
    call(4, "github__search_issues", started_at=T0 - 2, total_ms=48.3, upstream_ms=45.9),
    call(3, "files__read_text", started_at=T0 - 9, outcome="error", total_ms=0.4, upstream_ms=None),
    call(2, "github__get_file", started_at=T0 - 30, outcome="tool_error", client="cursor"),
    call(1, "github__search_issues", started_at=T0 - 61, total_ms=131.0, upstream_ms=127.5),
)


def app() -> DashboardApp:
    return DashboardApp(FakeView(two_upstreams(CALLS)), clock=FakeClock(), tz=UTC)


def test_two_upstreams_one_in_backoff_120x36(snap_compare: Callable[..., Any]) -> None:
    assert snap_compare(app(), terminal_size=(120, 36))


def test_backoff_upstream_selected_80x24(snap_compare: Callable[..., Any]) -> None:
    assert snap_compare(app(), press=["down"], terminal_size=(80, 24))
