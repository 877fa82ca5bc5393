"""The tool runner: a form from the inputSchema, validation before sending, raw JSON, and the result."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, OptionList, Select, TextArea

from mcpstead.state import ClientHandler, RunningRequest
from tests.tui.fakes import FakeClock, FakeView, call, demo
from tests.tui.helpers import cell, dashboard, wait_for_screen, wait_until
from tests.tui.responders import answering, failing, held, tool_calls
from tui.messages import RunTool
from tui.screens import SchemaScreen, ToolRunnerScreen

SUM = {"content": [{"type": "text", "text": "5"}], "structuredContent": {"sum": 5}}


@pytest.fixture
def view(clock: FakeClock) -> FakeView:
    fake = FakeView(demo(), clock=clock)
    fake.responders["tools/call"] = answering(SUM)
    return fake


async def open_runner(pilot: Pilot[None], tool: str, arguments: dict[str, Any] | None = None) -> ToolRunnerScreen:
    pilot.app.post_message(RunTool(tool, arguments))
    return await wait_for_screen(pilot, ToolRunnerScreen)


async def type_into(pilot: Pilot[None], widget: Input | TextArea, text: str) -> None:
    widget.focus()
    await pilot.pause()
    await pilot.press(*text)


async def test_c_on_a_tool_opens_the_runner_and_a_call_is_recorded_as_dashboard(
    pilot: Pilot[None], view: FakeView
) -> None:
    dash = dashboard(pilot)
    await pilot.press("tab", "down")  # tools table, second tool
    await wait_until(pilot, lambda: dash.tools.cursor_key == "demo__weather")
    await pilot.press("c")
    runner = await wait_for_screen(pilot, ToolRunnerScreen)
    assert runner.tool.qualified_name == "demo__weather"
    city = runner.form.widget("city")
    assert isinstance(city, Input)
    assert pilot.app.focused is city
    units = runner.form.widget("units")
    assert isinstance(units, Select)
    assert units.value == 0  # the default, "metric", pre-selected

    await pilot.press("R", "i", "o", "ctrl+s")
    await wait_until(pilot, lambda: runner.outcome is not None)
    assert tool_calls(view) == [("demo__weather", {"city": "Rio", "units": "metric"})]
    assert "structuredContent" in runner.result.text  # the tree's root
    assert '"sum": 5' in runner.result.text
    assert runner.recorded is not None and runner.recorded.source == "dashboard"
    assert f"recorded as call #{runner.recorded.seq}" in str(runner.result_status.render())

    await pilot.press("escape")
    await wait_until(pilot, lambda: pilot.app.screen is dash)
    await wait_until(pilot, lambda: dash.calls.row_count == 1)
    assert cell(dash.calls, dash.calls.keys[0], "client") == "dashboard"


async def test_a_running_call_says_so_with_its_elapsed_time(pilot: Pilot[None], view: FakeView) -> None:
    gate = asyncio.Event()
    view.responders["tools/call"] = held(gate, SUM)
    runner = await open_runner(pilot, "demo__weather", {"city": "Rio"})
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: runner.progress.display)
    assert "Running… 0.0 s" in str(runner.progress.elapsed.render())
    assert runner.busy and runner.outcome is None
    gate.set()
    await wait_until(pilot, lambda: runner.outcome is not None)
    assert not runner.progress.display
    assert str(runner.result_status.render()).startswith("ok")


async def test_invalid_fields_are_shown_inline_and_nothing_is_sent(pilot: Pilot[None], view: FakeView) -> None:
    runner = await open_runner(pilot, "demo__add")
    await type_into(pilot, runner.form.widget("b"), "1e")  # type: ignore[arg-type]
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: "Not sent" in str(runner.status.render()))
    assert tool_calls(view) == []
    assert str(runner.query_one("#error-a").render()) == "↳ required"
    assert str(runner.query_one("#error-b").render()) == "↳ not a number"
    assert runner.form.widget("b").has_class("-invalid")
    assert "2 fields need attention" in str(runner.status.render())

    await pilot.press("backspace")  # "1" is a number
    await type_into(pilot, runner.form.widget("a"), "2")  # type: ignore[arg-type]
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: runner.outcome is not None)
    assert tool_calls(view) == [("demo__add", {"a": 2, "b": 1})]
    assert not runner.query_one("#error-b").display


async def test_out_of_range_and_json_fields(pilot: Pilot[None], view: FakeView) -> None:
    runner = await open_runner(pilot, "demo__sleep")
    steps = runner.form.widget("steps")
    assert isinstance(steps, Input) and steps.value == "5"  # default pre-filled
    await type_into(pilot, runner.form.widget("seconds"), "61")  # type: ignore[arg-type]
    tags = runner.form.widget("tags")
    assert isinstance(tags, TextArea)
    tags.text = '["a",'
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: "Not sent" in str(runner.status.render()))
    assert str(runner.query_one("#error-seconds").render()) == "↳ must be ≤ 60"
    assert "invalid JSON" in str(runner.query_one("#error-tags").render())
    assert tool_calls(view) == []

    tags.text = '["a", "b"]'
    verbose = runner.form.widget("verbose")
    assert isinstance(verbose, Checkbox)
    verbose.value = True
    seconds = runner.form.widget("seconds")
    assert isinstance(seconds, Input)
    seconds.value = "0.5"
    seconds.focus()
    await pilot.press("enter")  # Enter in a field sends too
    await wait_until(pilot, lambda: len(tool_calls(view)) == 1)
    assert tool_calls(view)[0][1] == {"seconds": 0.5, "steps": 5, "verbose": True, "tags": ["a", "b"]}


async def test_an_enum_sends_the_chosen_value(pilot: Pilot[None], view: FakeView) -> None:
    runner = await open_runner(pilot, "demo__weather", {"city": "Oslo"})
    units = runner.form.widget("units")
    assert isinstance(units, Select)
    assert units.value is Select.NULL  # absent from the earlier arguments, so left unset (and not sent)
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: len(tool_calls(view)) == 1)
    assert tool_calls(view)[0] == ("demo__weather", {"city": "Oslo"})
    await wait_until(pilot, lambda: not runner.busy)
    units.value = 1
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: len(tool_calls(view)) == 2)
    assert tool_calls(view)[1] == ("demo__weather", {"city": "Oslo", "units": "imperial"})


async def test_an_open_dropdown_stays_inside_the_forms_border(pilot: Pilot[None], view: FakeView) -> None:
    runner = await open_runner(pilot, "demo__weather", {"city": "Oslo"})
    units = runner.form.widget("units")
    assert isinstance(units, Select)
    units.focus()
    await pilot.press("enter")
    await wait_until(pilot, lambda: units.expanded)
    overlay = units.query_one(OptionList)
    await wait_until(pilot, lambda: overlay.region.bottom <= runner.form.region.bottom - 1)  # above the border
    await pilot.press("escape")
    await wait_until(pilot, lambda: not units.expanded)
    await wait_until(pilot, lambda: units.styles.margin.bottom == 0)


async def test_raw_json_mode_round_trips_and_rejects_bad_json(pilot: Pilot[None], view: FakeView) -> None:
    runner = await open_runner(pilot, "demo__weather")
    runner.form.widget("city").value = "Paris"  # type: ignore[attr-defined]
    await pilot.press("ctrl+t")
    await wait_until(pilot, lambda: runner.raw)
    assert runner.raw_text.text == '{\n  "city": "Paris",\n  "units": "metric"\n}'
    assert pilot.app.focused is runner.raw_text
    assert not runner.form.display

    runner.raw_text.text = '{"city": "Paris",'
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: runner.raw_error.display)
    assert "invalid JSON" in str(runner.raw_error.render())
    assert tool_calls(view) == []

    runner.raw_text.text = '{"city": "Lyon", "units": "imperial"}'
    await pilot.press("ctrl+t")  # back to the form, which takes the edited values
    await wait_until(pilot, lambda: not runner.raw)
    assert runner.form.widget("city").value == "Lyon"  # type: ignore[attr-defined]
    assert runner.form.widget("units").value == 1  # type: ignore[attr-defined]

    await pilot.press("ctrl+t")
    runner.raw_text.text = '{"city": "Lyon", "debug": true}'
    await pilot.press("ctrl+t")  # the form has no field for "debug": stay in raw JSON
    await wait_until(pilot, lambda: "debug: no field" in str(runner.raw_error.render()))
    assert runner.raw
    await pilot.press("ctrl+s")  # raw mode sends exactly the object, for testing a server's own validation
    await wait_until(pilot, lambda: len(tool_calls(view)) == 1)
    assert tool_calls(view)[0] == ("demo__weather", {"city": "Lyon", "debug": True})


async def test_call_again_from_recent_calls_prefills_the_form(pilot: Pilot[None], view: FakeView) -> None:
    view.publish(demo((call(1, "demo__weather", arguments={"city": "Rome", "units": "imperial"}),)))
    dash = dashboard(pilot)
    await wait_until(pilot, lambda: dash.calls.row_count == 1)
    dash.calls.focus()
    await pilot.press("c")
    runner = await wait_for_screen(pilot, ToolRunnerScreen)
    assert runner.form.widget("city").value == "Rome"  # type: ignore[attr-defined]
    assert runner.form.widget("units").value == 1  # type: ignore[attr-defined]
    assert not runner.raw


async def test_schema_dialog_leads_to_the_runner(pilot: Pilot[None]) -> None:
    await pilot.press("tab", "enter")
    schema = await wait_for_screen(pilot, SchemaScreen)
    assert schema.tool.qualified_name == "demo__add"
    assert '"inputSchema"' in schema.query_one("#schema-json").text  # type: ignore[attr-defined]
    await pilot.press("c")
    runner = await wait_for_screen(pilot, ToolRunnerScreen)
    assert runner.tool.qualified_name == "demo__add"


async def test_errors_and_exceptions_are_shown_as_results(pilot: Pilot[None], view: FakeView) -> None:
    runner = await open_runner(pilot, "demo__add", {"a": 1, "b": 2})
    outcomes = [
        (failing(-32000, "upstream 'demo' is disconnected (backoff)"), "disconnected (backoff) (code -32000)"),
        (answering({"content": [{"type": "text", "text": "no"}], "isError": True}), "isError: true"),
    ]
    for responder, shown in outcomes:
        view.responders["tools/call"] = responder
        runner.outcome = None
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: runner.outcome is not None)
        assert shown in runner.result.text

    async def explode(params: dict[str, Any], handler: ClientHandler | None) -> dict[str, Any]:
        raise RuntimeError("the loop is closing")

    view.responders["tools/call"] = explode
    runner.outcome = None
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: runner.outcome is not None)
    assert "the request failed: the loop is closing" in runner.result.text

    def refuse(method: str, params: object, handler: object = None) -> RunningRequest:
        raise RuntimeError("no dashboard client")

    view.start_request = refuse  # type: ignore[method-assign,assignment]
    runner.outcome = None
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: runner.outcome is not None)
    assert "the request failed: no dashboard client" in runner.result.text
    assert pilot.app.is_running


async def test_unknown_tool_opens_in_raw_json_with_a_warning(pilot: Pilot[None]) -> None:
    runner = await open_runner(pilot, "gone__tool", {"x": 1})
    assert runner.raw
    assert runner.raw_toggle.disabled
    assert '"x": 1' in runner.raw_text.text
