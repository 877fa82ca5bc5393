"""The live charts on the dashboard: the header's calls/s sparkline and the selected upstream's panel."""

from __future__ import annotations

import dataclasses
from datetime import UTC

from textual.color import Color
from textual.command import CommandPalette
from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import Input

from mcpstead.state import CallView
from tests.tui.fakes import T0, FakeClock, FakeView, call, two_upstreams
from tests.tui.helpers import dashboard, wait_for_screen, wait_until
from tui.app import DashboardApp
from tui.screens import HelpScreen


async def publish(
    pilot: Pilot[None], view: FakeView, clock: FakeClock, github: tuple[int, int], *calls: CallView
) -> None:
    """One second later, github has counted `github` = (calls, errors); wait until it is on screen.

    The clock moves only between frames, so every snapshot is charted at the second it was published.
    """
    clock.advance(1)
    base = two_upstreams(calls)
    first, files = base.upstreams
    view.publish(
        dataclasses.replace(base, upstreams=(dataclasses.replace(first, calls=github[0], errors=github[1]), files))
    )
    await wait_until(
        pilot, lambda: (snapshot := dashboard(pilot).snapshot) is not None and snapshot.version == view.version
    )


def plain(shown: object) -> str:
    assert isinstance(shown, Content)
    return shown.plain


async def test_growing_counters_become_calls_per_second_in_the_header_and_the_panel(
    pilot: Pilot[None], view: FakeView, clock: FakeClock
) -> None:
    screen = dashboard(pilot)
    await publish(pilot, view, clock, (45, 1))  # github counted 42 before: 3 calls in this second
    await publish(pilot, view, clock, (50, 1))
    await publish(pilot, view, clock, (50, 1))

    header = screen.header.calls_chart.data
    assert header is not None and list(header[-3:]) == [0.0, 3.0, 5.0]
    assert len(header) == 300
    panel = screen.charts.calls
    assert panel.chart.data == header  # github is selected and the only upstream with calls
    assert screen.charts.border_title == "github · last 5 min"
    assert plain(panel.figure.render()) == "0.8 max 5.0"  # 8 calls in the last 10 s
    assert plain(screen.charts.errors.figure.render()) == "none"

    await pilot.press("down")
    await wait_until(pilot, lambda: screen.charts.border_title == "files · last 5 min")
    assert panel.chart.data == [0.0] * 300
    assert plain(panel.figure.render()) == "0.0 max 0.0"


async def test_latency_of_the_new_calls_is_charted_by_the_second_they_started(
    pilot: Pilot[None], view: FakeView, clock: FakeClock
) -> None:
    screen = dashboard(pilot)
    calls = (
        call(3, "github__get_file", started_at=T0 + 0.5, total_ms=250.0),
        call(2, "github__get_file", started_at=T0 + 0.4, total_ms=20.0),
        call(1, "github__get_file", started_at=T0 + 0.1, total_ms=10.0),
    )
    await publish(pilot, view, clock, (45, 1), *calls)
    await publish(pilot, view, clock, (45, 1), *calls)
    p50, p99 = screen.charts.p50.chart.data, screen.charts.p99.chart.data
    assert p50 is not None and list(p50[-2:]) == [20.0, 0.0]
    assert p99 is not None and list(p99[-2:]) == [250.0, 0.0]
    assert plain(screen.charts.p99.figure.render()) == "250 max 250"


async def test_errors_stand_out_in_red(pilot: Pilot[None], view: FakeView, clock: FakeClock) -> None:
    screen = dashboard(pilot)
    await publish(pilot, view, clock, (44, 3))
    await publish(pilot, view, clock, (46, 3))
    errors = screen.charts.errors
    assert errors.chart.data is not None and list(errors.chart.data[-2:]) == [0.0, 2.0]
    figure = errors.figure.render()
    assert isinstance(figure, Content)
    assert figure.plain == "2 in 5 min"
    assert [str(span.style) for span in figure.spans] == ["bold red"]
    error_colour = Color.parse(pilot.app.get_css_variables()["error"])
    assert errors.chart.get_component_styles("sparkline--max-color").color == error_colour
    assert screen.charts.calls.chart.get_component_styles("sparkline--max-color").color != error_colour


async def test_g_hides_and_shows_the_charts_and_the_history_keeps_counting(
    pilot: Pilot[None], view: FakeView, clock: FakeClock
) -> None:
    screen = dashboard(pilot)
    await pilot.press("g")
    await wait_until(pilot, lambda: not screen.charts.display and screen.tools.outer_size.width == 120)
    await publish(pilot, view, clock, (45, 1))
    await publish(pilot, view, clock, (45, 1))
    await pilot.press("g")
    await wait_until(pilot, lambda: screen.charts.display)
    assert screen.charts.calls.chart.data is not None and screen.charts.calls.chart.data[-1] == 3.0
    await wait_until(pilot, lambda: screen.tools.outer_size.width < 120)


async def test_the_palette_toggles_the_charts_and_the_help_lists_the_key(pilot: Pilot[None]) -> None:
    screen = dashboard(pilot)
    await pilot.press("ctrl+p")
    palette = await wait_for_screen(pilot, CommandPalette)
    palette.query_one("CommandInput", Input).value = "hide charts"

    def prompts() -> list[str]:
        options = palette.query_one("CommandList").options  # type: ignore[attr-defined]
        return [str(option.prompt).splitlines()[0] for option in options]

    await wait_until(pilot, lambda: prompts()[:1] == ["Hide charts"])
    await pilot.press("enter")
    await wait_until(pilot, lambda: not screen.charts.display)
    app = pilot.app
    assert isinstance(app, DashboardApp)
    assert "Show charts" in [command.title for command in app.palette_commands()]

    await pilot.press("question_mark")
    help_screen = await wait_for_screen(pilot, HelpScreen)
    text = help_screen.query_one("#help-keys").text  # type: ignore[attr-defined]
    assert any(line.split() == ["g", "Show/hide", "charts"] for line in text.splitlines())


async def test_every_panel_keeps_its_room_at_80x24() -> None:
    clock = FakeClock()
    app = DashboardApp(FakeView(two_upstreams(), clock=clock), clock=clock, frame_interval=0, tz=UTC)
    app.animation_level = "none"
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.dashboard
        assert screen.charts.size.height == 4  # one line per chart inside the border
        assert all(row.size.height == 1 for row in (screen.charts.calls, screen.charts.p99))
        assert screen.charts.calls.chart.size.width >= 8
        assert screen.tools.size.height >= 4 and screen.tools.size.width >= 40
        assert screen.calls.size.height >= 5
        assert screen.header.calls_chart.size.width == 8
