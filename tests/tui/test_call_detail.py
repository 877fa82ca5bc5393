"""Enter on a recent call: its arguments, result or error, and the timing split."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tests.tui.fakes import T0, FakeClock, FakeView, call, two_upstreams
from tests.tui.helpers import dashboard, wait_for_screen, wait_until
from tui.screens import CallDetailScreen, ToolRunnerScreen

WEATHER = {"city": "Paris", "temperature": 21, "units": "metric"}
CALLS = (
    call(
        2,
        "github__search_issues",
        started_at=T0 - 2,
        total_ms=48.3,
        upstream_ms=45.9,
        arguments={"query": "is:open [bug]", "limit": 5},
        result={
            "content": [
                {"type": "text", "text": '{"city": "Paris"}'},
                {"type": "image", "mimeType": "image/png", "data": "AAAA"},
            ],
            "structuredContent": WEATHER,
            "_meta": {"trace": "abc"},
        },
    ),
    call(
        1,
        "files__read_text",
        started_at=T0 - 9,
        outcome="error",
        total_ms=0.4,
        upstream_ms=None,
        error="upstream 'files' is disconnected (backoff)",
    ),
)


@pytest.fixture
def view(clock: FakeClock) -> FakeView:
    return FakeView(two_upstreams(CALLS), clock=clock)


async def open_call(pilot: Pilot[None], key: str) -> CallDetailScreen:
    calls = dashboard(pilot).calls
    calls.focus()
    calls.move_cursor(row=calls.get_row_index(key))
    await pilot.press("enter")
    return await wait_for_screen(pilot, CallDetailScreen)


async def test_enter_shows_arguments_result_and_timing(pilot: Pilot[None]) -> None:
    detail = await open_call(pilot, "2")
    assert detail.call.seq == 2
    text = detail.document.text
    assert '"query": "is:open [bug]"' in text  # JSON, brackets and all
    assert "Content (2 blocks)" in text
    assert "[image] image/png, 3 bytes" in text
    assert "Structured content" in text and '"temperature": 21' in text
    assert "Other fields" in text and '"trace": "abc"' in text
    timing = str(detail.query_one("#detail-timing").render())
    assert "total 48.3 ms" in timing and "upstream 45.9 ms" in timing and "gateway 2.4 ms" in timing
    assert "22:13:18" in str(detail.query_one("#detail-meta").render())

    await pilot.press("v")  # the raw result, exactly as received
    await wait_until(pilot, lambda: "Result (raw)" in detail.document.text)
    assert '"_meta"' in detail.document.text

    await pilot.press("escape")
    await wait_until(pilot, lambda: pilot.app.screen is dashboard(pilot))


async def test_a_failed_call_shows_its_error(pilot: Pilot[None]) -> None:
    detail = await open_call(pilot, "1")
    assert "upstream 'files' is disconnected (backoff)" in detail.document.text
    assert "upstream time not measured" in str(detail.query_one("#detail-timing").render())


async def test_c_calls_the_same_tool_again_with_the_same_arguments(pilot: Pilot[None]) -> None:
    await open_call(pilot, "2")
    await pilot.press("c")
    runner = await wait_for_screen(pilot, ToolRunnerScreen)
    assert runner.tool.qualified_name == "github__search_issues"
    assert runner.raw  # the fake tool has no properties, so the arguments stay raw JSON
    assert '"limit": 5' in runner.raw_text.text
