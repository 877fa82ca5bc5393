"""The Traffic tab, the message detail and the capture viewer, driven by Pilot."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC

from textual.pilot import Pilot

from tests.tui.fakes import FakeView
from tests.tui.helpers import dashboard, toasts, wait_for_screen, wait_until
from tests.tui.traffic_scene import Script, tools_call_over_stdio
from tui.capture_viewer import CaptureViewer
from tui.screens.help import HelpScreen
from tui.screens.traffic_detail import TrafficDetailScreen
from tui.widgets.document import Document
from tui.widgets.json_tree import JsonTree


def scene() -> Script:
    script = Script()
    tools_call_over_stdio(script, call=1, client_id=7, upstream_id=41, token="t")
    script.add("client", "in", {"jsonrpc": "2.0", "id": 8, "method": "ping"}, call=2)
    script.add("client", "out", {"jsonrpc": "2.0", "id": 8, "error": {"code": -32601, "message": "no"}}, call=2)
    return script


def cells(pilot: Pilot[None], column: str) -> list[str]:
    table = dashboard(pilot).traffic.table
    return [str(table.get_cell(key, column)) for key in table.keys]


async def test_messages_show_grouped_under_their_call_once_the_tab_is_open(pilot: Pilot[None], view: FakeView) -> None:
    view.traffic = scene().records
    traffic = dashboard(pilot).traffic
    passes = view.log_reads
    await wait_until(pilot, lambda: view.log_reads >= passes + 3)  # the dashboard's loop went round
    assert view.traffic_reads == 0 and len(traffic.model) == 0  # hidden, nothing is even read
    await pilot.press("4")
    await wait_until(pilot, lambda: traffic.table.row_count == 8)
    hops = ["client→gw", "gw→up", "up→gw", "gw→client", "up→gw", "gw→client", "client→gw", "gw→client"]
    assert cells(pilot, "hop") == hops
    assert cells(pilot, "message")[:3] == ["tools/call", "  ↳ tools/call", "  ↳ notifications/progress"]
    assert cells(pilot, "message")[5] == "  ↳ result tools/call"
    assert cells(pilot, "ms")[5] == "50.0" and cells(pilot, "upstream")[0] == "demo"
    assert cells(pilot, "message")[7] == "  ↳ error -32601 ping"
    assert pilot.app.focused is traffic.table and traffic.table.cursor_row == 7  # it follows the newest

    script = scene()
    view.traffic = [*view.traffic, *[r for r in script.records if r.seq > 8]]  # nothing new: no change
    await pilot.pause()
    assert traffic.table.row_count == 8


async def test_the_tab_says_how_many_messages_the_gateway_did_not_keep_for_it(
    pilot: Pilot[None], view: FakeView
) -> None:
    """What left the core's ring before the tab read it is gone; a gap in the numbers says how much."""
    view.traffic = scene().records[:2]
    traffic = dashboard(pilot).traffic
    await pilot.press("4")
    await wait_until(pilot, lambda: traffic.table.row_count == 2)
    assert "not kept" not in str(traffic.status.render())
    await pilot.press("1")
    later = Script()
    tools_call_over_stdio(later, call=5, client_id=9, upstream_id=43, token="u")
    view.traffic = [replace(record, seq=record.seq + 10) for record in later.records]  # 3-10 left the ring
    await pilot.press("4")
    await wait_until(pilot, lambda: traffic.table.row_count == 2 + len(later.records))
    assert "8 older messages not kept" in str(traffic.status.render())


async def test_the_filter_and_errors_only_narrow_the_rows(pilot: Pilot[None], view: FakeView) -> None:
    view.traffic = scene().records
    traffic = dashboard(pilot).traffic
    await pilot.press("4")
    await wait_until(pilot, lambda: traffic.table.row_count == 8)
    await pilot.press("slash", *"m:progress", "enter")
    await wait_until(pilot, lambda: traffic.table.row_count == 2)
    assert set(cells(pilot, "message")) == {"  ↳ notifications/progress"}
    await pilot.press("escape")
    await wait_until(pilot, lambda: traffic.table.row_count == 8)
    await pilot.press("e")
    await wait_until(pilot, lambda: traffic.table.row_count == 1)
    assert "errors only" in str(traffic.status.render())
    await pilot.press("e")
    await wait_until(pilot, lambda: traffic.table.row_count == 8)


async def test_the_detail_shows_both_hops_and_what_the_gateway_changed(pilot: Pilot[None], view: FakeView) -> None:
    view.traffic = scene().records
    traffic = dashboard(pilot).traffic
    await pilot.press("4")
    await wait_until(pilot, lambda: traffic.table.row_count == 8)
    traffic.table.move_cursor(row=0)
    await pilot.press("enter")
    detail = await wait_for_screen(pilot, TrafficDetailScreen)
    trees = list(detail.query(JsonTree))
    assert [tree.root.data["params"]["name"] for tree in trees] == ["demo__sleep", "sleep"]
    changed = str(detail.query_one("#traffic-changes").render())
    assert 'params.name: "demo__sleep" → "sleep"' in changed and "id: 7 → 41" in changed
    await pilot.press("y")
    assert json.loads(pilot.app.clipboard)["params"]["name"] == "demo__sleep"
    await pilot.press("o")
    assert json.loads(pilot.app.clipboard)["params"]["name"] == "sleep"
    await pilot.press("escape")
    assert pilot.app.screen is dashboard(pilot)


async def test_replay_is_only_for_a_clients_request(pilot: Pilot[None], view: FakeView) -> None:
    view.traffic = scene().records
    traffic = dashboard(pilot).traffic
    await pilot.press("4")
    await wait_until(pilot, lambda: traffic.table.row_count == 8)
    traffic.table.move_cursor(row=2)  # a progress notification from the upstream
    await pilot.press("p")
    await wait_until(pilot, lambda: any("Only a client's request" in t for t in toasts(pilot)))


async def test_the_capture_viewer_shows_a_capture_and_cannot_replay() -> None:
    app = CaptureViewer(scene().records, title="capture.jsonl", tz=UTC)
    app.animation_level = "none"
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        table = app.screen.traffic.table  # type: ignore[attr-defined]
        await wait_until(pilot, lambda: table.row_count == 8)
        table.move_cursor(row=0)
        await pilot.press("p")
        await wait_until(pilot, lambda: any("needs a running gateway" in t for t in toasts(pilot)))
        await pilot.press("enter")
        await wait_for_screen(pilot, TrafficDetailScreen)
        await pilot.press("escape", "question_mark")
        help_screen = await wait_for_screen(pilot, HelpScreen)
        assert "Replay" in help_screen.query_one("#help-keys", Document).text
