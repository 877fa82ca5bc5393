"""The dashboard App: follows the gateway through the read-model seam and forwards frames to screens."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import tzinfo

from textual import on, work
from textual.app import App
from textual.binding import Binding

from mcpstead.state import GatewayView
from tui.messages import SnapshotChanged
from tui.screens import DashboardScreen

TICK_SECONDS = 1.0
"""Longest wait for a change; on timeout a frame is posted anyway so uptime and "ago" columns tick."""

RETRY_SECONDS = 1.0
"""Pause after the view itself fails, so a broken view cannot spin the loop."""


class DashboardApp(App[None]):
    """The live dashboard.

    One worker waits on `view.wait_for_change()`, posts a coalescing `SnapshotChanged`, then sleeps
    `frame_interval`, so the UI costs the gateway at most a few snapshots a second however busy it is.
    `clock` and `tz` are injectable so screenshots are deterministic; `stop`, when given, is an event
    that makes the app exit when something outside (a signal) sets it.
    """

    CSS_PATH = "mcpstead.tcss"
    TITLE = "mcpstead"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        # Textual binds ctrl+c to copy/help; on a gateway console it must quit like the headless mode does.
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        view: GatewayView,
        *,
        stop: asyncio.Event | None = None,
        clock: Callable[[], float] = time.time,
        frame_interval: float = 0.2,
        tz: tzinfo | None = None,
    ) -> None:
        super().__init__()
        self.view = view
        self.clock = clock
        self.frame_interval = frame_interval
        self._stop = stop
        self.dashboard = DashboardScreen(view, clock=clock, tz=tz)

    def get_default_screen(self) -> DashboardScreen:
        return self.dashboard

    def on_mount(self) -> None:
        self._follow_view()
        if self._stop is not None:
            self._exit_when_set(self._stop)

    @work(group="liveness", exclusive=True)
    async def _follow_view(self) -> None:
        seen = self.view.version
        failing = False
        while True:
            try:
                seen = await self.view.wait_for_change(seen, timeout=TICK_SECONDS)
                self.post_message(SnapshotChanged(self.view.snapshot()))
                failing = False
            except Exception as error:
                # The dashboard must never take the gateway down with it: report once, retry calmly.
                if not failing:
                    self.notify(f"Dashboard cannot read gateway state: {error}", severity="error", markup=False)
                failing = True
                await asyncio.sleep(RETRY_SECONDS)
                continue
            await asyncio.sleep(self.frame_interval)

    @work(group="stop")
    async def _exit_when_set(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self.exit()

    @on(SnapshotChanged)
    def _snapshot_changed(self, message: SnapshotChanged) -> None:
        if not self.dashboard.is_mounted:
            return  # its on_mount pulls a fresh snapshot itself
        with self.batch_update():
            self.dashboard.apply(message.snapshot)
