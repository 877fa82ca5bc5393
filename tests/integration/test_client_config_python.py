"""The `client-config python` snippet, run as the user would run it, lists a real gateway's tools with bearer
auth on."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from mcpstead.client_config import Target, snippets
from mcpstead.config import BEARER_TOKEN_ENV
from tests.integration.gateway_harness import run_gateway

pytestmark = pytest.mark.integration

TOKEN = "client-config-python-0123456789"
CONFIG = "mcp:\n  auth:\n    mode: bearer\nservers:\n  - name: demo\n    command: mcpstead\n    args: [demo-server]\n"
DEMO_TOOLS = {f"demo__{name}" for name in ("echo", "add", "sleep", "fail", "weather", "stderr", "crash")}
RUN_TIMEOUT = 30.0


async def test_the_python_snippet_lists_the_tools_through_bearer_auth(tmp_path: Path) -> None:
    async with run_gateway(CONFIG, {BEARER_TOKEN_ENV: TOKEN}) as gateway:
        await gateway.wait_connected("demo")
        (snippet,) = snippets("python", Target(gateway.url, bearer=True, mcpstead=(sys.executable,)))
        script = tmp_path / "list_tools.py"
        script.write_text(snippet.text)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(script),
            env={**os.environ, BEARER_TOKEN_ENV: TOKEN},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert process.returncode == 0, err.decode()
        listed = out.decode().split()
        assert sorted(listed) == sorted(DEMO_TOOLS)  # every page, each tool once
