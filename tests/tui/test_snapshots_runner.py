"""SVG snapshots of the runner mid-call and of the dialogs a server's questions open (fixed clock and zone,
animations off; regenerate with --snapshot-update)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC
from typing import Any

from textual.pilot import Pilot

from tests.tui.fakes import FakeClock, FakeView, demo
from tests.tui.helpers import wait_for_screen, wait_until
from tests.tui.responders import EVERY_KIND, FORM, SAMPLE, answering, asking, held
from tui.app import DashboardApp
from tui.messages import RunTool
from tui.screens import ElicitationScreen, SamplingScreen, ToolRunnerScreen

Compare = Callable[..., bool]


def app(view: FakeView) -> DashboardApp:
    dashboard = DashboardApp(view, clock=FakeClock(), tz=UTC)
    dashboard.animation_level = "none"
    return dashboard


async def call_sleep(pilot: Pilot[Any]) -> ToolRunnerScreen:
    pilot.app.post_message(RunTool("demo__sleep", {"seconds": 2, "steps": 5}))
    runner = await wait_for_screen(pilot, ToolRunnerScreen)
    await pilot.press("ctrl+s")
    return runner


def test_runner_progress_mid_call_80x24(snap_compare: Compare) -> None:
    view = FakeView(demo())
    view.responders["tools/call"] = held(asyncio.Event(), {}, [{"progress": 2, "total": 5, "message": "step 2 of 5"}])

    async def mid_call(pilot: Pilot[Any]) -> None:
        runner = await call_sleep(pilot)
        await wait_until(pilot, lambda: runner.progress.bar.percentage == 0.4)

    assert snap_compare(app(view), terminal_size=(80, 24), run_before=mid_call)


def test_runner_every_content_kind_120x36(snap_compare: Compare) -> None:
    view = FakeView(demo())
    view.responders["tools/call"] = answering(EVERY_KIND)

    async def answered(pilot: Pilot[Any]) -> None:
        runner = await call_sleep(pilot)
        await wait_until(pilot, lambda: runner.outcome is not None)

    assert snap_compare(app(view), terminal_size=(120, 36), run_before=answered)


def test_elicitation_dialog_80x24(snap_compare: Compare) -> None:
    view = FakeView(demo())
    view.responders["tools/call"] = asking("elicitation/create", FORM, [])

    async def asked(pilot: Pilot[Any]) -> None:
        await call_sleep(pilot)
        await wait_for_screen(pilot, ElicitationScreen)

    assert snap_compare(app(view), terminal_size=(80, 24), run_before=asked)


def test_sampling_dialog_80x24(snap_compare: Compare) -> None:
    view = FakeView(demo())
    view.responders["tools/call"] = asking("sampling/createMessage", SAMPLE, [])

    async def asked(pilot: Pilot[Any]) -> None:
        await call_sleep(pilot)
        dialog = await wait_for_screen(pilot, SamplingScreen)
        await pilot.press(*"Paris")
        await wait_until(pilot, lambda: dialog.reply.text == "Paris")

    assert snap_compare(app(view), terminal_size=(80, 24), run_before=asked)
