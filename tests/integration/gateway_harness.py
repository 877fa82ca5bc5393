"""Run the real gateway (runner.serve on a real socket) inside the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mcpstead.config import GatewayConfig
from mcpstead.config_load import parse_config
from mcpstead.runner import Frontend, bind, serve


@dataclass
class RunningGateway:
    url: str
    base: str

    async def health(self) -> dict[str, Any]:
        """GET /health (always open, no token needed)."""

        async with httpx.AsyncClient() as client:
            response = await client.get(f"{self.base}/health", timeout=5)
            return response.json()  # type: ignore[no-any-return]

    async def wait_connected(self, *names: str, timeout: float = 15) -> dict[str, Any]:
        """Poll /health (the public surface) until the named upstreams are connected."""
        return await self.wait_health(lambda servers: all(servers[n]["connected"] for n in names), timeout)

    async def wait_health(
        self, predicate: Callable[[dict[str, dict[str, Any]]], bool], timeout: float = 15
    ) -> dict[str, Any]:
        """Poll /health until `predicate(servers by name)` holds; fail the test after `timeout`."""
        last: dict[str, Any] = {}
        try:
            async with asyncio.timeout(timeout):
                while True:
                    last = await self.health()
                    if predicate({s["name"]: s for s in last["servers"]}):
                        return last
                    await asyncio.sleep(0.05)
        except TimeoutError:
            raise AssertionError(f"/health never matched; last: {last}") from None

    async def session(self) -> McpSession:
        return await self.session_with({})

    async def session_with(self, headers: dict[str, str]) -> McpSession:
        """A session whose requests all carry `headers` (e.g. Authorization)."""
        session = McpSession(self.url)
        session.headers.update(headers)
        await session.initialize()
        return session


class McpSession:
    """A raw JSON-RPC session against the gateway, for checking exact answers and timings."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
        self._ids = itertools.count(1)

    async def initialize(self) -> None:
        answer = await self._post(
            "initialize",
            {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "harness", "version": "1"}},
        )
        self.headers["mcp-session-id"] = answer.headers["mcp-session-id"]
        self.headers["mcp-protocol-version"] = "2025-11-25"

    async def call_tool(
        self, name: str, arguments: dict[str, Any] | None = None, timeout: float = 30
    ) -> dict[str, Any]:
        response = await self._post("tools/call", {"name": name, "arguments": arguments or {}}, timeout)
        return answer_of(response)

    async def _post(self, method: str, params: dict[str, Any], timeout: float = 30) -> httpx.Response:
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        async with httpx.AsyncClient() as http:
            response = await http.post(self.url, headers=self.headers, json=body, timeout=timeout)
        assert response.status_code == 200, response.text
        return response


def answer_of(response: httpx.Response) -> dict[str, Any]:
    """The JSON-RPC answer of a POST, whether it came as JSON or as the last event of an SSE stream."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        events = [line[len("data: ") :] for line in response.text.splitlines() if line.startswith("data: ")]
        messages = [json.loads(data) for data in events]
        answers = [m for m in messages if "method" not in m]
        assert len(answers) == 1, messages
        return answers[0]  # type: ignore[no-any-return]
    return response.json()  # type: ignore[no-any-return]


@contextlib.asynccontextmanager
async def run_gateway(
    yaml_text: str,
    environ: Mapping[str, str] | None = None,
    *,
    capture: Path | None = None,
    frontend: Frontend | None = None,
) -> AsyncIterator[RunningGateway]:
    config = parse_config(yaml_text, "test.yaml", {**os.environ, **(environ or {})})
    async with serving(config, capture=capture, frontend=frontend) as gateway:
        yield gateway


@contextlib.asynccontextmanager
async def serving(
    config: GatewayConfig, *, capture: Path | None = None, frontend: Frontend | None = None
) -> AsyncIterator[RunningGateway]:
    """The runner on `config`, on a free port of its host, in this loop; stopped (exit 0) at the end."""
    sock = bind(config.host, 0)
    stop = asyncio.Event()
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(config, sock, frontend, on_ready=ready.set_result, stop=stop, handle_signals=False, capture=capture)
    )
    try:
        async with asyncio.timeout(30):
            await asyncio.wait({ready, task}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            raise RuntimeError(f"gateway exited early with {task.result()}")
        url = ready.result()
        yield RunningGateway(url=url, base=url.removesuffix("/mcp"))
    finally:
        stop.set()
        async with asyncio.timeout(20):
            exit_code = await task
        assert exit_code == 0
