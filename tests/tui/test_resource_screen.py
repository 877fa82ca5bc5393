"""Reading a resource: text highlighted by MIME type, binary content saved to a file, updates once subscribed."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from rich.console import Group
from rich.text import Text
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input, Select

from mcpstead.state import ClientHandler
from tests.tui.browse_scene import CONFIG, LOGO, README, browse, browse_view
from tests.tui.fakes import FakeClock, FakeView
from tests.tui.helpers import dashboard, toasts, wait_for_screen, wait_until
from tui.screens import ResourceScreen, SaveBlobScreen


@pytest.fixture
def view(clock: FakeClock) -> FakeView:
    return browse_view(FakeView(browse(), clock=clock))


async def open_resource(pilot: Pilot[None], uri: str) -> ResourceScreen:
    dash = dashboard(pilot)
    item = next(item for item in dash.snapshot.offered if item.key == uri) if dash.snapshot else None
    assert item is not None
    dash.open_offered(item)
    screen = await wait_for_screen(pilot, ResourceScreen)
    await wait_until(pilot, lambda: screen.reads >= 1)
    return screen


def reads(view: FakeView) -> list[str]:
    return [params["uri"] for method, params in view.requests if method == "resources/read"]


def colours(renderable: Any) -> set[str]:
    """The colours of every span of the Text pieces in `renderable` (a highlighted body has several)."""
    found: set[str] = set()
    pieces = renderable.renderables if isinstance(renderable, Group) else [renderable]
    for piece in pieces:
        if isinstance(piece, Group):
            found |= colours(piece)
        elif isinstance(piece, Text):
            found |= {
                str(span.style.color) for span in piece.spans if not isinstance(span.style, str) and span.style.color
            }
    return found


async def test_a_markdown_resource_is_read_and_highlighted(pilot: Pilot[None], view: FakeView) -> None:
    screen = await open_resource(pilot, "github://mcpstead/README.md")
    assert reads(view) == ["github://mcpstead/README.md"]
    assert [content.text for content in screen.contents] == [README]
    text = screen.document.text
    assert "github://mcpstead/README.md · text/markdown" in text
    assert "One `/mcp` in front of many servers." in text
    assert len(colours(screen.document._renderable)) >= 2  # highlighted, not plain
    meta = str(screen.query_one("#resource-meta").render())
    assert "github" in meta and "README" in meta and "text/markdown" in meta and f"{len(README)} bytes" in meta
    assert "read at 22:13:20" in str(screen.status.render())


async def test_json_is_highlighted_as_json_and_shown_as_served(pilot: Pilot[None]) -> None:
    screen = await open_resource(pilot, "github://mcpstead/config.json")
    assert CONFIG in screen.document.text  # not re-formatted: what the server sent
    assert len(colours(screen.document._renderable)) >= 2


async def test_r_reads_again(pilot: Pilot[None], view: FakeView) -> None:
    screen = await open_resource(pilot, "github://mcpstead/README.md")
    await pilot.press("r")
    await wait_until(pilot, lambda: screen.reads == 2)
    assert reads(view) == ["github://mcpstead/README.md"] * 2


async def test_an_error_from_the_gateway_is_shown_in_the_error_style(pilot: Pilot[None], view: FakeView) -> None:
    reader = dashboard(pilot).reader
    await pilot.app.push_screen(reader.screen("github://mcpstead/missing"))
    screen = await wait_for_screen(pilot, ResourceScreen)
    await wait_until(pilot, lambda: screen.reads == 1)
    assert screen.error == "Resource not found: github://mcpstead/missing (code -32002)"
    assert "Resource not found: github://mcpstead/missing (code -32002)" in screen.document.text
    body = screen.document._renderable
    assert isinstance(body, Group) and isinstance(body.renderables[1], Text)
    assert body.renderables[1].style == "red"


async def test_a_blob_shows_its_type_and_size_and_is_saved_byte_for_byte(
    pilot: Pilot[None], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    screen = await open_resource(pilot, "github://mcpstead/logo.png")
    assert screen.contents[0].data == LOGO
    assert f"[blob] image/png, {len(LOGO):,} bytes" in screen.document.text

    await pilot.press("w")
    dialog = await wait_for_screen(pilot, SaveBlobScreen)
    assert dialog.path.value == str(tmp_path / "logo.png")  # the URI's file name, in the working directory
    await pilot.press("enter")
    await wait_until(pilot, lambda: (tmp_path / "logo.png").exists())
    assert (tmp_path / "logo.png").read_bytes() == LOGO
    await wait_until(pilot, lambda: any("Saved to" in message for message in toasts(pilot)))
    assert pilot.app.screen is screen


async def test_saving_over_a_file_asks_first_and_an_unwritable_path_says_why(
    pilot: Pilot[None], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "logo.png").write_bytes(b"old")
    screen = await open_resource(pilot, "github://mcpstead/logo.png")
    await pilot.press("w")
    dialog = await wait_for_screen(pilot, SaveBlobScreen)
    await pilot.press("enter")
    await wait_until(pilot, lambda: "exists: save again to replace it" in str(dialog.error.render()))
    assert (tmp_path / "logo.png").read_bytes() == b"old"

    dialog.path.value = str(tmp_path / "no-such-dir" / "logo.png")
    await pilot.press("enter")
    await wait_until(pilot, lambda: "does not exist" in str(dialog.error.render()))

    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        dialog.path.value = str(locked / "logo.png")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "permission denied" in str(dialog.error.render()))

    dialog.path.value = str(tmp_path / "logo.png")
    await pilot.press("enter")  # warned once for this path ...
    await wait_until(pilot, lambda: "exists" in str(dialog.error.render()))
    await pilot.press("enter")  # ... so the second time replaces it
    await wait_until(pilot, lambda: pilot.app.screen is screen)
    assert (tmp_path / "logo.png").read_bytes() == LOGO


async def test_several_blobs_can_each_be_chosen(pilot: Pilot[None], view: FakeView, tmp_path: Path) -> None:
    async def two(params: dict[str, Any], handler: ClientHandler | None) -> dict[str, Any]:
        return {
            "result": {
                "contents": [
                    {"uri": "x://bundle/a.bin", "blob": "AAEC"},
                    {"uri": "x://bundle/b.png", "mimeType": "image/png", "blob": "AwQ="},
                    {"uri": "x://broken", "blob": "not base64!"},
                ]
            }
        }

    view.responders["resources/read"] = two
    await pilot.app.push_screen(dashboard(pilot).reader.screen("x://bundle"))
    screen = await wait_for_screen(pilot, ResourceScreen)
    await wait_until(pilot, lambda: screen.reads == 1)
    assert "not valid base64" in screen.document.text
    await pilot.press("w")
    dialog = await wait_for_screen(pilot, SaveBlobScreen)
    dialog.query_one("#save-which", Select).value = 1
    await wait_until(pilot, lambda: dialog.path.value.endswith("b.png"))
    dialog.path.value = str(tmp_path / "b.png")
    await pilot.press("enter")
    await wait_until(pilot, lambda: (tmp_path / "b.png").exists())
    assert (tmp_path / "b.png").read_bytes() == b"\x03\x04"


async def test_nothing_to_save_without_binary_content(pilot: Pilot[None]) -> None:
    await open_resource(pilot, "github://mcpstead/README.md")
    await pilot.press("w")
    await wait_until(pilot, lambda: any("Nothing to save" in message for message in toasts(pilot)))


async def test_subscribe_shows_each_update_rereads_and_unsubscribes_on_close(
    pilot: Pilot[None], view: FakeView, clock: FakeClock
) -> None:
    uri = "github://mcpstead/README.md"
    screen = await open_resource(pilot, uri)
    await pilot.press("u")
    await wait_until(pilot, lambda: screen.subscription.state == "on")
    assert ("resources/subscribe", {"uri": uri}) in view.requests
    line = screen.subscribed_line
    assert "● subscribed" in str(line.render())

    listener = view.notification_listener
    assert listener is not None
    clock.advance(5)
    listener({"jsonrpc": "2.0", "method": "notifications/resources/updated", "params": {"uri": uri}})
    listener({"jsonrpc": "2.0", "method": "notifications/resources/updated", "params": {"uri": "github://other"}})
    await wait_until(pilot, lambda: screen.subscription.updates == 1 and screen.reads == 2)
    assert "1 update, last at 22:13:25" in str(line.render())

    await pilot.press("a")  # no more re-reading on update
    clock.advance(1)
    listener({"jsonrpc": "2.0", "method": "notifications/resources/updated", "params": {"uri": uri}})
    await wait_until(pilot, lambda: screen.subscription.updates == 2)
    await pilot.pause()
    assert screen.reads == 2
    assert "2 updates, last at 22:13:26" in str(line.render())
    assert "re-read on update: off" in str(line.render())

    await pilot.press("escape")
    await wait_until(pilot, lambda: ("resources/unsubscribe", {"uri": uri}) in view.requests)
    listener({"jsonrpc": "2.0", "method": "notifications/resources/updated", "params": {"uri": uri}})
    await pilot.pause()
    assert screen.subscription.updates == 2  # the closed page no longer listens


async def test_u_again_unsubscribes_and_a_refused_subscribe_says_why(pilot: Pilot[None], view: FakeView) -> None:
    uri = "github://mcpstead/README.md"
    screen = await open_resource(pilot, uri)
    await pilot.press("u")
    await wait_until(pilot, lambda: screen.subscription.state == "on")
    await pilot.press("u")
    await wait_until(pilot, lambda: screen.subscription.state == "off")
    assert ("resources/unsubscribe", {"uri": uri}) in view.requests

    async def refuse(params: dict[str, Any], handler: ClientHandler | None) -> dict[str, Any]:
        return {"error": {"code": -32601, "message": "Method not found"}}

    view.responders["resources/subscribe"] = refuse
    await pilot.press("u")
    await wait_until(pilot, lambda: screen.subscription.error is not None)
    assert screen.subscription.state == "off"
    assert "subscribe failed: Method not found (code -32601)" in str(screen.subscribed_line.render())
    unsubscribes = view.requests.count(("resources/unsubscribe", {"uri": uri}))
    await pilot.press("escape")
    await pilot.pause()
    assert view.requests.count(("resources/unsubscribe", {"uri": uri})) == unsubscribes  # nothing to end


async def test_a_read_still_running_is_cancelled_when_the_page_closes(pilot: Pilot[None], view: FakeView) -> None:
    gate = asyncio.Event()

    async def slow(params: dict[str, Any], handler: ClientHandler | None) -> dict[str, Any]:
        await gate.wait()
        return {"result": {"contents": []}}

    view.responders["resources/read"] = slow
    await pilot.app.push_screen(dashboard(pilot).reader.screen("x://slow"))
    await wait_for_screen(pilot, ResourceScreen)
    await wait_until(pilot, lambda: reads(view) == ["x://slow"])
    await pilot.press("escape")
    await wait_until(pilot, lambda: len(view.cancelled) == 1)
    assert view.cancelled[0][1] == "the dashboard closed the page that asked"


async def test_the_palette_offers_the_page_actions_first(pilot: Pilot[None], view: FakeView) -> None:
    screen = await open_resource(pilot, "github://mcpstead/README.md")
    titles = [command.title for command in screen.palette_commands()]
    assert titles == ["Re-read the resource", "Subscribe", "Re-read on update (on/off)", "Save blob"]
    await pilot.press("ctrl+p")
    palette = await wait_for_screen(pilot, CommandPalette)
    palette.query_one("CommandInput", Input).value = "subscribe"

    def shown() -> list[str]:
        options = palette.query_one("CommandList").options  # type: ignore[attr-defined]
        return [str(option.prompt).splitlines()[0] for option in options]

    await wait_until(pilot, lambda: shown()[:1] == ["Subscribe"])
    await pilot.press("enter")
    await wait_until(pilot, lambda: screen.subscription.state == "on")
    assert "Unsubscribe" in [command.title for command in screen.palette_commands()]
