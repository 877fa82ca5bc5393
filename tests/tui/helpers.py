"""Bounded waiting for Pilot tests: poll a condition between idle points, never sleep a fixed time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import TabbedContent

from tui.app import DashboardApp
from tui.screens import DashboardScreen
from tui.widgets import KeyedTable

S = TypeVar("S", bound=Screen[Any])

WAIT = 5.0
"""Upper bound for any single wait; the dashboard reacts within a frame."""


async def wait_until(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = WAIT) -> None:
    """Let the app run until `condition()` holds; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await pilot.pause()


async def wait_for_screen(pilot: Pilot[Any], kind: type[S], timeout: float = WAIT) -> S:
    """Wait until the active screen is a `kind` and return it."""
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, kind), timeout)
    screen = pilot.app.screen
    assert isinstance(screen, kind)
    return screen


def dashboard(pilot: Pilot[Any]) -> DashboardScreen:
    app = pilot.app
    assert isinstance(app, DashboardApp)
    return app.dashboard


def cell(table: KeyedTable, key: str, column: str) -> str:
    return str(table.get_cell(key, column))


def toasts(pilot: Pilot[Any]) -> list[str]:
    """The messages of the notifications currently shown."""
    return [notification.message for notification in pilot.app._notifications]


async def show_tab(pilot: Pilot[Any], key: str, pane: str, attempts: int = 5) -> None:
    """Press a tab's key until that tab shows (bounded): right after start, the Overview's first focus can
    still be on its way and take the dashboard back to it."""
    app = pilot.app
    assert isinstance(app, DashboardApp)
    tabs = app.dashboard.query_one("#tabs", TabbedContent)
    for _ in range(attempts):
        await pilot.press(key)
        for _ in range(5):
            await pilot.pause()
        if tabs.active == pane:
            return
    raise AssertionError(f"the {pane} tab never showed")
