"""The human as the client: elicitation (form and URL mode) and sampling dialogs answer the server, and a
dialog closes when the call it came with ends."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Select, SelectionList

from mcpstead.state import ClientHandler
from tests.tui.fakes import FakeClock, FakeView, demo
from tests.tui.helpers import toasts, wait_for_screen, wait_until
from tests.tui.responders import FORM, SAMPLE, URL, asking
from tui.messages import RunTool
from tui.screens import ElicitationScreen, SamplingScreen, ToolRunnerScreen


@pytest.fixture
def view(clock: FakeClock) -> FakeView:
    return FakeView(demo(), clock=clock)


async def ask(
    pilot: Pilot[None], view: FakeView, method: str, question: dict[str, Any], answers: list[dict[str, Any]]
) -> ToolRunnerScreen:
    view.responders["tools/call"] = asking(method, question, answers)
    pilot.app.post_message(RunTool("demo__add", {"a": 1, "b": 2}))
    runner = await wait_for_screen(pilot, ToolRunnerScreen)
    await pilot.press("ctrl+s")
    return runner


async def elicited(
    pilot: Pilot[None], view: FakeView, answers: list[dict[str, Any]], question: dict[str, Any] = FORM
) -> ElicitationScreen:
    await ask(pilot, view, "elicitation/create", question, answers)
    return await wait_for_screen(pilot, ElicitationScreen)


async def test_accept_sends_the_form_content_once_it_fits_the_schema(pilot: Pilot[None], view: FakeView) -> None:
    answers: list[dict[str, Any]] = []
    dialog = await elicited(pilot, view, answers)
    assert "Tell me about you" in str(dialog.query_one("#elicit-message").render())
    name, email, age = (dialog.form.widget(key) for key in ("name", "email", "age"))
    assert isinstance(name, Input) and isinstance(email, Input) and isinstance(age, Input)
    assert pilot.app.focused is name
    color = dialog.form.widget("color")
    assert isinstance(color, Select)
    newsletter = dialog.form.widget("newsletter")
    assert isinstance(newsletter, Checkbox) and newsletter.value  # the default

    name.value, email.value, age.value = "A", "not-an-email", "-1"
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: dialog.error.display)
    assert str(dialog.query_one("#error-name").render()) == "↳ at least 2 characters"
    assert str(dialog.query_one("#error-email").render()) == "↳ not a valid email"
    assert str(dialog.query_one("#error-age").render()) == "↳ must be ≥ 0"
    assert "3 fields to fix" in str(dialog.error.render())
    assert answers == [] and pilot.app.screen is dialog

    name.value, email.value, age.value = "Ada", "ada@example.org", "36"
    color.value = 1  # "Green"
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: len(answers) == 1)
    assert answers[0] == {
        "result": {
            "action": "accept",
            "content": {"name": "Ada", "email": "ada@example.org", "age": 36, "color": "g", "newsletter": True},
        }
    }
    await wait_until(pilot, lambda: not isinstance(pilot.app.screen, ElicitationScreen))


async def test_required_fields_must_be_filled(pilot: Pilot[None], view: FakeView) -> None:
    answers: list[dict[str, Any]] = []
    dialog = await elicited(pilot, view, answers)
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: dialog.error.display)
    assert str(dialog.query_one("#error-name").render()) == "↳ required"
    assert str(dialog.query_one("#error-email").render()) == "↳ required"
    assert answers == []


async def test_decline_and_cancel_send_no_content(pilot: Pilot[None], view: FakeView) -> None:
    answers: list[dict[str, Any]] = []
    await elicited(pilot, view, answers)
    await pilot.press("ctrl+d")
    await wait_until(pilot, lambda: len(answers) == 1)
    assert answers[0] == {"result": {"action": "decline"}}
    runner = pilot.app.screen
    assert isinstance(runner, ToolRunnerScreen)
    await wait_until(pilot, lambda: runner.outcome is not None)

    await pilot.press("ctrl+s")
    await wait_for_screen(pilot, ElicitationScreen)
    await pilot.press("escape")
    await wait_until(pilot, lambda: len(answers) == 2)
    assert answers[1] == {"result": {"action": "cancel"}}


async def test_the_buttons_answer_too(pilot: Pilot[None], view: FakeView) -> None:
    answers: list[dict[str, Any]] = []
    await elicited(
        pilot, view, answers, {"message": "Proceed?", "requestedSchema": {"type": "object", "properties": {}}}
    )
    await pilot.click("#decline")
    await wait_until(pilot, lambda: answers == [{"result": {"action": "decline"}}])


async def test_url_mode_shows_the_url_copies_it_and_accepts_without_content(pilot: Pilot[None], view: FakeView) -> None:
    answers: list[dict[str, Any]] = []
    dialog = await elicited(pilot, view, answers, URL)
    assert str(dialog.query_one("#elicit-url").render()) == "https://auth.example/consent?s=1"
    assert not dialog.query("#elicit-form")  # no form in URL mode
    await pilot.press("y")
    assert pilot.app.clipboard == "https://auth.example/consent?s=1"
    assert "URL copied to the clipboard" in toasts(pilot)
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: answers == [{"result": {"action": "accept"}}])


async def test_sampling_send_returns_the_typed_reply_as_the_assistant(pilot: Pilot[None], view: FakeView) -> None:
    answers: list[dict[str, Any]] = []
    await ask(pilot, view, "sampling/createMessage", SAMPLE, answers)
    dialog = await wait_for_screen(pilot, SamplingScreen)
    shown = dialog.query_one("#sampling-request").text  # type: ignore[attr-defined]
    for expected in (
        "Answer in one word.",
        "Capital of France?",
        "[image] image/png, 8 bytes",
        "maxTokens 50",
        "sonnet",
    ):
        assert expected in shown, expected
    assert pilot.app.focused is dialog.reply

    await pilot.press("ctrl+s")  # nothing typed yet: refused
    await wait_until(pilot, lambda: dialog.error.display)
    assert answers == []

    await pilot.press(*"Paris")
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: len(answers) == 1)
    assert answers[0] == {
        "result": {
            "role": "assistant",
            "content": {"type": "text", "text": "Paris"},
            "model": "human (mcpstead dashboard)",
            "stopReason": "endTurn",
        }
    }


async def test_sampling_reject_returns_the_rejection_error(pilot: Pilot[None], view: FakeView) -> None:
    answers: list[dict[str, Any]] = []
    await ask(pilot, view, "sampling/createMessage", SAMPLE, answers)
    await wait_for_screen(pilot, SamplingScreen)
    await pilot.press("escape")
    await wait_until(pilot, lambda: len(answers) == 1)
    assert answers[0] == {"error": {"code": -1, "message": "User rejected sampling request"}}


async def test_the_dialog_closes_when_the_call_is_cancelled(pilot: Pilot[None], view: FakeView) -> None:
    runner = await ask(pilot, view, "elicitation/create", FORM, [])
    await wait_for_screen(pilot, ElicitationScreen)
    assert runner.running is not None
    runner.action_cancel_request()  # as if from the palette: the dialog is on top
    await wait_until(pilot, lambda: pilot.app.screen is runner)
    await wait_until(pilot, lambda: runner.outcome is not None)
    assert runner.outcome is not None and runner.outcome.kind == "cancelled"


async def test_the_dialog_closes_when_the_call_ends_without_an_answer(pilot: Pilot[None], view: FakeView) -> None:
    """The gateway gave up waiting for the human (the call's deadline) and answered the call itself."""
    asked: list[asyncio.Task[dict[str, Any]]] = []
    deadline = asyncio.Event()

    async def ask_and_leave(params: dict[str, Any], handler: ClientHandler | None) -> dict[str, Any]:
        assert handler is not None
        asked.append(asyncio.create_task(handler.asked("sampling/createMessage", SAMPLE)))
        await deadline.wait()
        return {"error": {"code": -32000, "message": "no answer from the client in time"}}

    view.responders["tools/call"] = ask_and_leave
    pilot.app.post_message(RunTool("demo__add", {"a": 1, "b": 2}))
    runner = await wait_for_screen(pilot, ToolRunnerScreen)
    await pilot.press("ctrl+s")
    await wait_for_screen(pilot, SamplingScreen)
    deadline.set()
    await wait_until(pilot, lambda: runner.outcome is not None)
    await wait_until(pilot, lambda: pilot.app.screen is runner)
    await wait_until(pilot, lambda: asked[0].done())
    assert asked[0].result()["error"]["message"] == "the dashboard's request ended before the human answered"
    assert "The call ended, so the server's question was withdrawn" in toasts(pilot)


async def test_an_unknown_question_is_refused(pilot: Pilot[None], view: FakeView) -> None:
    answers: list[dict[str, Any]] = []
    runner = await ask(pilot, view, "something/else", {}, answers)
    await wait_until(pilot, lambda: runner.outcome is not None)
    assert answers == [{"error": {"code": -32601, "message": "the dashboard cannot answer something/else"}}]


async def test_the_loop_keeps_running_while_a_dialog_waits(pilot: Pilot[None], view: FakeView) -> None:
    await ask(pilot, view, "elicitation/create", FORM, [])
    await wait_for_screen(pilot, ElicitationScreen)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        for _ in range(5):
            await asyncio.sleep(0.01)
            ticks += 1

    await asyncio.wait_for(tick(), timeout=2)
    assert ticks == 5


async def test_multi_select_and_titled_enums_from_the_conformance_schema(pilot: Pilot[None], view: FakeView) -> None:
    """SEP-1330's enums: untitled and titled single choices, legacy enumNames, and multi-select arrays."""
    schema = {
        "type": "object",
        "properties": {
            "legacy": {"type": "string", "enum": ["opt1", "opt2"], "enumNames": ["Option One", "Option Two"]},
            "multi": {
                "type": "array",
                "minItems": 1,
                "items": {"anyOf": [{"const": "v1", "title": "First"}, {"const": "v2", "title": "Second"}]},
            },
        },
        "required": ["multi"],
    }
    answers: list[dict[str, Any]] = []
    dialog = await elicited(pilot, view, answers, {"message": "Pick", "requestedSchema": schema})
    legacy, multi = dialog.form.widget("legacy"), dialog.form.widget("multi")
    assert isinstance(legacy, Select) and isinstance(multi, SelectionList)
    assert [str(option.prompt) for option in multi._options] == ["First", "Second"]
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: dialog.error.display)
    assert str(dialog.query_one("#error-multi").render()) == "↳ choose at least one"
    legacy.value = 1
    multi.select(1)
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: len(answers) == 1)
    assert answers[0] == {"result": {"action": "accept", "content": {"legacy": "opt2", "multi": ["v2"]}}}


async def test_q_types_into_the_fields_and_never_quits(pilot: Pilot[None], view: FakeView) -> None:
    answers: list[dict[str, Any]] = []
    dialog = await elicited(pilot, view, answers)
    await pilot.press("q")
    name = dialog.form.widget("name")
    assert isinstance(name, Input) and name.value == "q"
    dialog.query_one("#accept").focus()
    await pilot.press("q")  # outside a field: cancels the question, not the gateway
    await wait_until(pilot, lambda: answers == [{"result": {"action": "cancel"}}])
    assert pilot.app.is_running
