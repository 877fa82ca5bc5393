"""`mcpstead connect` driven as a subprocess by the `mcp` SDK's stdio client, against a real gateway process with
real upstreams: every result equals the same call made over HTTP, a reload's list change reaches the stdio
client, and a gateway restart in the middle of the session is survived without the client noticing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.context import ClientRequestContext
from mcp.types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    TextContent,
    ToolListChangedNotification,
)

from tests.conformance.suite import conformance_server
from tests.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

ROOT = Path(__file__).resolve().parents[2]
WAIT = 20.0


@dataclass
class GatewayProcess:
    """`mcpstead serve` on a config file, as a user runs it; stopped with SIGTERM like systemd does."""

    config: Path
    port: int
    log: Path
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    async def start(self, *servers: str, environ: dict[str, str] | None = None) -> None:
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "mcpstead", "serve", "-c", str(self.config),
                cwd=ROOT,
                env={**os.environ, **(environ or {})},
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )  # fmt: skip
        await self.wait_connected(*servers)

    async def wait_connected(self, *servers: str) -> None:
        async with httpx.AsyncClient() as http, asyncio.timeout(WAIT):
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    health = (await http.get(self.url.removesuffix("/mcp") + "/health", timeout=2)).json()
                    connected = {server["name"] for server in health["servers"] if server["connected"]}
                    if set(servers) <= connected:
                        return
                await asyncio.sleep(0.1)

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            async with asyncio.timeout(15):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


@contextlib.asynccontextmanager
async def gateway_process(tmp_path: Path, servers_yaml: str) -> AsyncIterator[GatewayProcess]:
    port = free_port()
    config = tmp_path / "gw.yaml"
    config.write_text(f"host: 127.0.0.1\nport: {port}\nservers:\n{servers_yaml}")
    gateway = GatewayProcess(config, port, tmp_path / "gateway.log")
    try:
        yield gateway
    finally:
        await gateway.stop()


@dataclass
class Client2:
    """The client side of the session: a scripted model answering sampling, and what arrived unasked."""

    sampled: list[Any] = field(default_factory=list)
    notes: list[Any] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def sample(self, context: ClientRequestContext, params: CreateMessageRequestParams) -> CreateMessageResult:
        self.sampled.append(params.model_dump(mode="json", exclude_none=True))
        text = TextContent(type="text", text="a model answer")
        return CreateMessageResult(role="assistant", content=text, model="test-model", stop_reason="endTurn")

    async def on_message(self, message: Any) -> None:
        if isinstance(message, ToolListChangedNotification):
            self.notes.append("tools/list_changed")
            self.changed.set()

    def client(self, target: str | StdioServerParameters) -> Client:
        return Client(target, mode="legacy", sampling_callback=self.sample, message_handler=self.on_message)


def dump(value: Any) -> Any:
    return value.model_dump(mode="json", by_alias=True, exclude_none=True)


def bridge(url: str, *extra: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcpstead", "connect", url, *extra],
        cwd=str(ROOT),
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT)},
    )


async def session_work(client: Client) -> dict[str, Any]:
    """tools/list, a call with progress, a call whose tool asks the client for sampling."""
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    tools = [dump(tool) for tool in (await client.list_tools()).tools]
    with_progress = await client.call_tool("conf__test_tool_with_progress", {}, progress_callback=on_progress)
    sampled = await client.call_tool("conf__test_sampling", {"prompt": "Say hi"})
    return {"tools": tools, "progress": progress, "with_progress": dump(with_progress), "sampled": dump(sampled)}


DEMO = "  - name: demo\n    command: mcpstead\n    args: [demo-server]\n"


async def test_connect_equals_http_and_survives_a_reload_and_a_gateway_restart(tmp_path: Path) -> None:
    async with (
        conformance_server(stderr_path=tmp_path / "conf.log") as conf,
        gateway_process(tmp_path, f"  - name: conf\n    url: {conf.url}\n") as gateway,
    ):
        await gateway.start("conf")
        over_http, over_stdio = Client2(), Client2()
        async with over_http.client(gateway.url) as client:
            direct = await session_work(client)
        assert direct["progress"], "the upstream sent no progress"

        async with over_stdio.client(bridge(gateway.url)) as client:
            assert await session_work(client) == direct
            assert over_stdio.sampled == over_http.sampled != []

            # A reload that adds an upstream: the list change reaches the stdio client.
            gateway.config.write_text(gateway.config.read_text() + DEMO)
            async with httpx.AsyncClient() as http:
                reloaded = await http.post(gateway.url.removesuffix("/mcp") + "/-/reload", timeout=10)
            assert reloaded.status_code == 200, reloaded.text
            async with asyncio.timeout(WAIT):
                await over_stdio.changed.wait()
            await gateway.wait_connected("conf", "demo")
            names = {tool.name for tool in (await client.list_tools()).tools}
            assert {"conf__test_sampling", "demo__echo"} <= names

            # The gateway restarts in the middle of the session: the next calls just work.
            over_stdio.changed.clear()
            await gateway.stop()
            await gateway.start("conf", "demo")
            echoed = await client.call_tool("demo__echo", {"message": "after the restart"})
            assert dump(echoed)["content"][0]["text"].endswith("after the restart")
            async with asyncio.timeout(WAIT):
                await over_stdio.changed.wait()  # the new session's lists may differ: the client is told
            after = await session_work(client)

        async with Client2().client(gateway.url) as client:
            again = await session_work(client)
        assert after == again


async def test_a_2026_client_over_connect_equals_http(tmp_path: Path) -> None:
    """A 2026-07-28 client over stdio: its requests go as sessionless POSTs with the routing headers
    (Mcp-Method, Mcp-Name, ...) derived from each message."""
    async with (
        conformance_server(stderr_path=tmp_path / "conf.log") as conf,
        gateway_process(tmp_path, f"  - name: conf\n    url: {conf.url}\n" + DEMO) as gateway,
    ):
        await gateway.start("conf", "demo")

        async def work(target: str | StdioServerParameters) -> list[Any]:
            async with Client(target, mode="2026-07-28") as client:
                assert client.protocol_version == "2026-07-28"
                return [
                    [dump(tool) for tool in (await client.list_tools()).tools],
                    dump(await client.call_tool("demo__add", {"a": 2, "b": 3})),
                    {**dump(await client.read_resource("test://static-text")), "ttlMs": "counts down"},
                    dump(await client.get_prompt("conf__test_simple_prompt")),
                ]

        assert await work(bridge(gateway.url)) == await work(gateway.url)


async def run_bridge(lines: list[dict[str, Any]], *args: str, wait_after: float = 0.0) -> tuple[list[Any], str, int]:
    """`mcpstead connect ARGS` fed `lines`, then stdin closed; its stdout messages, stderr and exit code."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mcpstead", "connect", *args,
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdin is not None
    process.stdin.write(b"".join(json.dumps(line).encode() + b"\n" for line in lines))
    await process.stdin.drain()
    await asyncio.sleep(wait_after)
    process.stdin.close()
    try:
        async with asyncio.timeout(WAIT):
            out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return [json.loads(line) for line in out.splitlines()], err.decode(), process.returncode


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
}


async def test_a_gateway_that_is_not_there_gets_an_answer_saying_so_and_the_bridge_exits_1() -> None:
    url = f"http://127.0.0.1:{free_port()}/mcp"
    out, err, code = await run_bridge([INITIALIZE], url, "--retry-seconds", "0.5", wait_after=3)
    assert code == 1
    assert out == [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "error": {"code": -32000, "message": out[0]["error"]["message"]},
        }
    ]
    assert f"the gateway at {url} has not answered for 0.5 s" in out[0]["error"]["message"]
    assert "exiting" in err and "Traceback" not in err


async def test_bad_lines_get_json_rpc_errors_and_stdout_carries_only_messages(tmp_path: Path) -> None:
    """A line that is not JSON gets -32700 and the bridge goes on; a refused token gets an answer that says
    what to set; closing stdin ends the bridge with 0 and says so on stderr."""
    async with gateway_process(tmp_path, DEMO) as gateway:
        gateway.config.write_text(gateway.config.read_text() + "mcp:\n  auth:\n    mode: bearer\n")
        await gateway.start("demo", environ={"MCPSTEAD_BEARER_TOKEN": "a-long-enough-test-token-123"})
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "mcpstead", "connect", gateway.url,
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if k != "MCPSTEAD_BEARER_TOKEN"},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        async with asyncio.timeout(WAIT):
            out, err = await process.communicate(b"not json\n" + json.dumps(INITIALIZE).encode() + b"\n")
        messages = [json.loads(line) for line in out.splitlines()]
        assert process.returncode == 0
        assert messages[0]["error"]["code"] == -32700 and messages[0]["id"] is None
        assert messages[1]["id"] == 1 and "MCPSTEAD_BEARER_TOKEN" in messages[1]["error"]["message"]
        assert b"refused the token (HTTP 401)" in err
        assert b"the client closed its input" in err


async def test_requests_written_before_stdin_closes_are_all_answered(tmp_path: Path) -> None:
    async with gateway_process(tmp_path, DEMO) as gateway:
        await gateway.start("demo")
        lines = [
            INITIALIZE,
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
            {
                "jsonrpc": "2.0",
                "id": 3,
                "method": "tools/call",
                "params": {"name": "demo__sleep", "arguments": {"seconds": 0.5}},
            },
        ]
        out, err, code = await run_bridge(lines, gateway.url)
        assert code == 0, err
        assert [message["id"] for message in out] == [1, 2, 3]
        assert "result" in out[1] and "result" in out[2], out
