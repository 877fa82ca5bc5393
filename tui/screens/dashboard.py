"""The main screen: header, upstreams, the selected upstream's tools, recent calls, key bindings."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import tzinfo

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from mcpstead.state import GatewaySnapshot, GatewayView, UpstreamView
from tui.widgets import CallTable, StatusHeader, ToolTable, UpstreamTable

RECONNECT_TIMEOUT = 30.0
"""Seconds to wait for `view.reconnect()` before telling the user it did not answer."""


class DashboardScreen(Screen[None]):
    """Shows one snapshot at a time; `apply()` is the only way new gateway state gets in."""

    BINDINGS = [
        Binding("r", "reconnect", "Reconnect"),
        # Re-declared (the base Screen hides them) so the footer teaches how to move between panels.
        Binding("tab", "app.focus_next", "Next panel"),
        Binding("shift+tab", "app.focus_previous", "Previous panel", show=False),
    ]

    def __init__(self, view: GatewayView, *, clock: Callable[[], float], tz: tzinfo | None) -> None:
        super().__init__(id="dashboard")
        self._view = view
        self._clock = clock
        self._snapshot: GatewaySnapshot | None = None
        self.header = StatusHeader(id="header")
        self.upstreams = UpstreamTable(id="upstreams")
        self.tools = ToolTable(id="tools")
        self.calls = CallTable(tz=tz, id="calls")

    @property
    def snapshot(self) -> GatewaySnapshot | None:
        """The snapshot currently on screen."""
        return self._snapshot

    def compose(self) -> ComposeResult:
        yield self.header
        yield self.upstreams
        yield self.tools
        yield self.calls
        yield Footer()

    def on_mount(self) -> None:
        # Paint real data in the first frame rather than waiting for the first change.
        self.apply(self._view.snapshot())

    def apply(self, snapshot: GatewaySnapshot) -> None:
        """Bring every panel up to `snapshot` with keyed, in-place updates (call inside batch_update)."""
        self._snapshot = snapshot
        now = self._clock()
        self.header.apply(snapshot, now)
        self.upstreams.apply(snapshot.upstreams, now)
        self.tools.show(self._selected_upstream())
        self.calls.apply(snapshot.calls)

    def _selected_upstream(self) -> UpstreamView | None:
        name = self.upstreams.selected
        if self._snapshot is None or name is None:
            return None
        return next((u for u in self._snapshot.upstreams if u.name == name), None)

    @on(DataTable.RowHighlighted, "#upstreams")
    def _upstream_highlighted(self) -> None:
        self.tools.show(self._selected_upstream())

    def action_reconnect(self) -> None:
        name = self.upstreams.selected
        if name is None:
            self.notify("No upstream selected", severity="warning")
            return
        self._reconnect(name)

    @work(group="reconnect")
    async def _reconnect(self, name: str) -> None:
        """Ask the gateway to reconnect `name` and toast the outcome; failures never reach the app."""
        try:
            async with asyncio.timeout(RECONNECT_TIMEOUT):
                await self._view.reconnect(name)
        except TimeoutError:
            self.notify(f"{name}: no answer after {RECONNECT_TIMEOUT:.0f}s", severity="warning", markup=False)
        except Exception as error:
            self.notify(f"{name}: reconnect failed: {error}", severity="error", markup=False)
        else:
            self.notify(f"{name}: reconnect requested", markup=False)
