"""Operability: reload on save / SIGHUP / POST /-/reload, the full metric set, and no secret anywhere."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from mcpstead.config_load import load_config
from mcpstead.runner import bind, serve
from tests.integration.gateway_harness import RunningGateway
from tests.integration.lines import LineReader
from tests.integration.upstreams import serve_sdk_upstream

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

DEMO = "  - name: demo\n    command: mcpstead\n    args: [demo-server]\n"


def save_like_an_editor(path: Path, text: str) -> None:
    """Write a temp file beside the config and rename it over (what vim, VS Code and JetBrains do)."""
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text)
    os.replace(temp, path)


class FileGateway:
    """The runner on a config file, with the file watcher on, in this loop."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.stop = asyncio.Event()
        self.task: asyncio.Task[int] | None = None

    async def __aenter__(self) -> RunningGateway:
        config = load_config(self.path)
        ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.task = asyncio.create_task(
            serve(
                config,
                bind("127.0.0.1", 0),
                on_ready=ready.set_result,
                stop=self.stop,
                handle_signals=False,
                watch=True,
            )
        )
        async with asyncio.timeout(20):
            url = await ready
        return RunningGateway(url=url, base=url.removesuffix("/mcp"))

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        assert self.task is not None
        async with asyncio.timeout(20):
            assert await self.task == 0


async def tool_names(gateway: RunningGateway) -> set[str]:
    session = await gateway.session()
    response = await session._post("tools/list", {})
    return {tool["name"] for tool in response.json()["result"]["tools"]}


async def wait_for_tools(gateway: RunningGateway, predicate: Any, timeout: float) -> set[str]:
    async with asyncio.timeout(timeout):
        while True:
            names = await tool_names(gateway)
            if predicate(names):
                return names
            await asyncio.sleep(0.05)


async def wait_for_metric(gateway: RunningGateway, line: str, timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while True:
            if line in await metrics_text(gateway):
                return
            await asyncio.sleep(0.05)


async def metrics_text(gateway: RunningGateway) -> str:
    async with httpx.AsyncClient() as http:
        return (await http.get(f"{gateway.base}/metrics", timeout=5)).text


async def test_editor_save_adds_and_removes_upstreams_and_a_broken_save_keeps_the_config(tmp_path: Path) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text("servers:\n" + DEMO)
    async with serve_sdk_upstream(json_response=True) as url, FileGateway(path) as gateway:
        await gateway.wait_connected("demo")
        session = await gateway.session()

        started = time.monotonic()
        save_like_an_editor(path, f"servers:\n{DEMO}  - name: sdk\n    url: {url}\n")
        names = await wait_for_tools(gateway, lambda n: "sdk__echo" in n, timeout=2)
        assert time.monotonic() - started < 2
        assert "demo__echo" in names

        save_like_an_editor(path, "servers: [this is: not valid")
        await wait_for_metric(gateway, 'mcpstead_config_reloads_total{result="error"} 1.0')
        save_like_an_editor(path, "servers:\n  - name: sdk\n    urll: typo\n")
        await wait_for_metric(gateway, 'mcpstead_config_reloads_total{result="error"} 2.0')
        assert {"demo__echo", "sdk__echo"} <= await tool_names(gateway)

        save_like_an_editor(path, f"servers:\n  - name: sdk\n    url: {url}\n")
        names = await wait_for_tools(gateway, lambda n: "demo__echo" not in n, timeout=2)
        assert "sdk__echo" in names
        answer = await session.call_tool("sdk__echo", {"message": "session survived"})
        assert answer["result"]["content"][0]["text"] == "echo: session survived"


async def test_get_stream_hears_tools_list_changed_after_reload(tmp_path: Path) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text("servers: []\n")
    async with FileGateway(path) as gateway:
        session = await gateway.session()
        headers = {**session.headers, "accept": "text/event-stream"}
        async with httpx.AsyncClient() as http, http.stream("GET", gateway.url, headers=headers, timeout=10) as stream:
            assert stream.status_code == 200
            second = await http.get(gateway.url, headers=headers, timeout=5)
            assert second.status_code == 409
            lines = stream.aiter_lines()
            assert await anext(lines) == ": stream open"
            save_like_an_editor(path, "servers:\n" + DEMO)
            async with asyncio.timeout(10):
                async for line in lines:
                    if line.startswith("data: "):
                        assert json.loads(line[6:]) == {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}
                        break


async def test_post_reload_reports_the_diff_or_every_error(tmp_path: Path) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text("servers:\n" + DEMO)
    config = load_config(path)
    stop = asyncio.Event()
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(config, bind("127.0.0.1", 0), on_ready=ready.set_result, stop=stop, handle_signals=False)
    )
    try:
        base = (await ready).removesuffix("/mcp")
        async with httpx.AsyncClient() as http:
            path.write_text(
                "servers:\n" + DEMO + "    timeout_seconds: 5\n  - name: other\n    command: mcpstead\n"
                "    args: [demo-server]\nport: 1\n"
            )
            answer = await http.post(f"{base}/-/reload", timeout=10)
            assert answer.status_code == 200
            summary = answer.json()
            assert {k: summary[k] for k in ("added", "removed", "restarted", "updated", "unchanged")} == {
                "added": 1,
                "removed": 0,
                "restarted": 0,
                "updated": 1,
                "unchanged": 0,
            }
            assert summary["ignored"] == ["host/port"]

            path.write_text("port: nope\nservers:\n  - name: a__b\n    url: http://x/mcp\n")
            broken = await http.post(f"{base}/-/reload", timeout=10)
            assert broken.status_code == 400
            assert broken.text.splitlines() == [
                f"{path}:1:7: port: expected an integer, got a string 'nope'",
                f"{path}:3:11: servers[0] (name: a__b).name: 'a__b' must be letters and digits, separated by single '-' or '_' "
                "(no '__', no leading or trailing separator), so '<server>__<tool>' splits unambiguously",
            ]
            health = (await http.get(f"{base}/health")).json()
            assert [s["name"] for s in health["servers"]] == ["demo", "other"]
    finally:
        stop.set()
        async with asyncio.timeout(20):
            assert await task == 0


def test_sighup_reloads_a_running_process_and_reload_needs_the_token(tmp_path: Path) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text("port: 0\nmcp:\n  auth:\n    mode: bearer\nservers: []\n")
    env = {**os.environ, "MCPSTEAD_BEARER_TOKEN": "sighup-secret-token"}
    process = subprocess.Popen(
        [sys.executable, "-m", "mcpstead", "-c", str(path)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    stderr = LineReader(process.stderr)
    try:
        url = stderr.wait_for(r"listening on (http://\S+/mcp)").group(1)
        base = url.removesuffix("/mcp")
        assert httpx.post(f"{base}/-/reload", timeout=5).status_code == 401
        auth = {"authorization": "Bearer sighup-secret-token"}
        assert httpx.post(f"{base}/-/reload", headers=auth, timeout=5).status_code == 200

        path.write_text("port: 0\nmcp:\n  auth:\n    mode: bearer\nservers:\n" + DEMO)
        process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            servers = httpx.get(f"{base}/health", timeout=5).json()["servers"]
            if servers and servers[0]["connected"]:
                break
            time.sleep(0.05)
        assert servers[0]["name"] == "demo" and servers[0]["connected"]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
        logs = stderr.rest()
        process.stderr.close()
    assert "config reloaded added=1" in logs
    assert "sighup-secret-token" not in logs


REFERENCE_FAMILIES = {
    "mcpstead_build_info": {"version", "python_version", "git_sha"},
    "mcpstead_start_time_seconds": set(),
    "mcpstead_uptime_seconds": set(),
    "mcpstead_process_resident_memory_bytes": set(),
    "mcpstead_process_virtual_memory_bytes": set(),
    "mcpstead_process_cpu_seconds": set(),
    "mcpstead_process_open_fds": set(),
    "mcpstead_process_max_fds": set(),
    "mcpstead_process_threads": set(),
    "mcpstead_upstream_connected": {"server"},
    "mcpstead_upstream_tools_count": {"server"},
    "mcpstead_upstream_reconnects": {"server"},
    "mcpstead_upstream_last_seen_seconds": {"server"},
    "mcpstead_upstream_initialize": {"server", "result"},
    "mcpstead_upstream_initialize_duration_seconds": {"server"},
    "mcpstead_upstream_health_checks": {"server", "result"},
    "mcpstead_upstream_reconnect_attempts": {"server", "result"},
    "mcpstead_upstream_backoff_seconds": {"server"},
    "mcpstead_upstream_in_backoff": {"server"},
    "mcpstead_upstream_current_backoff_seconds": {"server"},
    "mcpstead_upstream_session_resets": {"server", "reason"},
    "mcpstead_upstream_tools_refresh": {"server", "result"},
    "mcpstead_upstream_tools_refresh_duration_seconds": {"server"},
    "mcpstead_upstream_tools_last_refresh_timestamp_seconds": {"server"},
    "mcpstead_upstream_bytes": {"server", "direction"},
    "mcpstead_downstream_sessions_active": set(),
    "mcpstead_downstream_sessions": set(),
    "mcpstead_downstream_session_duration_seconds": set(),
    "mcpstead_downstream_session_terminations": {"reason"},
    "mcpstead_mcp_requests": {"method", "result"},
    "mcpstead_mcp_request_duration_seconds": {"method"},
    "mcpstead_mcp_auth_attempts": {"result"},
    "mcpstead_mcp_auth_failures": {"reason"},
    "mcpstead_config_reloads": {"result"},
    "mcpstead_config_last_reload_timestamp_seconds": set(),
    "mcpstead_tool_calls": {"server", "tool"},
    "mcpstead_tool_call_errors": {"server", "tool", "reason"},
    "mcpstead_tool_call_duration_seconds": {"server", "tool"},
}
SECRETS = {
    "MCPSTEAD_BEARER_TOKEN": "downstream-bearer-5ecret",
    "UP_TOKEN": "upstream-token-5ecret",
    "UP_KEY": "header-key-5ecret",
    "CHILD_SECRET": "child-env-5ecret",
}


async def test_every_reference_metric_family_and_no_secret_anywhere(tmp_path: Path, caplog: Any) -> None:
    caplog.set_level("DEBUG", logger="mcpstead")
    path = tmp_path / "gw.yaml"
    crash_fast = "    reconnect: {backoff_base_ms: 100, backoff_max_ms: 100}\n"
    async with serve_sdk_upstream(json_response=True) as url:
        path.write_text(
            "mcp:\n  auth:\n    mode: bearer\nservers:\n"
            + DEMO
            + "    env: {DEMO_SECRET: '${CHILD_SECRET}'}\n"
            + crash_fast
            + f"  - name: sdk\n    url: {url}\n    auth: {{type: bearer, token_env: UP_TOKEN}}\n"
            "    headers: {X-Api-Key: '${UP_KEY}'}\n    health_check_seconds: 0.2\n"
        )
        for name, value in SECRETS.items():
            os.environ[name] = value
        try:
            async with FileGateway(path) as gateway:
                await gateway.wait_connected("demo", "sdk")
                auth = {"authorization": f"Bearer {SECRETS['MCPSTEAD_BEARER_TOKEN']}"}
                async with httpx.AsyncClient() as http:
                    assert (
                        await http.post(gateway.url, json={}, headers={"authorization": "Bearer wrong"})
                    ).status_code == 401
                    session = await gateway.session_with(auth)
                    for tool, arguments in [
                        ("demo__echo", {"message": "m"}),
                        ("demo__fail", {}),
                        ("sdk__add", {"a": 1, "b": 2}),
                    ]:
                        await session.call_tool(tool, arguments)
                    await session.call_tool("demo__crash", {"code": 3})
                    ended = await http.delete(gateway.url, headers=session.headers)
                    assert ended.status_code == 204
                    session = await gateway.session_with(auth)

                    await gateway.wait_connected("demo", timeout=10)
                    path.write_text(path.read_text() + "    timeout_seconds: 30\n")
                    assert (await http.post(f"{gateway.base}/-/reload", headers=auth, timeout=10)).status_code == 200

                    exposition = await metrics_text(gateway)
                    health = (await http.get(f"{gateway.base}/health")).text
        finally:
            for name in SECRETS:
                os.environ.pop(name, None)

    families = {family.name: family for family in text_string_to_metric_families(exposition)}
    for name, labels in REFERENCE_FAMILIES.items():
        assert name in families, name
        samples = families[name].samples
        assert samples, f"{name} has no samples"
        assert {key for s in samples for key in s.labels} - {"le"} == labels, name
    assert exposition.count("# TYPE mcpstead_tool_call_duration_seconds histogram") == 1
    reloads = {s.labels["result"]: s.value for s in families["mcpstead_config_reloads"].samples}
    assert set(reloads) == {"success"}  # the POST, and the file watcher seeing the same save

    logs = "\n".join(record.getMessage() for record in caplog.records)
    for value in SECRETS.values():
        assert value not in exposition
        assert value not in health
        assert value not in logs
