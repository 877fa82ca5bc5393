"""The raw JSON-RPC screen (any method, the whole answer) and ReplayRequest opening the right screen."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from textual.pilot import Pilot

from mcpstead.state import ClientHandler
from tests.tui.fakes import FakeClock, FakeView, demo
from tests.tui.helpers import dashboard, wait_for_screen, wait_until
from tests.tui.responders import answering, failing, held
from tui.messages import ReplayRequest
from tui.screens import RawRequestScreen, ToolRunnerScreen


@pytest.fixture
def view(clock: FakeClock) -> FakeView:
    return FakeView(demo(), clock=clock)


async def open_raw(pilot: Pilot[None]) -> RawRequestScreen:
    await pilot.press("j")
    return await wait_for_screen(pilot, RawRequestScreen)


async def test_j_sends_any_method_and_shows_the_whole_answer(pilot: Pilot[None], view: FakeView) -> None:
    view.responders["resources/templates/list"] = answering({"resourceTemplates": [{"uriTemplate": "test://{id}"}]})
    raw = await open_raw(pilot)
    assert pilot.app.focused is raw.method
    await pilot.press(*"resources/templates/list")
    assert raw.params.text == "{}"  # the method's template
    await pilot.press("enter")  # to the params
    assert pilot.app.focused is raw.params
    raw.params.text = '{"cursor": "abc"}'
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: raw.outcome is not None)

    method, params = view.requests[0]
    assert method == "resources/templates/list"
    assert params["cursor"] == "abc" and params["_meta"]["progressToken"]
    text = raw.answer.text
    assert '"jsonrpc": "2.0"' in text and '"id": "dashboard-1"' in text and '"uriTemplate": "test://{id}"' in text
    assert str(raw.answer_status.render()).startswith("ok")


async def test_choosing_a_method_fills_in_its_params_until_they_are_edited(pilot: Pilot[None]) -> None:
    raw = await open_raw(pilot)
    raw.method.value = "resources/read"
    await pilot.pause()
    assert raw.params.text == '{\n  "uri": ""\n}'
    raw.params.text = '{"uri": "test://mine"}'
    await pilot.pause()
    raw.method.value = "resources/subscribe"
    await pilot.pause()
    assert raw.params.text == '{"uri": "test://mine"}'  # edited: kept


async def test_the_method_input_suggests_the_gateways_methods(pilot: Pilot[None]) -> None:
    raw = await open_raw(pilot)
    await pilot.press(*"resources/te")
    await wait_until(pilot, lambda: raw.method._suggestion == "resources/templates/list")
    await pilot.press("right")
    assert raw.method.value == "resources/templates/list"


async def test_an_error_answer_and_bad_params(pilot: Pilot[None], view: FakeView) -> None:
    view.responders["bogus/method"] = failing(-32601, "Method not found: bogus/method")
    raw = await open_raw(pilot)
    raw.method.value = "bogus/method"
    raw.params.text = "[1, 2]"
    await pilot.pause()  # the edit's Changed first (it clears an error shown)
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: raw.params_error.display)
    assert "params must be a JSON object" in str(raw.params_error.render())
    assert view.requests == []

    raw.params.text = "{}"
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: raw.outcome is not None)
    assert "Error answer" in raw.answer.text and '"code": -32601' in raw.answer.text
    assert str(raw.answer_status.render()).startswith("error")


async def test_no_method_is_refused(pilot: Pilot[None], view: FakeView) -> None:
    raw = await open_raw(pilot)
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: raw.params_error.display)
    assert "give a method first" in str(raw.params_error.render())
    assert view.requests == []


async def test_raw_requests_show_progress_and_cancel_too(pilot: Pilot[None], view: FakeView) -> None:
    view.responders["resources/read"] = held(asyncio.Event(), {}, [{"progress": 1, "total": 2, "message": "reading"}])
    pilot.app.post_message(ReplayRequest("resources/read", {"uri": "test://slow"}))
    raw = await wait_for_screen(pilot, RawRequestScreen)
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: raw.progress.bar.percentage == 0.5)
    assert str(raw.progress.message.render()) == "reading"
    await pilot.press("ctrl+x")
    await wait_until(pilot, lambda: raw.outcome is not None)
    assert len(view.cancelled) == 1
    assert "No answer" in raw.answer.text and "cancelled before any answer" in raw.answer.text


async def test_a_progress_token_of_the_users_own_is_kept(pilot: Pilot[None], view: FakeView) -> None:
    pilot.app.post_message(ReplayRequest("ping", {"_meta": {"progressToken": "mine", "trace": 1}}))
    raw = await wait_for_screen(pilot, RawRequestScreen)
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: raw.outcome is not None)
    assert view.requests[0] == ("ping", {"_meta": {"progressToken": "mine", "trace": 1}})


async def test_replaying_a_tools_call_opens_the_runner_pre_filled(pilot: Pilot[None], view: FakeView) -> None:
    seen: list[dict[str, Any]] = []

    async def record(params: dict[str, Any], handler: ClientHandler | None) -> dict[str, Any]:
        seen.append(params)
        return {"result": {"content": []}}

    view.responders["tools/call"] = record
    pilot.app.post_message(
        ReplayRequest("tools/call", {"name": "demo__weather", "arguments": {"city": "Oslo"}, "_meta": {"trace": "t1"}})
    )
    runner = await wait_for_screen(pilot, ToolRunnerScreen)
    assert runner.tool.qualified_name == "demo__weather"
    assert runner.form.widget("city").value == "Oslo"  # type: ignore[attr-defined]
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: len(seen) == 1)
    assert seen[0]["arguments"] == {"city": "Oslo"}
    assert seen[0]["_meta"]["trace"] == "t1"  # the replayed call's own _meta goes again
    assert seen[0]["_meta"]["progressToken"]


async def test_replaying_any_other_method_opens_the_raw_screen_pre_filled(pilot: Pilot[None]) -> None:
    pilot.app.post_message(ReplayRequest("prompts/get", {"name": "greet", "arguments": {"who": "you"}}))
    raw = await wait_for_screen(pilot, RawRequestScreen)
    assert raw.method.value == "prompts/get"
    assert raw.params.text == '{\n  "name": "greet",\n  "arguments": {\n    "who": "you"\n  }\n}'
    assert pilot.app.focused is raw.params
    await pilot.press("escape")
    await wait_until(pilot, lambda: pilot.app.screen is dashboard(pilot))


async def test_a_tools_call_without_a_name_is_replayed_raw(pilot: Pilot[None]) -> None:
    pilot.app.post_message(ReplayRequest("tools/call", {"arguments": {}}))
    raw = await wait_for_screen(pilot, RawRequestScreen)
    assert raw.method.value == "tools/call"
