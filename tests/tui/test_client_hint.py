"""The Overview's hint with the `client-config` command: shown until the first client comes to a real Gateway
(the dashboard's own requests do not count), and a command the CLI takes as it is."""

from __future__ import annotations

import shlex

import httpx

from mcpstead.cli import build_parser
from mcpstead.client_config import CLIENT_NAMES
from mcpstead.config_load import parse_config
from mcpstead.downstream.app import create_app
from mcpstead.gateway import Gateway
from tests.tui.helpers import dashboard, wait_until
from tui.app import DashboardApp
from tui.screens.dashboard import client_setup_hint

# An upstream that is never there: with none configured, the hint would be about adding one.
CONFIG = "servers:\n  - name: absent\n    url: http://127.0.0.1:9/mcp\n"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "a-client", "version": "1"}},
}


def test_the_hint_is_a_command_the_cli_takes_and_names_every_client() -> None:
    hint = client_setup_hint("my configs/gateway.yaml").plain
    assert hint.startswith("No client yet: mcpstead client-config claude-code -c ")
    command = hint.removeprefix("No client yet: ").split(" prints ")[0]
    words = shlex.split(command)
    assert words[0] == "mcpstead"
    args = build_parser().parse_args(words[1:])
    assert (args.command, args.client, args.config) == ("client-config", "claude-code", "my configs/gateway.yaml")
    assert all(name in hint for name in CLIENT_NAMES)


async def test_the_hint_shows_until_a_client_comes() -> None:
    async with (
        Gateway(parse_config(CONFIG, "test.yaml")) as gateway,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(gateway)), base_url="http://127.0.0.1") as http,
    ):
        app = DashboardApp(gateway, frame_interval=0.05)
        app.animation_level = "none"
        async with app.run_test(size=(120, 36)) as pilot:
            hint = dashboard(pilot).hint

            def shown() -> str:
                return str(hint.render()) if hint.display else ""

            await wait_until(pilot, lambda: "client-config" in shown())
            assert "-c test.yaml" in shown()

            ping = await gateway.start_request("ping", {}).answer  # the dashboard's own client
            assert ping["result"] == {}
            await pilot.pause()
            assert not gateway.snapshot().client_seen
            assert "client-config" in shown()

            answer = await http.post("/mcp", json=INITIALIZE, headers={"accept": "application/json, text/event-stream"})
            assert answer.status_code == 200, answer.text
            await wait_until(pilot, lambda: "client-config" not in shown())
            assert shown().startswith("No calls yet")  # the same line, so nothing below it moved
