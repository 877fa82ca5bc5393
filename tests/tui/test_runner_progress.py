"""The runner while a call runs: the progress bar and message from notifications, the elapsed time, cancel."""

from __future__ import annotations

import asyncio

import pytest
from textual.pilot import Pilot

from tests.tui.fakes import FakeClock, FakeView, demo
from tests.tui.helpers import dashboard, wait_for_screen, wait_until
from tests.tui.responders import held
from tui.messages import RunTool
from tui.screens import ToolRunnerScreen

DONE = {"content": [{"type": "text", "text": "slept"}]}


@pytest.fixture
def view(clock: FakeClock) -> FakeView:
    return FakeView(demo(), clock=clock)


async def start(pilot: Pilot[None], view: FakeView, gate: asyncio.Event, *steps: dict[str, object]) -> ToolRunnerScreen:
    view.responders["tools/call"] = held(gate, DONE, steps)
    pilot.app.post_message(RunTool("demo__sleep", {"seconds": 1}))
    runner = await wait_for_screen(pilot, ToolRunnerScreen)
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: runner.running is not None)
    return runner


async def test_the_call_asks_for_progress_and_the_bar_follows_it(pilot: Pilot[None], view: FakeView) -> None:
    gate = asyncio.Event()
    runner = await start(pilot, view, gate, {"progress": 1, "total": 4, "message": "step 1 of 4"})
    method, params = view.requests[0]
    assert method == "tools/call"
    token = params["_meta"]["progressToken"]
    assert isinstance(token, str) and token

    await wait_until(pilot, lambda: runner.progress.bar.percentage == 0.25)
    assert str(runner.progress.message.render()) == "step 1 of 4"

    assert runner.human is not None
    runner.human.notified(
        {"method": "notifications/progress", "params": {"progressToken": token, "progress": 3, "total": 4}}
    )
    await wait_until(pilot, lambda: runner.progress.bar.percentage == 0.75)
    assert str(runner.progress.message.render()) == "3 of 4"  # no message: the numbers

    runner.human.notified({"method": "notifications/message", "params": {"level": "info", "data": "halfway there"}})
    await wait_until(pilot, lambda: str(runner.progress.message.render()) == "info: halfway there")
    assert runner.progress.notifications == 3

    gate.set()
    await wait_until(pilot, lambda: runner.outcome is not None)
    assert not runner.progress.display
    assert "slept" in runner.result.text


async def test_progress_without_a_total_is_indeterminate(pilot: Pilot[None], view: FakeView) -> None:
    gate = asyncio.Event()
    runner = await start(pilot, view, gate, {"progress": 7, "message": "working"})
    await wait_until(pilot, lambda: str(runner.progress.message.render()) == "working")
    assert runner.progress.bar.total is None and runner.progress.bar.percentage is None
    gate.set()


async def test_elapsed_time_ticks_while_running(pilot: Pilot[None], view: FakeView, clock: FakeClock) -> None:
    gate = asyncio.Event()
    runner = await start(pilot, view, gate)
    assert "Running… 0.0 s" in str(runner.progress.elapsed.render())
    clock.advance(2.5)
    await wait_until(pilot, lambda: "Running… 2.5 s" in str(runner.progress.elapsed.render()))
    gate.set()
    await wait_until(pilot, lambda: runner.outcome is not None)
    assert runner.outcome is not None and runner.outcome.duration_ms == 2500


async def test_ctrl_x_cancels_the_call_and_says_so(pilot: Pilot[None], view: FakeView) -> None:
    runner = await start(pilot, view, asyncio.Event())
    await pilot.press("ctrl+x")
    await wait_until(pilot, lambda: runner.outcome is not None)
    assert view.cancelled == [("dashboard-1", "cancelled from the dashboard")]
    assert runner.outcome is not None and runner.outcome.kind == "cancelled"
    assert "Cancelled (notifications/cancelled sent) before any answer." in runner.result.text
    assert str(runner.result_status.render()).startswith("cancelled")
    assert not runner.busy


async def test_the_cancel_button_and_the_gateways_minus_32800_answer(pilot: Pilot[None], view: FakeView) -> None:
    """The real gateway answers a cancelled call with -32800; the runner shows that answer."""
    release = asyncio.Event()

    async def cancellable(params: dict[str, object], handler: object) -> dict[str, object]:
        await release.wait()
        return {"error": {"code": -32800, "message": "Request cancelled"}}

    view.responders["tools/call"] = cancellable
    pilot.app.post_message(RunTool("demo__sleep", {"seconds": 1}))
    runner = await wait_for_screen(pilot, ToolRunnerScreen)
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: runner.running is not None)
    running = runner.running
    assert running is not None
    running.send_cancel = lambda reason: _note_and_release(view, reason, release)
    await pilot.click("#cancel-request")
    await wait_until(pilot, lambda: runner.outcome is not None)
    assert view.cancelled == [("button", "cancelled from the dashboard")]
    assert "the gateway answered Request cancelled (code -32800)" in runner.result.text


async def _note_and_release(view: FakeView, reason: str, release: asyncio.Event) -> None:
    view.cancelled.append(("button", reason))
    release.set()


async def test_ctrl_x_does_nothing_when_nothing_runs(pilot: Pilot[None], view: FakeView) -> None:
    pilot.app.post_message(RunTool("demo__sleep", {"seconds": 1}))
    runner = await wait_for_screen(pilot, ToolRunnerScreen)
    assert runner.check_action("cancel_request", ()) is False  # hidden from the footer, and the key passes on
    await pilot.press("ctrl+x")
    await pilot.pause()
    assert view.cancelled == [] and view.requests == []


async def test_leaving_the_runner_cancels_its_call_and_records_it(pilot: Pilot[None], view: FakeView) -> None:
    runner = await start(pilot, view, asyncio.Event())
    await pilot.press("escape")
    await wait_until(pilot, lambda: pilot.app.screen is dashboard(pilot))
    await wait_until(pilot, lambda: len(view.cancelled) == 1)
    assert view.cancelled[0][1] == "the dashboard closed the page that sent it"
    assert runner.outcome is not None and runner.outcome.kind == "cancelled"
