"""Getting a prompt: a form from its arguments, completion suggestions as you type, then its messages."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from textual.pilot import Pilot

from mcpstead.state import ClientHandler
from tests.tui.browse_scene import CONFIG, browse, browse_view
from tests.tui.fakes import FakeClock, FakeView
from tests.tui.helpers import dashboard, wait_for_screen, wait_until
from tui.screens import PromptScreen
from tui.widgets import CompletingField


@pytest.fixture
def view(clock: FakeClock) -> FakeView:
    return browse_view(FakeView(browse(), clock=clock))


async def open_prompt(pilot: Pilot[None], name: str) -> PromptScreen:
    dash = dashboard(pilot)
    item = next(item for item in dash.snapshot.offered if item.key == name) if dash.snapshot else None
    assert item is not None
    dash.open_offered(item)
    screen = await wait_for_screen(pilot, PromptScreen)
    await pilot.pause()
    return screen


def sent(view: FakeView, method: str) -> list[dict[str, Any]]:
    return [params for name, params in view.requests if name == method]


def suggestions(field: CompletingField) -> list[str]:
    return [str(field.suggestions.get_option_at_index(i).prompt) for i in range(field.suggestions.option_count)]


async def test_the_form_has_one_field_per_argument_and_checks_the_required_ones(
    pilot: Pilot[None], view: FakeView
) -> None:
    screen = await open_prompt(pilot, "github__review")
    repo, focus = screen.form.field("repo"), screen.form.field("focus")
    assert pilot.app.focused is repo.input
    assert "repo *  owner/name" in str(repo.query_one("Label").render())

    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: repo.error.display)
    assert "required" in str(repo.error.render())
    assert not focus.error.display
    assert "Not sent: 1 required argument empty." in str(screen.status.render())
    assert sent(view, "prompts/get") == []


async def test_get_sends_the_arguments_and_shows_the_messages(pilot: Pilot[None], view: FakeView) -> None:
    screen = await open_prompt(pilot, "github__review")
    await pilot.press(*"acme/app", "enter")
    await wait_until(pilot, lambda: screen.answer is not None)
    assert sent(view, "prompts/get") == [{"name": "github__review", "arguments": {"repo": "acme/app"}}]
    text = screen.result.text
    assert "A careful review" in text
    assert "1. user" in text and "Review acme/app, please." in text
    assert (
        "2. user" in text and "[resource] github://mcpstead/config.json · application/json" in text and CONFIG in text
    )
    assert "3. assistant" in text and "[image] image/png, 3 bytes" in text
    assert "3 messages" in str(screen.status.render())


async def test_a_prompt_without_arguments_is_got_from_the_button(pilot: Pilot[None], view: FakeView) -> None:
    screen = await open_prompt(pilot, "github__summarize")
    assert pilot.app.focused is screen.get_button
    assert "This prompt takes no arguments." in str(screen.form.query_one(".dim").render())
    await pilot.press("enter")
    await wait_until(pilot, lambda: screen.answer is not None)
    assert sent(view, "prompts/get") == [{"name": "github__summarize"}]


async def test_an_error_is_shown_in_the_error_style(pilot: Pilot[None], view: FakeView) -> None:
    async def refuse(params: dict[str, Any], handler: ClientHandler | None) -> dict[str, Any]:
        return {"error": {"code": -32602, "message": "Unknown prompt: github__summarize"}}

    view.responders["prompts/get"] = refuse
    screen = await open_prompt(pilot, "github__summarize")
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: screen.answer is not None)
    assert "Unknown prompt: github__summarize (code -32602)" in screen.result.text


async def test_suggestions_appear_as_you_type_and_choosing_one_fills_the_field(
    pilot: Pilot[None], view: FakeView
) -> None:
    screen = await open_prompt(pilot, "github__review")
    repo = screen.form.field("repo")
    await pilot.press("m")
    await wait_until(pilot, lambda: repo.showing)
    assert suggestions(repo) == ["mcpstead", "mcp-server"]
    assert "2 of 3 suggestions, more available" in str(repo.more.render())
    assert sent(view, "completion/complete") == [
        {"ref": {"type": "ref/prompt", "name": "github__review"}, "argument": {"name": "repo", "value": "m"}}
    ]

    await pilot.press("down", "down")
    assert repo.suggestions.highlighted == 1
    await pilot.press("enter")  # chooses, does not send the form
    await wait_until(pilot, lambda: not repo.showing)
    assert repo.value == "mcp-server"
    assert pilot.app.focused is repo.input
    assert sent(view, "prompts/get") == []
    await pilot.pause(0.3)
    assert len(sent(view, "completion/complete")) == 1  # choosing asks nothing more

    await pilot.press("enter")
    await wait_until(pilot, lambda: screen.answer is not None)
    assert sent(view, "prompts/get") == [{"name": "github__review", "arguments": {"repo": "mcp-server"}}]


async def test_typing_fast_asks_once_and_the_other_fields_are_the_context(pilot: Pilot[None], view: FakeView) -> None:
    screen = await open_prompt(pilot, "github__review")
    repo, focus = screen.form.field("repo"), screen.form.field("focus")
    await pilot.press(*"mcps")
    await wait_until(pilot, lambda: repo.showing)
    assert [params["argument"] for params in sent(view, "completion/complete")] == [{"name": "repo", "value": "mcps"}]
    assert suggestions(repo) == ["mcpstead"]

    await pilot.press("tab")
    await wait_until(pilot, lambda: pilot.app.focused is focus.input)
    await wait_until(pilot, lambda: not repo.showing)  # only the field typed in shows its suggestions
    await pilot.press("x")
    await wait_until(pilot, lambda: len(sent(view, "completion/complete")) == 2)
    assert sent(view, "completion/complete")[1]["context"] == {"arguments": {"repo": "mcps"}}


async def test_a_stale_answer_is_dropped(pilot: Pilot[None], view: FakeView) -> None:
    first_answered = asyncio.Event()

    async def slow_first(params: dict[str, Any], handler: ClientHandler | None) -> dict[str, Any]:
        value = params["argument"]["value"]
        if value == "m":
            await first_answered.wait()
            return {"result": {"completion": {"values": ["m-stale"]}}}
        return {"result": {"completion": {"values": [f"{value}-fresh"]}}}

    view.responders["completion/complete"] = slow_first
    screen = await open_prompt(pilot, "github__review")
    repo = screen.form.field("repo")
    await pilot.press("m")
    await wait_until(pilot, lambda: len(sent(view, "completion/complete")) == 1)
    await pilot.press("c")
    await wait_until(pilot, lambda: repo.showing)
    assert suggestions(repo) == ["mc-fresh"]
    first_answered.set()
    await pilot.pause(0.1)
    assert suggestions(repo) == ["mc-fresh"]


async def test_down_asks_at_once_escape_hides_then_leaves(pilot: Pilot[None], view: FakeView) -> None:
    screen = await open_prompt(pilot, "github__review")
    repo = screen.form.field("repo")
    await pilot.press("down")  # nothing typed: ask for every value now
    await wait_until(pilot, lambda: repo.showing)
    assert sent(view, "completion/complete")[0]["argument"] == {"name": "repo", "value": ""}
    await pilot.press("escape")
    await wait_until(pilot, lambda: not repo.showing)
    assert pilot.app.screen is screen
    await pilot.press("escape")
    await wait_until(pilot, lambda: not isinstance(pilot.app.screen, PromptScreen))


async def test_a_server_without_completions_says_so_quietly(pilot: Pilot[None], view: FakeView) -> None:
    async def refuse(params: dict[str, Any], handler: ClientHandler | None) -> dict[str, Any]:
        return {"error": {"code": -32601, "message": "Method not found"}}

    view.responders["completion/complete"] = refuse
    screen = await open_prompt(pilot, "github__review")
    repo = screen.form.field("repo")
    await pilot.press("m")
    await wait_until(pilot, lambda: repo.more.display)
    assert not repo.showing
    assert "no suggestions: Method not found (code -32601)" in str(repo.more.render())
