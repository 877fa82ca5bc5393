"""The runner's entry point into the dashboard."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from datetime import tzinfo
from typing import Any

from textual.pilot import Pilot

from mcpstead.state import GatewayView
from tui.app import DashboardApp

AutoPilot = Callable[[Pilot[object]], Coroutine[Any, Any, None]]
"""A coroutine that drives the running app (Textual's auto_pilot), for tests."""


class TuiFrontend:
    """Runs the dashboard on the already-running event loop, alongside the gateway.

    `run()` returns when the user quits (and then sets `stop`, so the gateway shuts down too) or when
    `stop` is set from outside (a signal), in which case the app exits and restores the terminal first.
    `headless` and `auto_pilot` exist for tests, which drive the real `run()` without a terminal.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        frame_interval: float = 0.2,
        tz: tzinfo | None = None,
        headless: bool = False,
        auto_pilot: AutoPilot | None = None,
    ) -> None:
        self._clock = clock
        self._frame_interval = frame_interval
        self._tz = tz
        self._headless = headless
        self._auto_pilot = auto_pilot

    async def run(self, view: GatewayView, stop: asyncio.Event) -> None:
        if stop.is_set():
            return
        app = DashboardApp(view, stop=stop, clock=self._clock, frame_interval=self._frame_interval, tz=self._tz)
        try:
            await app.run_async(headless=self._headless, auto_pilot=self._auto_pilot)
        finally:
            stop.set()
