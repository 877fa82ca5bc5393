"""SVG snapshots of prompts, resources and templates at 80x24 (regenerate with --snapshot-update)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any

from textual.pilot import Pilot

from tests.tui.browse_scene import browse, browse_view
from tests.tui.fakes import FakeClock, FakeView
from tests.tui.helpers import dashboard, wait_for_screen, wait_until
from tui.app import DashboardApp
from tui.screens import PromptScreen, ResourceScreen

Compare = Callable[..., bool]
SIZE = (80, 24)


def app() -> DashboardApp:
    clock = FakeClock()
    dashboard_app = DashboardApp(browse_view(FakeView(browse(), clock=clock)), clock=clock, tz=UTC)
    dashboard_app.animation_level = "none"
    return dashboard_app


def open_item(key: str) -> Callable[[Pilot[Any]], Any]:
    async def run(pilot: Pilot[Any]) -> None:
        dash = dashboard(pilot)
        await wait_until(pilot, lambda: dash.snapshot is not None)
        assert dash.snapshot is not None
        dash.open_offered(next(item for item in dash.snapshot.offered if item.key == key))

    return run


def test_prompts_beside_the_charts_80x24(snap_compare: Compare) -> None:
    async def prompts(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: pilot.app.focused is dashboard(pilot).upstreams)
        await pilot.press("enter", "t")
        await wait_until(pilot, lambda: pilot.app.focused is dashboard(pilot).lists.prompts)

    assert snap_compare(app(), terminal_size=SIZE, run_before=prompts)


def test_a_markdown_resource_read_80x24(snap_compare: Compare) -> None:
    async def read(pilot: Pilot[Any]) -> None:
        await open_item("github://mcpstead/README.md")(pilot)
        screen = await wait_for_screen(pilot, ResourceScreen)
        await wait_until(pilot, lambda: screen.reads == 1)
        await pilot.press("u")
        await wait_until(pilot, lambda: screen.subscription.state == "on")

    assert snap_compare(app(), terminal_size=SIZE, run_before=read)


def test_a_prompt_form_with_suggestions_80x24(snap_compare: Compare) -> None:
    async def suggest(pilot: Pilot[Any]) -> None:
        await open_item("github__review")(pilot)
        screen = await wait_for_screen(pilot, PromptScreen)
        await wait_until(pilot, lambda: pilot.app.focused is screen.form.field("repo").input)
        await pilot.press("m")
        await wait_until(pilot, lambda: screen.form.field("repo").showing)
        await pilot.press("down")

    assert snap_compare(app(), terminal_size=SIZE, run_before=suggest)
