"""`mcpstead import` for real: client config files whose servers run here are imported, the result passes
`mcpstead check`, and a gateway started on it offers their tools."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.gateway_harness import run_gateway
from tests.integration.upstreams import serve_sdk_upstream

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

RUNNABLE = Path(__file__).resolve().parents[1] / "fixtures" / "clients" / "runnable"
ROOT = RUNNABLE.parents[3]


def mcpstead(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcpstead", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env=env,
    )


async def test_import_check_and_serve(tmp_path: Path) -> None:
    config = tmp_path / "gw.yaml"
    imported = mcpstead("import", str(RUNNABLE / ".mcp.json"), str(RUNNABLE / "claude_desktop_config.json"))
    assert imported.returncode == 0, imported.stderr
    config.write_text(imported.stdout)
    assert "ghp_RUNNABLE" not in imported.stdout and "sk-RUNNABLE" not in imported.stdout
    assert "SDK_UPSTREAM_TOKEN" in imported.stderr and "DEMO_API_KEY" in imported.stderr

    async with serve_sdk_upstream(json_response=True) as upstream_url:
        environ = {
            "UPSTREAM_URL": upstream_url,
            "SDK_UPSTREAM_TOKEN": "the-token",
            "DEMO_API_KEY": "the-key",
        }
        checked = mcpstead("check", "-c", str(config), env={**os.environ, **environ})
        assert checked.returncode == 0, checked.stderr
        assert "sdk-upstream: streamable-http ${UPSTREAM_URL}" in checked.stdout
        assert "demo-local: stdio mcpstead demo-server" in checked.stdout

        async with run_gateway(config.read_text(), environ) as gateway:
            await gateway.wait_connected("sdk-upstream", "demo-local")
            session = await gateway.session()
            listed = (await session._post("tools/list", {})).json()["result"]["tools"]
            names = {tool["name"] for tool in listed}
            assert {"sdk-upstream__echo", "demo-local__echo", "demo-local__add"} <= names
            answer = await session.call_tool("demo-local__add", {"a": 2, "b": 5})
            assert answer["result"]["structuredContent"] == {"sum": 7}
