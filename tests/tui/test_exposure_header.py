"""The header says UNAUTHENTICATED, first and in red, while a gateway allowed to listen beyond loopback
without auth (--allow-unauthenticated) runs; never otherwise."""

from __future__ import annotations

from mcpstead.config_load import parse_config
from mcpstead.gateway import Gateway
from tests.tui.helpers import wait_until
from tui.app import DashboardApp
from tui.widgets.header import StatusHeader

SERVERS = "servers:\n  - name: absent\n    url: http://127.0.0.1:9/mcp\n"


async def header_text(config: str, allow: bool) -> str:
    async with Gateway(parse_config(config, "test.yaml"), allow_unauthenticated=allow) as gateway:
        app = DashboardApp(gateway, frame_interval=0.05)
        app.animation_level = "none"
        async with app.run_test(size=(160, 36)) as pilot:
            facts = app.query_one(StatusHeader).query_one("#facts")
            await wait_until(pilot, lambda: "test.yaml" in str(facts.render()))
            return str(facts.render())


async def test_the_header_warns_while_exposed_and_allowed() -> None:
    text = await header_text("host: 0.0.0.0\n" + SERVERS, allow=True)
    assert text.startswith("⚠ UNAUTHENTICATED ")


async def test_no_warning_on_loopback() -> None:
    assert "UNAUTHENTICATED" not in await header_text(SERVERS, allow=False)
