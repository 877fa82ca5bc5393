"""TuiFrontend.run: the dashboard and the gateway's stop event end together, whichever goes first."""

from __future__ import annotations

import asyncio

from textual.pilot import Pilot

from tests.tui.fakes import FakeView, two_upstreams
from tests.tui.helpers import WAIT
from tui.frontend import AutoPilot, TuiFrontend


def frontend(auto_pilot: AutoPilot) -> TuiFrontend:
    return TuiFrontend(headless=True, frame_interval=0, auto_pilot=auto_pilot)


async def test_setting_stop_from_outside_makes_run_return() -> None:
    view, stop, running = FakeView(two_upstreams()), asyncio.Event(), asyncio.Event()

    async def announce(pilot: Pilot[object]) -> None:
        await pilot.pause()
        running.set()

    task = asyncio.create_task(frontend(announce).run(view, stop))
    await asyncio.wait_for(running.wait(), WAIT)
    assert not task.done()
    stop.set()
    await asyncio.wait_for(task, WAIT)


async def test_pressing_q_returns_and_sets_stop() -> None:
    view, stop = FakeView(two_upstreams()), asyncio.Event()

    async def quit_with_q(pilot: Pilot[object]) -> None:
        await pilot.pause()
        assert not stop.is_set()
        await pilot.press("q")

    await asyncio.wait_for(frontend(quit_with_q).run(view, stop), WAIT)
    assert stop.is_set()


async def test_ctrl_c_quits_like_q() -> None:
    view, stop = FakeView(two_upstreams()), asyncio.Event()

    async def interrupt(pilot: Pilot[object]) -> None:
        await pilot.pause()
        await pilot.press("ctrl+c")

    await asyncio.wait_for(frontend(interrupt).run(view, stop), WAIT)
    assert stop.is_set()


async def test_stop_set_before_start_returns_at_once() -> None:
    stop = asyncio.Event()
    stop.set()
    await asyncio.wait_for(TuiFrontend(headless=True).run(FakeView(two_upstreams()), stop), WAIT)
