"""Filling in a resource template: a field per variable, suggestions, the URI as it expands, and reading it."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.browse_scene import browse, browse_view
from tests.tui.fakes import FakeClock, FakeView, offered
from tests.tui.helpers import dashboard, wait_for_screen, wait_until
from tui.screens import ResourceScreen, TemplateScreen

ISSUES = "github://{owner}/{repo}/issues{?state}"


@pytest.fixture
def view(clock: FakeClock) -> FakeView:
    return browse_view(FakeView(browse(), clock=clock))


async def open_template(pilot: Pilot[None]) -> TemplateScreen:
    dash = dashboard(pilot)
    item = next(item for item in dash.snapshot.offered if item.key == ISSUES) if dash.snapshot else None
    assert item is not None
    dash.open_offered(item)
    screen = await wait_for_screen(pilot, TemplateScreen)
    await pilot.pause()
    return screen


def shown_uri(screen: TemplateScreen) -> str:
    return str(screen.uri_line.render()).removeprefix("URI  ")


def completions(view: FakeView) -> list[dict[str, Any]]:
    return [params for method, params in view.requests if method == "completion/complete"]


async def test_one_field_per_variable_and_the_uri_expands_as_you_type(pilot: Pilot[None]) -> None:
    screen = await open_template(pilot)
    assert list(screen.form.fields) == ["owner", "repo", "state"]
    assert [spec.required for spec in screen.form.specs] == [True, True, False]
    assert shown_uri(screen) == "github:////issues"
    await pilot.press(*"acme")
    await wait_until(pilot, lambda: shown_uri(screen) == "github://acme//issues")
    await pilot.press("tab", *"my app", "tab", *"open")
    await wait_until(pilot, lambda: shown_uri(screen) == "github://acme/my%20app/issues?state=open")


async def test_required_variables_must_be_filled_before_reading(pilot: Pilot[None], view: FakeView) -> None:
    screen = await open_template(pilot)
    await pilot.press(*"acme", "enter")
    await wait_until(pilot, lambda: screen.form.field("repo").error.display)
    assert not screen.form.field("state").error.display
    assert "Not read: 1 variable empty." in str(screen.status.render())
    assert not any(method == "resources/read" for method, _ in view.requests)


async def test_enter_reads_the_expanded_uri_in_the_resource_page(pilot: Pilot[None], view: FakeView) -> None:
    screen = await open_template(pilot)
    await pilot.press(*"acme", "tab", *"app", "enter")
    resource = await wait_for_screen(pilot, ResourceScreen)
    await wait_until(pilot, lambda: resource.reads == 1)
    assert resource.uri == "github://acme/app/issues"
    assert ("resources/read", {"uri": "github://acme/app/issues"}) in view.requests
    assert '{"read": "github://acme/app/issues"}' in resource.document.text
    await pilot.press("escape")
    await wait_until(pilot, lambda: pilot.app.screen is screen)


async def test_suggestions_complete_the_template_with_the_values_so_far(pilot: Pilot[None], view: FakeView) -> None:
    screen = await open_template(pilot)
    owner, repo = screen.form.field("owner"), screen.form.field("repo")
    await pilot.press(*"mo")
    await wait_until(pilot, lambda: owner.showing)
    assert completions(view)[-1] == {
        "ref": {"type": "ref/resource", "uri": ISSUES},
        "argument": {"name": "owner", "value": "mo"},
    }
    await pilot.press("down", "enter")
    await wait_until(pilot, lambda: owner.value == "modelcontextprotocol")
    await wait_until(pilot, lambda: shown_uri(screen) == "github://modelcontextprotocol//issues")

    await pilot.press("tab", "s")
    await wait_until(pilot, lambda: repo.showing)
    assert completions(view)[-1]["context"] == {"arguments": {"owner": "modelcontextprotocol"}}
    assert repo.completions.values == ("servers", "specification")


async def test_a_template_the_library_cannot_expand_says_so(pilot: Pilot[None], view: FakeView) -> None:
    broken = offered("template", "github", "github://{+}", name="broken")
    dash = dashboard(pilot)
    dash.open_offered(broken)
    screen = await wait_for_screen(pilot, TemplateScreen)
    await pilot.pause()
    assert screen.read_button.disabled
    assert "not an RFC 6570 template" in str(screen.status.render())
