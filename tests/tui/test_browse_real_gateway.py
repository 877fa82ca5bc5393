"""The browser on a real Gateway in front of the SDK-built conformance upstream: a resource, a template and a
prompt with completions, driven by keys at 80x24; what is read is what the upstream serves."""

from __future__ import annotations

import json

import pytest
from textual.pilot import Pilot

from mcpstead.config_load import parse_config
from mcpstead.gateway import Gateway
from tests.conformance.server import STATIC_TEXT, WATCHED_TEXT
from tests.conformance.suite import conformance_server
from tests.tui.helpers import dashboard, wait_for_screen, wait_until
from tests.tui.test_real_gateway import wait_ready
from tui.app import DashboardApp
from tui.screens import PromptScreen, ResourceScreen, TemplateScreen
from tui.widgets import KeyedTable

pytestmark = pytest.mark.integration

WAIT = 10.0


async def pick(pilot: Pilot[None], table: KeyedTable, key: str) -> None:
    await wait_until(pilot, lambda: key in table.keys, WAIT)
    table.focus()
    table.move_cursor(row=table.get_row_index(key))
    await wait_until(pilot, lambda: table.cursor_key == key and pilot.app.focused is table)


async def test_resources_templates_and_prompts_through_a_real_gateway() -> None:
    async with conformance_server() as upstream:
        config = f"servers:\n  - name: conf\n    url: {upstream.url}\n"
        async with Gateway(parse_config(config, "test.yaml")) as gateway:
            await wait_ready(gateway, "conf")
            app = DashboardApp(gateway, frame_interval=0.05)
            app.animation_level = "none"
            async with app.run_test(size=(80, 24)) as pilot:
                lists = dashboard(pilot).lists

                # A resource, read as served, then watched.
                await pilot.press("t", "t")
                await wait_until(pilot, lambda: lists.shown == "resources")
                await pick(pilot, lists.resources, "test://static-text")
                await pilot.press("enter")
                resource = await wait_for_screen(pilot, ResourceScreen)
                await wait_until(pilot, lambda: resource.reads == 1, WAIT)
                assert resource.error is None
                assert [content.text for content in resource.contents] == [STATIC_TEXT]
                assert STATIC_TEXT in resource.document.text
                await pilot.press("escape")

                await pick(pilot, lists.resources, "test://watched-resource")
                await pilot.press("enter")
                watched = await wait_for_screen(pilot, ResourceScreen)
                await wait_until(pilot, lambda: watched.reads == 1, WAIT)
                await pilot.press("u")
                await wait_until(pilot, lambda: watched.subscription.state == "on", WAIT)
                notify = {"name": "conf__test_notify_resource_updated", "arguments": {"uri": "test://watched-resource"}}
                answer = await gateway.start_request("tools/call", notify).answer
                assert "error" not in answer
                await wait_until(pilot, lambda: watched.subscription.updates == 1 and watched.reads == 2, WAIT)
                assert [content.text for content in watched.contents] == [WATCHED_TEXT]
                assert "1 update" in str(watched.subscribed_line.render())
                await pilot.press("escape")

                # A template, filled in with a suggestion, and read.
                await pilot.press("t")
                await wait_until(pilot, lambda: lists.shown == "templates")
                await pick(pilot, lists.templates, "test://template/{id}/data")
                await pilot.press("enter")
                template = await wait_for_screen(pilot, TemplateScreen)
                field = template.form.field("id")
                await wait_until(pilot, lambda: pilot.app.focused is field.input)
                await pilot.press("1")
                await wait_until(pilot, lambda: field.showing, WAIT)
                assert field.completions.values == ("1", "123")
                await pilot.press("down", "down", "enter")
                await wait_until(pilot, lambda: field.value == "123")
                await pilot.press("enter")
                read = await wait_for_screen(pilot, ResourceScreen)
                await wait_until(pilot, lambda: read.reads == 1, WAIT)
                assert read.uri == "test://template/123/data"
                served = {"id": "123", "templateTest": True, "data": "Data for ID: 123"}
                assert [content.text for content in read.contents] == [json.dumps(served, separators=(",", ":"))]
                await pilot.press("escape", "escape")

                # A prompt, its arguments completed and sent.
                await pilot.press("t", "t")
                await wait_until(pilot, lambda: lists.shown == "prompts")
                await pick(pilot, lists.prompts, "conf__test_prompt_with_arguments")
                await pilot.press("enter")
                prompt = await wait_for_screen(pilot, PromptScreen)
                arg1 = prompt.form.field("arg1")
                await wait_until(pilot, lambda: pilot.app.focused is arg1.input)
                await pilot.press("a", "l")
                await wait_until(pilot, lambda: arg1.completions.values == ("alpha", "alpine"), WAIT)
                await pilot.press("down", "enter", "tab", *"two", "ctrl+s")
                await wait_until(pilot, lambda: prompt.answer is not None, WAIT)
                assert prompt.answer is not None and prompt.answer.error is None
                assert prompt.answer.result["messages"][0]["content"]["text"] == (
                    "Prompt with arguments: arg1='alpha', arg2='two'"
                )
                assert "Prompt with arguments: arg1='alpha', arg2='two'" in prompt.result.text
