"""The runner's entry point into the dashboard."""

from __future__ import annotations

import asyncio
import os
import threading
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
        finished = threading.Event()
        if not self._headless:
            watchdog = threading.Thread(
                target=exit_if_stuck, args=(finished, stop.is_set), name="mcpstead-tty-watch", daemon=True
            )
            watchdog.start()
        try:
            await app.run_async(headless=self._headless, auto_pilot=self._auto_pilot)
        finally:
            finished.set()
            stop.set()


WRITER_THREAD = "textual-output"
STUCK_SECONDS = 10.0
"""How long the app may take to finish once the gateway is stopping or Textual's writer thread has ended."""


def exit_if_stuck(
    finished: threading.Event,
    stopping: Callable[[], bool],
    *,
    grace: float = STUCK_SECONDS,
    poll: float = 0.5,
    exit: Callable[[int], object] = os._exit,
) -> None:
    """End the process when the app cannot finish.

    Textual writes to the terminal from a thread fed by a bounded queue. When the terminal hangs up, a write
    fails and a writer thread ends; the app's next writes, or its own shutdown (which queues a stop for that
    thread and waits), then block the event loop for good, and the gateway, its signal handlers and its
    stdio children would outlive the terminal (seen twice, stuck in WriterThread.stop, once with a second
    writer thread still alive). So once the gateway is stopping (`stopping()`), or a writer thread seen has
    ended, the app gets `grace` seconds to finish; past that nothing can run on the loop, and the process
    exits. Read from this thread, `stopping` is a plain flag (asyncio.Event.is_set).
    """
    seen = False
    while not finished.wait(poll):
        writer = next((t for t in threading.enumerate() if t.name == WRITER_THREAD), None)
        seen = seen or writer is not None
        if stopping() or (seen and writer is None):
            if not finished.wait(grace):
                exit(EXIT_TERMINAL_GONE)
            return


EXIT_TERMINAL_GONE = 129
"""128 + SIGHUP, as a shell reports a process its hangup ended."""
