"""Shared fixtures for the dashboard tests: a fake view, a fixed clock and a running app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC

import pytest
from textual.pilot import Pilot

from tests.tui.fakes import FakeClock, FakeView, two_upstreams
from tui.app import DashboardApp

SIZE = (120, 36)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def view(clock: FakeClock) -> FakeView:
    return FakeView(two_upstreams(), clock=clock)


@pytest.fixture
async def pilot(view: FakeView, clock: FakeClock) -> AsyncIterator[Pilot[None]]:
    app = DashboardApp(view, clock=clock, frame_interval=0, tz=UTC)
    app.animation_level = "none"
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        yield pilot
