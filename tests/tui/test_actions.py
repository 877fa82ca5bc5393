"""App-wide actions: reload (ok, refused, exception), end session, filter, help, the command palette."""

from __future__ import annotations

import dataclasses

import pytest
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input

from mcpstead.state import ReloadView
from tests.tui.fakes import T0, FakeClock, FakeView, call, session, two_upstreams
from tests.tui.helpers import dashboard, toasts, wait_for_screen, wait_until
from tui.screens import ConfirmScreen, HelpScreen, ReloadErrorsScreen

SESSION_ID = "3f2a9c1e-0000-4000-8000-000000000001"


@pytest.fixture
def view(clock: FakeClock) -> FakeView:
    calls = (call(2, "github__get_file", client="cursor"), call(1, "github__search_issues"))
    return FakeView(
        two_upstreams(calls, sessions=(session(SESSION_ID), session("9b1c2d3e-0000", "cursor"))), clock=clock
    )


def live_header(pilot: Pilot[None]) -> str:
    return str(dashboard(pilot).header.query_one("#live").render())


async def test_ctrl_r_reloads_and_toasts_the_changes(pilot: Pilot[None], view: FakeView) -> None:
    view.reload_result = ReloadView(at=T0, ok=True, added=("search",), removed=("files",), ignored=("port",))
    await pilot.press("ctrl+r")
    await wait_until(pilot, lambda: any(m.startswith("Config reloaded") for m in toasts(pilot)))
    assert view.reloads == 1
    assert "Config reloaded: added search; removed files" in toasts(pilot)
    assert "Needs a restart to take effect: port" in toasts(pilot)
    await wait_until(pilot, lambda: "reload ok 0s ago" in live_header(pilot))

    await pilot.press("R")  # the other key for the same action
    await wait_until(pilot, lambda: view.reloads == 2)


async def test_a_refused_reload_lists_every_error_in_a_dialog(pilot: Pilot[None], view: FakeView) -> None:
    errors = (
        "config.yaml:9:10: servers[1] (name: local).url: must be an http(s) URL",
        "config.yaml:12:11: servers[2] (name: github).name: duplicate name 'github'",
    )
    view.reload_result = ReloadView(at=T0, ok=False, errors=errors)
    await pilot.press("ctrl+r")
    dialog = await wait_for_screen(pilot, ReloadErrorsScreen)
    assert dialog.errors == errors
    text = dialog.query_one("#error-list").text  # type: ignore[attr-defined]
    assert all(error in text for error in errors)
    await wait_until(pilot, lambda: "reload failed" in live_header(pilot))

    await pilot.press("escape")
    await wait_until(pilot, lambda: pilot.app.screen is dashboard(pilot))


async def test_an_exception_during_reload_is_a_dialog_not_a_crash(pilot: Pilot[None], view: FakeView) -> None:
    view.reload_error = OSError("config.yaml: permission denied")
    await pilot.press("ctrl+r")
    dialog = await wait_for_screen(pilot, ReloadErrorsScreen)
    assert dialog.errors == ("OSError: config.yaml: permission denied",)
    assert pilot.app.is_running
    await pilot.press("enter")
    view.reload_error = None
    await pilot.press("ctrl+r")  # a failed reload does not block the next one
    await wait_until(pilot, lambda: view.reloads == 2)


async def test_x_ends_a_session_after_confirmation(pilot: Pilot[None], view: FakeView) -> None:
    sessions = dashboard(pilot).sessions
    await pilot.press("2")
    await wait_until(pilot, lambda: pilot.app.focused is sessions)
    assert sessions.cursor_key == SESSION_ID

    await pilot.press("x")
    await wait_for_screen(pilot, ConfirmScreen)
    await pilot.press("n")  # cancel: nothing happens
    await wait_until(pilot, lambda: pilot.app.screen is dashboard(pilot))
    assert view.ended == []

    await pilot.press("delete")
    await wait_for_screen(pilot, ConfirmScreen)
    await pilot.press("y")
    await wait_until(pilot, lambda: view.ended == [SESSION_ID])
    await wait_until(pilot, lambda: sessions.keys == ["9b1c2d3e-0000"])
    assert "Session 3f2a9c1e ended" in toasts(pilot)


async def test_slash_filters_tools_calls_and_sessions_and_escape_clears(pilot: Pilot[None]) -> None:
    dash = dashboard(pilot)
    assert dash.tools.row_count == 3 and dash.calls.row_count == 2
    await pilot.press("slash")
    assert dash.query_one("#filter-bar").display
    await wait_until(pilot, lambda: pilot.app.focused is dash.filter_input)

    await pilot.press(*"get_")
    await wait_until(pilot, lambda: dash.tools.keys == ["github__get_file"])
    assert dash.calls.keys == ["2"]
    assert dash.calls.border_title == "Recent calls (1 of 2 match)"
    assert dash.tools.border_title == "Tools · github (1 of 3 match)"

    await pilot.press("enter")  # keep the filter, go back to the table
    await wait_until(pilot, lambda: pilot.app.focused is dash.upstreams)
    assert dash.query_one("#filter-bar").display

    dash.filter_input.value = "cursor"  # the client column matches too
    await wait_until(pilot, lambda: dash.calls.keys == ["2"] and dash.sessions.keys == ["9b1c2d3e-0000"])

    await pilot.press("escape")
    await wait_until(pilot, lambda: dash.calls.row_count == 2 and dash.tools.row_count == 3)
    assert not dash.query_one("#filter-bar").display
    assert dash.sessions.row_count == 2


async def test_clearing_a_filter_gives_the_tools_back_in_the_upstreams_order(pilot: Pilot[None]) -> None:
    dash = dashboard(pilot)
    upstream_order = dash.tools.keys
    await pilot.press("slash", *"get_")
    await wait_until(pilot, lambda: dash.tools.keys == ["github__get_file"])
    await pilot.press("escape")
    await wait_until(pilot, lambda: dash.tools.row_count == 3)
    assert dash.tools.keys == upstream_order  # not the one that matched first, then the others


async def test_question_mark_shows_every_key(pilot: Pilot[None]) -> None:
    await pilot.press("question_mark")
    help_screen = await wait_for_screen(pilot, HelpScreen)
    text = help_screen.query_one("#help-keys").text  # type: ignore[attr-defined]
    for expected in (
        "Reload",
        "^r / R",
        "Reconnect",
        "Call",
        "Schema",
        "Call again",
        "Details",
        "Upstream details",
        "Level",
        "Source",
        "End session",
        "x / del",
        "Filter",
        "Command palette",
        "Raw JSON",
        "Quit",
    ):
        assert expected in text, expected
    await pilot.press("question_mark")
    await wait_until(pilot, lambda: pilot.app.screen is dashboard(pilot))


async def test_command_palette_lists_the_actions_and_runs_them(pilot: Pilot[None], view: FakeView) -> None:
    await pilot.press("ctrl+p")
    palette = await wait_for_screen(pilot, CommandPalette)

    def prompts() -> list[str]:
        options = palette.query_one("CommandList").options  # type: ignore[attr-defined]
        return [str(option.prompt).splitlines()[0] for option in options]

    await wait_until(pilot, lambda: "Reload config" in prompts())
    for expected in (
        "Show keys",
        "Filter",
        "Go to Logs",
        "Reconnect github",
        "Reconnect files",
        "Details of files",
        "Call github__get_file",
        "Call files__read_text",
        "End session 3f2a9c1e (claude-code)",
    ):
        assert expected in prompts(), expected
    helps = [str(option.prompt) for option in palette.query_one("CommandList").options]  # type: ignore[attr-defined]
    assert "Call files__read_text\nRead a text file [utf-8]." in helps  # help text is not markup

    palette.query_one("CommandInput", Input).value = "reload"
    await wait_until(pilot, lambda: prompts()[:1] == ["Reload config"])
    await pilot.press("enter")
    await wait_until(pilot, lambda: view.reloads == 1)


async def test_reloads_from_outside_the_dashboard_are_toasted_once(pilot: Pilot[None], view: FakeView) -> None:
    snap = view.snapshot()
    failed = ReloadView(at=T0, ok=False, errors=("config.yaml: port: must be <= 65535", "config.yaml: host: empty"))
    view.publish(dataclasses.replace(snap, last_reload=failed))  # the config watcher saw a bad save
    await wait_until(pilot, lambda: any(m.startswith("config.yaml: port") for m in toasts(pilot)))
    assert "config.yaml: port: must be <= 65535 (+1 more)" in toasts(pilot)[-1]
    view.publish(dataclasses.replace(snap, last_reload=failed))  # the same outcome again: no new toast
    ok = ReloadView(at=T0 + 5, ok=True, restarted=("github",))
    view.publish(dataclasses.replace(snap, last_reload=ok))
    await wait_until(pilot, lambda: "Config reloaded: restarted github" in toasts(pilot))
    assert sum(m.startswith("config.yaml: port") for m in toasts(pilot)) == 1
