"""The runner's result area: every content block kind, structured content as a tree, isError, the raw
answer, and saving binary data to a file."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console, Group
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Input

from tests.tui.fakes import FakeClock, FakeView, demo
from tests.tui.helpers import toasts, wait_for_screen, wait_until
from tests.tui.responders import BLOB, EVERY_KIND, PNG, WAV, answering
from tui.messages import RunTool
from tui.rendering import content_block, result_renderable
from tui.screens import SaveBlobScreen, ToolRunnerScreen


@pytest.fixture
def view(clock: FakeClock) -> FakeView:
    return FakeView(demo(), clock=clock)


async def run(
    pilot: Pilot[None], view: FakeView, result: dict[str, object], tmp_path: Path | None = None
) -> ToolRunnerScreen:
    view.responders["tools/call"] = answering(result)
    pilot.app.post_message(RunTool("demo__add", {"a": 1, "b": 2}))
    runner = await wait_for_screen(pilot, ToolRunnerScreen)
    runner.directory = tmp_path
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: runner.outcome is not None)
    return runner


async def test_every_content_block_kind_and_the_structured_tree(pilot: Pilot[None], view: FakeView) -> None:
    runner = await run(pilot, view, EVERY_KIND)
    text = runner.result.text
    assert "Content (6 blocks)" in text
    assert "plain words" in text
    assert f"[image] image/png, {len(PNG):,} bytes" in text  # the decoded size, not the base64 length
    assert f"[audio] audio/wav, {len(WAV)} bytes" in text
    assert "[link] file:///srv/notes.md  notes" in text and "text/markdown" in text
    assert "[resource] test://readme · text/plain" in text and "embedded text" in text
    assert "[resource] test://bin/data.bin · application/x-bin" in text and f"blob, {len(BLOB)} bytes" in text

    tree = runner.result.structured
    assert tree.display
    assert str(tree.root.label) == "structuredContent"
    assert '"city": "Paris"' in text
    assert "[1]: 19" in text
    assert '"speed": 3' in text
    hourly = next(node for node in tree.root.children if str(node.label).startswith('"hourly"'))
    hourly.collapse()  # it folds
    await pilot.pause()
    assert "[1]: 19" not in runner.result.text


async def test_is_error_is_shown_in_the_error_style(pilot: Pilot[None], view: FakeView) -> None:
    runner = await run(pilot, view, {"content": [{"type": "text", "text": "city unknown"}], "isError": True})
    assert "The tool reported an error (isError: true)" in runner.result.text
    assert not runner.result.structured.display
    assert str(runner.result_status.render()).startswith("tool error")
    rendered = result_renderable(runner.outcome.result if runner.outcome else None, None)
    assert isinstance(rendered, Group)
    banner = rendered.renderables[0]
    assert isinstance(banner, Text) and banner.style == "bold red"


async def test_ctrl_o_shows_the_whole_json_rpc_answer(pilot: Pilot[None], view: FakeView) -> None:
    runner = await run(pilot, view, {"content": [], "structuredContent": {"sum": 3}})
    await pilot.press("ctrl+o")
    text = runner.result.text
    assert "Answer (raw JSON-RPC)" in text and '"jsonrpc": "2.0"' in text and '"id": "dashboard-1"' in text
    assert not runner.result.structured.display
    await pilot.press("ctrl+o")
    assert runner.result.structured.display


async def test_ctrl_w_saves_an_image_to_the_path_asked_for(pilot: Pilot[None], view: FakeView, tmp_path: Path) -> None:
    runner = await run(pilot, view, EVERY_KIND, tmp_path)
    assert [content.uri for content in runner.savable] == ["image-2", "audio-3", "test://bin/data.bin"]
    await pilot.press("ctrl+w")
    dialog = await wait_for_screen(pilot, SaveBlobScreen)
    path = dialog.query_one("#save-path", Input)
    assert path.value == str(tmp_path / "image-2.png")  # in the working directory by default
    await pilot.press("enter")
    await wait_until(pilot, lambda: pilot.app.screen is runner)
    assert (tmp_path / "image-2.png").read_bytes() == PNG
    assert f"Saved to {tmp_path / 'image-2.png'}" in toasts(pilot)


async def test_saving_where_it_cannot_be_written_says_why(pilot: Pilot[None], view: FakeView, tmp_path: Path) -> None:
    runner = await run(pilot, view, EVERY_KIND, tmp_path)
    await pilot.press("ctrl+w")
    dialog = await wait_for_screen(pilot, SaveBlobScreen)
    dialog.query_one("#save-path", Input).value = str(tmp_path / "missing" / "x.png")
    await pilot.press("enter")
    await wait_until(pilot, lambda: dialog.error.display)
    assert f"cannot write {tmp_path / 'missing' / 'x.png'}: the folder {tmp_path / 'missing'} does not exist" in str(
        dialog.error.render()
    )
    assert pilot.app.screen is dialog
    await pilot.press("escape")
    await wait_until(pilot, lambda: pilot.app.screen is runner)


async def test_nothing_to_save_hides_the_key(pilot: Pilot[None], view: FakeView) -> None:
    runner = await run(pilot, view, {"content": [{"type": "text", "text": "5"}]})
    assert runner.check_action("save", ()) is False
    await pilot.press("ctrl+w")
    await pilot.pause()
    assert pilot.app.screen is runner


def test_content_blocks_render_without_an_app() -> None:
    console = Console(width=100, color_system=None, record=True)
    console.print(content_block({"type": "image", "mimeType": "image/gif", "data": "R0lGODlh"}))
    console.print(content_block({"type": "audio", "mimeType": "audio/mpeg"}))
    console.print(content_block({"type": "something-new", "x": 1}))
    text = console.export_text()
    assert "[image] image/gif, 6 bytes" in text
    assert "[audio] audio/mpeg, no data" in text
    assert '"type": "something-new"' in text  # an unknown kind is shown as JSON


async def test_moving_in_a_long_tree_scrolls_the_result_and_a_new_result_starts_at_the_top(
    pilot: Pilot[None], view: FakeView
) -> None:
    long = {"content": [{"type": "text", "text": "\n".join(f"line {i}" for i in range(20))}]}
    runner = await run(pilot, view, {**long, "structuredContent": {f"k{i}": i for i in range(30)}})
    assert runner.result.scroll_y == 0
    runner.result.structured.focus()
    await pilot.pause()
    for _ in range(25):
        await pilot.press("down")
    tree, result = runner.result.structured, runner.result

    def cursor_in_sight() -> bool:
        line = tree.virtual_region.y + tree.cursor_line
        return result.scroll_y <= line < result.scroll_y + result.scrollable_content_region.height

    await wait_until(pilot, lambda: tree.cursor_line == 25 and cursor_in_sight())
    assert result.scroll_y > 0

    await pilot.press("ctrl+s")  # again: the new result starts at the top
    await wait_until(pilot, lambda: not runner.busy and runner.result.scroll_y == 0)
