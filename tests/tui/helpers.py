"""Bounded waiting for Pilot tests: poll a condition between idle points, never sleep a fixed time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

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
