"""The Overview's lists beside the charts: tools, prompts, resources and templates of the selected upstream."""

from __future__ import annotations

import dataclasses

import pytest
from rich.text import Text
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input

from tests.tui.browse_scene import browse, browse_view
from tests.tui.fakes import FakeClock, FakeView, offered
from tests.tui.helpers import cell, dashboard, toasts, wait_for_screen, wait_until
from tui.app import DashboardApp
from tui.screens import HelpScreen, PromptScreen, ResourceScreen, SchemaScreen, TemplateScreen


@pytest.fixture
def view(clock: FakeClock) -> FakeView:
    return browse_view(FakeView(browse(), clock=clock))


async def test_t_steps_through_the_lists_of_the_selected_upstream(pilot: Pilot[None]) -> None:
    lists = dashboard(pilot).lists
    assert lists.shown == "tools" and lists.tools.display
    await pilot.press("t")
    await wait_until(pilot, lambda: lists.shown == "prompts" and lists.prompts.display)
    assert not lists.tools.display
    assert lists.prompts.keys == ["github__review", "github__summarize"]
    assert cell(lists.prompts, "github__review", "arguments") == "repo*, focus"
    assert cell(lists.prompts, "github__summarize", "arguments") == "—"
    assert lists.prompts.border_title == "Prompts · github (2)"
    assert Text.from_markup(str(lists.prompts.border_subtitle)).plain == "t tools│prompts│resources│templates"

    await pilot.press("t")
    await wait_until(pilot, lambda: lists.shown == "resources")
    assert lists.resources.keys == [
        "github://mcpstead/README.md",
        "github://mcpstead/logo.png",
        "github://mcpstead/config.json",
    ]
    assert cell(lists.resources, "github://mcpstead/README.md", "name") == "README"
    assert cell(lists.resources, "github://mcpstead/README.md", "mime") == "text/markdown"

    await pilot.press("t")
    await wait_until(pilot, lambda: lists.shown == "templates")
    assert lists.templates.keys == ["github://{owner}/{repo}/issues{?state}"]
    await pilot.press("t")
    await wait_until(pilot, lambda: lists.shown == "tools")
    await pilot.press("T")
    await wait_until(pilot, lambda: lists.shown == "templates")


async def test_the_lists_follow_the_selected_upstream_and_the_gateway(pilot: Pilot[None], view: FakeView) -> None:
    lists = dashboard(pilot).lists
    await pilot.press("t", "t")
    await wait_until(pilot, lambda: lists.shown == "resources")
    await pilot.press("down")  # the upstreams table has the focus: select files
    await wait_until(pilot, lambda: lists.resources.keys == ["file:///notes.txt"])
    assert lists.resources.border_title == "Resources · files (1)"

    added = offered("resource", "files", "file:///todo.md", name="todo", mimeType="text/markdown")
    view.publish(dataclasses.replace(browse(), offered=(*browse().offered, added)))
    await wait_until(pilot, lambda: lists.resources.keys == ["file:///notes.txt", "file:///todo.md"])


async def test_the_filter_applies_to_the_list_shown(pilot: Pilot[None]) -> None:
    lists = dashboard(pilot).lists
    await pilot.press("t")
    await wait_until(pilot, lambda: lists.shown == "prompts")
    await pilot.press("slash", *"thread")  # matches the description of summarize only
    await wait_until(pilot, lambda: lists.prompts.keys == ["github__summarize"])
    assert lists.prompts.border_title == "Prompts · github (1 of 2 match)"
    await pilot.press("escape")
    await wait_until(pilot, lambda: lists.prompts.keys == ["github__review", "github__summarize"])

    await pilot.press("t", "slash", *"readme")  # the resource's name
    await wait_until(
        pilot, lambda: lists.shown == "resources" and lists.resources.keys == ["github://mcpstead/README.md"]
    )


async def test_enter_opens_each_kind_and_the_list_keeps_the_focus(pilot: Pilot[None]) -> None:
    lists = dashboard(pilot).lists
    await pilot.press("enter")  # upstream chosen: focus moves to the list shown
    await wait_until(pilot, lambda: pilot.app.focused is lists.tools)
    await pilot.press("t")
    await wait_until(pilot, lambda: pilot.app.focused is lists.prompts)
    await pilot.press("enter")
    prompt = await wait_for_screen(pilot, PromptScreen)
    assert prompt.item.key == "github__review"
    await pilot.press("escape")
    await wait_until(pilot, lambda: pilot.app.focused is lists.prompts)

    await pilot.press("t", "down")
    await wait_until(pilot, lambda: lists.resources.cursor_key == "github://mcpstead/logo.png")
    await pilot.press("enter")
    resource = await wait_for_screen(pilot, ResourceScreen)
    assert resource.uri == "github://mcpstead/logo.png"
    await pilot.press("escape")

    await wait_until(pilot, lambda: pilot.app.focused is lists.resources)
    await pilot.press("t", "c")  # c uses the item as it does a tool
    template = await wait_for_screen(pilot, TemplateScreen)
    assert template.item.key == "github://{owner}/{repo}/issues{?state}"


async def test_s_on_a_prompt_says_schemas_are_for_tools(pilot: Pilot[None]) -> None:
    await pilot.press("t", "s")
    await wait_until(pilot, lambda: any("tool's schema" in message for message in toasts(pilot)))
    assert not isinstance(pilot.app.screen, SchemaScreen)


async def test_the_palette_opens_prompts_resources_and_templates_by_name(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, DashboardApp)
    titles = [command.title for command in app.palette_commands()]
    assert "Get prompt github__review" in titles
    assert "Read github://mcpstead/README.md" in titles
    assert "Fill in github://{owner}/{repo}/issues{?state}" in titles
    assert {"Show tools", "Show prompts", "Show resources", "Show templates"} <= set(titles)

    await pilot.press("ctrl+p")
    palette = await wait_for_screen(pilot, CommandPalette)
    palette.query_one("CommandInput", Input).value = "read github://mcpstead/readme"

    def shown() -> list[str]:
        options = palette.query_one("CommandList").options  # type: ignore[attr-defined]
        return [str(option.prompt).splitlines()[0] for option in options]

    await wait_until(pilot, lambda: shown()[:1] == ["Read github://mcpstead/README.md"])
    await pilot.press("enter")
    resource = await wait_for_screen(pilot, ResourceScreen)
    assert resource.uri == "github://mcpstead/README.md"

    await pilot.press("escape")
    next(command for command in app.palette_commands() if command.title == "Show templates").run()
    await wait_until(pilot, lambda: dashboard(pilot).lists.shown == "templates")


async def test_the_help_lists_the_new_keys(pilot: Pilot[None]) -> None:
    await pilot.press("question_mark")
    help_screen = await wait_for_screen(pilot, HelpScreen)
    text = help_screen.query_one("#help-keys").text  # type: ignore[attr-defined]
    for line in (
        "t  Next list: tools, prompts, resources, templates",
        "⏎  Get prompt (a form of its arguments)",
        "⏎  Read the resource",
        "⏎  Fill in the template",
        "u  Subscribe/unsubscribe",
        "w  Save blob",
        "a  Re-read on update (on/off)",
        "^s  Get prompt",
        "^s  Read the URI",
        "↓  Suggestions: ask now, or highlight the next",
    ):
        key, description = line.split("  ")
        assert any(row.split() == [key, *description.split()] for row in text.splitlines()), line
