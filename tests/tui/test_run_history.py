"""The run history: kept by the app, bounded, listed with `h`, each run shown and opened again pre-filled;
and the keys and palette entries of the request pages."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from textual.command import CommandPalette
from textual.pilot import Pilot

from mcpstead.state import RunningRequest
from tests.tui.fakes import FakeClock, FakeView, demo
from tests.tui.helpers import dashboard, wait_for_screen, wait_until
from tests.tui.responders import answering, failing, held
from tui.app import DashboardApp
from tui.messages import ReplayRequest, RunTool
from tui.runs import RunHistory, RunOutcome, wait_for_answer, with_progress_token
from tui.screens import HelpScreen, HistoryScreen, RawRequestScreen, ToolRunnerScreen


@pytest.fixture
def view(clock: FakeClock) -> FakeView:
    fake = FakeView(demo(), clock=clock)
    fake.responders["tools/call"] = answering({"content": [{"type": "text", "text": "5"}]})
    fake.responders["resources/read"] = failing(-32602, "Unknown resource: test://nope")
    return fake


def runs(pilot: Pilot[None]) -> RunHistory:
    app = pilot.app
    assert isinstance(app, DashboardApp)
    return app.runs


async def call_add(pilot: Pilot[None], view: FakeView, clock: FakeClock) -> None:
    gate = asyncio.Event()
    view.responders["tools/call"] = held(gate, {"content": [{"type": "text", "text": "5"}]})
    pilot.app.post_message(RunTool("demo__add", {"a": 2, "b": 3}))
    runner = await wait_for_screen(pilot, ToolRunnerScreen)
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: runner.running is not None)
    clock.advance(0.25)
    gate.set()
    await wait_until(pilot, lambda: runner.outcome is not None)
    await pilot.press("escape")
    await wait_until(pilot, lambda: pilot.app.screen is dashboard(pilot))


async def read_nope(pilot: Pilot[None]) -> None:
    pilot.app.post_message(ReplayRequest("resources/read", {"uri": "test://nope"}))
    raw = await wait_for_screen(pilot, RawRequestScreen)
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: raw.outcome is not None)
    await pilot.press("escape")
    await wait_until(pilot, lambda: pilot.app.screen is dashboard(pilot))


async def test_h_lists_the_runs_newest_first_and_shows_the_chosen_one(
    pilot: Pilot[None], view: FakeView, clock: FakeClock
) -> None:
    await call_add(pilot, view, clock)
    await read_nope(pilot)
    assert [run.title for run in runs(pilot)] == ["resources/read", "demo__add"]

    await pilot.press("h")
    history = await wait_for_screen(pilot, HistoryScreen)
    table = history.table
    assert table.row_count == 2
    assert [str(cell) for cell in table.get_row_at(0)] == ["2", "22:13:20", "resources/read", "0 ms", "error"]
    assert [str(cell) for cell in table.get_row_at(1)] == ["1", "22:13:20", "demo__add", "250 ms", "ok"]
    await wait_until(pilot, lambda: "Unknown resource: test://nope" in history.detail.text)
    assert '"uri": "test://nope"' in history.detail.text  # the request as sent

    await pilot.press("down")
    await wait_until(pilot, lambda: "Request  tools/call" in history.detail.text)
    assert '"a": 2' in history.detail.text and "Content (1 block)" in history.detail.text

    await pilot.press("h")
    await wait_until(pilot, lambda: pilot.app.screen is dashboard(pilot))


async def test_a_run_opens_again_pre_filled(pilot: Pilot[None], clock: FakeClock, view: FakeView) -> None:
    await call_add(pilot, view, clock)
    await read_nope(pilot)
    await pilot.press("h")
    history = await wait_for_screen(pilot, HistoryScreen)
    await pilot.press("down", "enter")  # the tool call
    runner = await wait_for_screen(pilot, ToolRunnerScreen)
    assert runner.tool.qualified_name == "demo__add"
    assert runner.form.widget("a").value == "2"  # type: ignore[attr-defined]
    assert runner.form.widget("b").value == "3"  # type: ignore[attr-defined]
    await pilot.press("escape")

    await pilot.press("h")
    history = await wait_for_screen(pilot, HistoryScreen)
    await pilot.press("c")  # the raw request, on top
    raw = await wait_for_screen(pilot, RawRequestScreen)
    assert raw.method.value == "resources/read"
    assert raw.params.text == '{\n  "uri": "test://nope"\n}'  # without the progress token the dashboard added
    assert history not in pilot.app.screen_stack


async def test_an_empty_history_says_how_to_fill_it(pilot: Pilot[None]) -> None:
    await pilot.press("h")
    history = await wait_for_screen(pilot, HistoryScreen)
    assert "No runs yet" in history.detail.text
    await pilot.press("enter")
    assert pilot.app.screen is history


def test_the_history_is_bounded_newest_first() -> None:
    history = RunHistory(size=3)
    for _ in range(5):
        seq = history.next_seq()
        history.add(RunOutcome(seq, "ping", {}, 0.0, 1.0, {"jsonrpc": "2.0", "id": seq, "result": {}}))
    assert [run.seq for run in history] == [5, 4, 3]
    assert len(history) == 3


def test_outcomes_and_replay_params() -> None:
    sent, token = with_progress_token({"name": "t", "arguments": {}, "_meta": {"trace": 1}})
    assert sent["_meta"] == {"trace": 1, "progressToken": token}
    call = RunOutcome(1, "tools/call", sent, 0.0, 1.0, {"result": {"content": [], "isError": True}})
    assert call.kind == "tool_error" and call.title == "t" and call.error_text is None
    assert call.replay_params() == {"name": "t", "arguments": {}, "_meta": {"trace": 1}}
    cancelled = RunOutcome(2, "ping", {}, 0.0, 1.0, {"error": {"code": -32800, "message": "Request cancelled"}})
    assert cancelled.kind == "cancelled" and cancelled.error_text == "Request cancelled (code -32800)"
    timed_out = RunOutcome(3, "ping", {}, 0.0, 1.0, None, failure="no answer within 300 s")
    assert timed_out.kind == "error" and timed_out.error_text == "no answer within 300 s"


async def test_waiting_gives_up_after_the_timeout_and_cancels() -> None:
    view = FakeView(demo())

    async def never(params: dict[str, Any], handler: object) -> dict[str, Any]:
        await asyncio.Event().wait()
        return {}

    view.responders["ping"] = never
    running: RunningRequest = view.start_request("ping", {"_meta": {"progressToken": "p"}}, None)
    ending = await wait_for_answer(running, timeout=0.01)
    assert ending.failure == "no answer within 0 s" and ending.answer is None
    assert view.cancelled == [("dashboard-1", "no answer within 0 s")]


async def test_help_and_palette_list_the_new_actions(pilot: Pilot[None], clock: FakeClock, view: FakeView) -> None:
    await pilot.press("question_mark")
    help_screen = await wait_for_screen(pilot, HelpScreen)
    text = help_screen.query_one("#help-keys").text  # type: ignore[attr-defined]
    for expected in (
        "Run history",
        "JSON-RPC request",
        "Cancel call",
        "Save data",
        "Open again",
        "Accept",
        "Decline",
        "Copy URL",
        "Send reply",
        "Reject",
    ):
        assert expected in text, expected
    await pilot.press("escape")

    gate = asyncio.Event()
    view.responders["tools/call"] = held(gate, {"content": []})
    pilot.app.post_message(RunTool("demo__add", {"a": 2, "b": 3}))
    runner = await wait_for_screen(pilot, ToolRunnerScreen)
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: runner.running is not None)
    await pilot.press("ctrl+p")
    palette = await wait_for_screen(pilot, CommandPalette)

    def prompts() -> list[str]:
        options: Any = palette.query_one("CommandList").options  # type: ignore[attr-defined]
        return [str(option.prompt).splitlines()[0] for option in options]

    await wait_until(pilot, lambda: "Cancel the running request" in prompts())
    for expected in ("Call demo__add", "Raw result", "Run history", "JSON-RPC request"):
        assert expected in prompts(), expected
    palette.query_one("CommandInput").value = "cancel the running"  # type: ignore[attr-defined]
    await wait_until(pilot, lambda: prompts()[:1] == ["Cancel the running request"])
    await pilot.press("enter")
    await wait_until(pilot, lambda: runner.outcome is not None)
    assert runner.outcome is not None and runner.outcome.kind == "cancelled"
