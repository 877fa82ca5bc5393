"""The official MCP SDK, as a client, talks to the stdlib demo server: proof the two interoperate."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from mcp import ClientSession, Implementation, StdioServerParameters, stdio_client
from mcp.types import PaginatedRequestParams, TextContent, Tool

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


async def test_sdk_client_interoperates_with_the_demo_server(tmp_path: Path) -> None:
    server = StdioServerParameters(
        command=sys.executable, args=["-m", "mcpstead.demo"], env={"PYTHONPATH": str(ROOT)}, cwd=ROOT
    )
    stderr_log = tmp_path / "demo-stderr.log"
    reports: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reports.append((progress, total, message))

    with stderr_log.open("w") as errlog:
        async with (
            stdio_client(server, errlog=errlog) as (read, write),
            ClientSession(read, write, client_info=Implementation(name="sdk-interop", version="1")) as session,
        ):
            init = await session.initialize()
            assert init.server_info.name == "mcpstead-demo"
            assert init.protocol_version in ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
            assert init.capabilities.tools is not None

            tools: list[Tool] = []
            cursor: str | None = None
            while True:
                page = await session.list_tools(params=PaginatedRequestParams(cursor=cursor) if cursor else None)
                tools.extend(page.tools)
                cursor = page.next_cursor
                if cursor is None:
                    break
            by_name = {tool.name: tool for tool in tools}
            assert set(by_name) == {"echo", "add", "sleep", "fail", "weather", "stderr", "crash"}
            assert by_name["add"].output_schema is not None

            echoed = await session.call_tool("echo", {"message": "hi from the SDK"})
            assert isinstance(echoed.content[0], TextContent)
            assert echoed.content[0].text == "hi from the SDK"

            # call_tool also validates structuredContent against the listed outputSchema.
            added = await session.call_tool("add", {"a": 20, "b": 22})
            assert added.structured_content == {"sum": 42}
            assert not added.is_error

            failed = await session.call_tool("fail", {"message": "expected failure"})
            assert failed.is_error is True
            assert isinstance(failed.content[0], TextContent)
            assert failed.content[0].text == "expected failure"

            weather = await session.call_tool("weather", {"city": "Kyoto", "units": "imperial"})
            assert weather.structured_content is not None
            assert weather.structured_content["city"] == "Kyoto"
            assert isinstance(weather.content[0], TextContent)
            assert json.loads(weather.content[0].text) == weather.structured_content

            slept = await session.call_tool("sleep", {"seconds": 0.1, "steps": 2}, progress_callback=on_progress)
            assert not slept.is_error
            assert [(done, total) for done, total, _ in reports] == [(1, 2), (2, 2)]

    assert "initialized by sdk-interop" in stderr_log.read_text()
