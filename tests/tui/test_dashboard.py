"""The dashboard against an in-memory view: rows appear, follow changes by key, and keys act."""

from __future__ import annotations

import dataclasses

import pytest
from textual.pilot import Pilot

from tests.tui.fakes import T0, FakeClock, FakeView, call, session, snapshot, two_upstreams, upstream
from tests.tui.helpers import cell, dashboard, toasts, wait_for_screen, wait_until
from tui.screens import UpstreamDetailScreen
from tui.widgets import KeyedTable
from tui.widgets.document import Document

screen = dashboard


def never_rebuilt(table: KeyedTable) -> None:
    """Make any whole-table clear fail the test: updates must be keyed."""

    def refuse(columns: bool = False) -> KeyedTable:
        raise AssertionError(f"{table.id} was cleared instead of diffed")

    table.clear = refuse  # type: ignore[method-assign]


async def test_upstream_rows_show_status_and_tool_counts(pilot: Pilot[None]) -> None:
    table = screen(pilot).upstreams
    assert table.keys == ["github", "files"]
    assert cell(table, "github", "status") == "ready"
    assert cell(table, "github", "tools") == "3"
    assert cell(table, "files", "status") == "backoff"
    assert cell(table, "files", "retry") == "in 8s"
    assert cell(table, "github", "retry") == "—"
    assert cell(table, "files", "tools") == "1"
    assert table.border_title == "Upstreams (1/2 ready)"
    assert cell(table, "github", "last_seen") == "3s ago"
    assert cell(table, "files", "last_error").startswith("process exited with code 1")


async def test_new_calls_appear_newest_first(pilot: Pilot[None], view: FakeView) -> None:
    calls = screen(pilot).calls
    assert calls.row_count == 0

    first = call(1, "github__search_issues", started_at=T0)
    view.publish(two_upstreams((first,)))
    await wait_until(pilot, lambda: calls.row_count == 1)
    assert calls.keys == ["1"]
    assert cell(calls, "1", "time") == "22:13:20"
    assert cell(calls, "1", "outcome") == "ok"

    second = call(2, "files__read_text", started_at=T0 + 1, outcome="error")
    view.publish(two_upstreams((second, first)))
    await wait_until(pilot, lambda: calls.row_count == 2)
    assert calls.keys == ["2", "1"]
    assert cell(calls, "2", "outcome") == "error"
    assert calls.cursor_row == 0


async def test_calls_table_keeps_the_newest_200(pilot: Pilot[None], view: FakeView) -> None:
    calls = screen(pilot).calls
    burst = tuple(call(seq, "github__get_file") for seq in range(250, 0, -1))
    view.publish(two_upstreams(burst))
    await wait_until(pilot, lambda: calls.row_count == 200)
    assert calls.keys[0] == "250"
    assert calls.keys[-1] == "51"

    view.publish(two_upstreams((call(251, "github__get_file"), *burst)))
    await wait_until(pilot, lambda: calls.keys[0] == "251")
    assert calls.row_count == 200
    assert calls.keys[-1] == "52"


async def test_calls_finishing_out_of_order_still_sort_by_sequence(pilot: Pilot[None], view: FakeView) -> None:
    calls = screen(pilot).calls
    view.publish(two_upstreams((call(3, "github__get_file"), call(1, "github__get_file"))))
    await wait_until(pilot, lambda: calls.row_count == 2)
    view.publish(two_upstreams((call(2, "files__read_text"), call(3, "github__get_file"))))
    await wait_until(pilot, lambda: calls.row_count == 3)
    assert calls.keys == ["3", "2", "1"]


async def test_cursor_on_second_upstream_shows_its_tools(pilot: Pilot[None]) -> None:
    dashboard = screen(pilot)
    assert dashboard.tools.keys == ["github__search_issues", "github__get_file", "github__create_issue"]
    await wait_until(pilot, lambda: pilot.app.focused is dashboard.upstreams)

    await pilot.press("down")
    await wait_until(pilot, lambda: dashboard.tools.keys == ["files__read_text"])
    assert dashboard.tools.border_title == "Tools · files (1)"
    assert cell(dashboard.tools, "files__read_text", "description") == "Read a text file [utf-8]."

    await pilot.press("up")
    await wait_until(pilot, lambda: "github__get_file" in dashboard.tools.keys)


async def test_r_reconnects_the_selected_upstream(pilot: Pilot[None], view: FakeView) -> None:
    await pilot.press("down", "r")
    await wait_until(pilot, lambda: view.reconnects == ["files"])
    await wait_until(pilot, lambda: any("files" in message for message in toasts(pilot)))


async def test_i_shows_the_upstream_in_full_with_its_whole_error(pilot: Pilot[None]) -> None:
    await pilot.press("down", "i")
    detail = await wait_for_screen(pilot, UpstreamDetailScreen)
    text = detail.query_one("#upstream-facts", Document).text
    # the table clips it at 60 characters; here it is whole, with the stderr-less stdio facts around it
    assert "process exited with code 1: ModuleNotFoundError: No module named 'fsserver'" in text
    assert "python -m server" in text and "1 tools, 0 prompts" in text
    await pilot.press("escape")
    await wait_until(pilot, lambda: not isinstance(pilot.app.screen, UpstreamDetailScreen))


async def test_a_failing_reconnect_is_a_toast_not_a_crash(pilot: Pilot[None], view: FakeView) -> None:
    view.reconnect_error = RuntimeError("upstream [files] is not configured")
    await pilot.press("r")
    await wait_until(pilot, lambda: view.reconnects == ["github"])
    await wait_until(pilot, lambda: any(n.severity == "error" for n in pilot.app._notifications))
    assert pilot.app.is_running


async def test_vanished_upstream_leaves_the_table(pilot: Pilot[None], view: FakeView) -> None:
    table = screen(pilot).upstreams
    github, _files = two_upstreams().upstreams
    view.publish(snapshot((github,)))
    await wait_until(pilot, lambda: table.keys == ["github"])
    assert table.row_count == 1


async def test_changes_are_applied_in_place_and_the_cursor_stays_put(
    pilot: Pilot[None], view: FakeView, clock: FakeClock
) -> None:
    dashboard = screen(pilot)
    for table in (dashboard.upstreams, dashboard.tools, dashboard.calls):
        never_rebuilt(table)
    await pilot.press("down")
    await wait_until(pilot, lambda: dashboard.upstreams.selected == "files")

    github, files = two_upstreams().upstreams
    clock.advance(5)
    view.publish(
        snapshot(
            (
                upstream("alpha", status="connecting"),
                dataclasses.replace(github, status="failed", last_error="refused"),
                dataclasses.replace(files, status="ready", next_retry_at=None),
            )
        )
    )
    await wait_until(pilot, lambda: cell(dashboard.upstreams, "files", "status") == "ready")
    assert dashboard.upstreams.keys == ["github", "files", "alpha"]
    assert cell(dashboard.upstreams, "github", "status") == "failed"
    assert cell(dashboard.upstreams, "github", "last_seen") == "8s ago"
    assert dashboard.upstreams.selected == "files"

    view.publish(snapshot((files,)))
    await wait_until(pilot, lambda: dashboard.upstreams.keys == ["files"])
    assert dashboard.upstreams.selected == "files"
    assert dashboard.tools.keys == ["files__read_text"]


async def test_header_shows_where_and_ticks_uptime(pilot: Pilot[None], view: FakeView, clock: FakeClock) -> None:
    header = screen(pilot).header
    facts = str(header.query_one("#facts").render())
    assert "http://127.0.0.1:8080/mcp" in facts
    assert "bearer" in facts
    assert "two_upstreams.yaml" in facts

    def live() -> str:
        return str(header.query_one("#live").render())

    assert live().endswith("up 1:02:03")
    assert "no reload" in live()

    clock.advance(60)
    recent = tuple(call(seq, "github__get_file", started_at=clock.now - seq) for seq in range(1, 9))  # 8 in 10 s
    older = tuple(call(seq, "github__get_file", started_at=clock.now - 60) for seq in range(9, 30))
    view.publish(two_upstreams(recent + older))
    await wait_until(pilot, lambda: live().endswith("up 1:03:03"))
    assert live().startswith("0.8 calls/s")


async def test_p50_latency_per_upstream_and_dashboard_calls(pilot: Pilot[None], view: FakeView) -> None:
    table, calls = screen(pilot).upstreams, screen(pilot).calls
    recent = (
        call(3, "github__get_file", total_ms=30.0, source="dashboard"),
        call(2, "github__get_file", total_ms=10.0),
        call(1, "github__get_file", total_ms=20.0),
    )
    view.publish(two_upstreams(recent))
    await wait_until(pilot, lambda: cell(table, "github", "p50") == "20.0")
    assert cell(table, "files", "p50") == "—"
    assert cell(calls, "3", "client") == "dashboard"
    assert cell(calls, "2", "client") == "claude-code"


async def test_sessions_tab_lists_sessions_and_counts_them(
    pilot: Pilot[None], view: FakeView, clock: FakeClock
) -> None:
    table = screen(pilot).sessions
    view.publish(two_upstreams(sessions=(session("3f2a9c1e-0000-4000-8000-000000000001", calls=7),)))
    await pilot.press("2")
    # The tab switch moves focus after a refresh, so wait for both rather than race the first.
    await wait_until(pilot, lambda: table.row_count == 1 and pilot.app.focused is table)

    key = "3f2a9c1e-0000-4000-8000-000000000001"
    assert cell(table, key, "id") == "3f2a9c1e"
    assert cell(table, key, "client") == "claude-code 1.0.3"
    assert cell(table, key, "protocol") == "2025-06-18"
    assert cell(table, key, "age") == "10m"
    assert cell(table, key, "idle") == "5s"
    assert cell(table, key, "calls") == "7"
    tabs = screen(pilot).query_one("#tabs")
    assert "Sessions (1)" in str(tabs.get_tab("sessions").label)  # type: ignore[attr-defined]


async def test_a_modern_client_is_listed_by_its_client_info_as_stateless(pilot: Pilot[None], view: FakeView) -> None:
    table = screen(pilot).sessions
    modern = session("2026:agent/2", "agent", "2", protocol_version="2026-07-28", era="modern")
    view.publish(two_upstreams(sessions=(modern,)))
    await pilot.press("2")
    await wait_until(pilot, lambda: table.row_count == 1)
    assert cell(table, "2026:agent/2", "client") == "agent 2"
    assert cell(table, "2026:agent/2", "protocol") == "2026-07-28 stateless"


async def test_number_keys_switch_tabs_and_focus_follows(pilot: Pilot[None]) -> None:
    dash = screen(pilot)
    await pilot.press("3")
    await wait_until(pilot, lambda: pilot.app.focused is dash.logs.log_view)
    await pilot.press("2")
    await wait_until(pilot, lambda: pilot.app.focused is dash.sessions)
    await pilot.press("1")
    await wait_until(pilot, lambda: pilot.app.focused is dash.upstreams)


@pytest.mark.parametrize("burst", [10, 120], ids=["row-by-row", "bulk"])
async def test_a_call_under_the_cursor_stays_selected_through_a_burst(
    pilot: Pilot[None], view: FakeView, burst: int
) -> None:
    calls = screen(pilot).calls
    if burst <= 25:  # a small share of the table: must be row-by-row removal, no clear()
        never_rebuilt(calls)
    old = tuple(call(seq, "github__get_file") for seq in range(200, 0, -1))
    view.publish(two_upstreams(old))
    await wait_until(pilot, lambda: calls.row_count == 200)
    calls.focus()
    calls.move_cursor(row=5)
    await wait_until(pilot, lambda: calls.cursor_key == "195")

    new = tuple(call(seq, "files__read_text") for seq in range(200 + burst, 200, -1))
    view.publish(two_upstreams(new + old))
    await wait_until(pilot, lambda: calls.keys[0] == str(200 + burst))
    assert calls.row_count == 200
    assert calls.keys == [str(seq) for seq in range(200 + burst, burst, -1)]
    assert calls.cursor_key == "195"
