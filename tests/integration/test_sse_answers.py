"""SSE answers from a Streamable HTTP upstream, on real loopback sockets: the connection is kept for the next
call (a stream released before its end would close it), what the upstream sends after the answer still
arrives, an answer split over chunks is read, and a stream left open after its answer is closed in time."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest
from aiohttp import web

from mcpstead.upstream import http as upstream_http
from tests.integration.gateway_harness import run_gateway
from tests.integration.web_upstream import serve_mcp

pytestmark = pytest.mark.integration

TOOLS = [{"name": name, "inputSchema": {"type": "object"}} for name in ("plain", "after", "late", "split", "open")]


def event(message: dict[str, Any]) -> bytes:
    return b"event: message\r\ndata: " + json.dumps(message).encode() + b"\r\n\r\n"


class SseUpstream:
    """Answers every request in SSE, shaped by the tool's name; counts its connections and tools/list."""

    def __init__(self) -> None:
        self.peers: set[Any] = set()
        self.lists = 0
        self.listed = asyncio.Event()
        self.open_stream_closed = asyncio.Event()

    async def mcp(self, request: web.Request) -> web.StreamResponse:
        self.peers.add(request.transport.get_extra_info("peername") if request.transport else None)
        message = await request.json()
        method = message.get("method")
        if "id" not in message:
            return web.Response(status=202)
        if method == "initialize":
            result = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {"listChanged": True}},
                      "serverInfo": {"name": "sse", "version": "1"}}  # fmt: skip
            return web.json_response({"jsonrpc": "2.0", "id": message["id"], "result": result},
                                     headers={"mcp-session-id": "s"})  # fmt: skip
        result: dict[str, Any] = {"tools": TOOLS} if method == "tools/list" else {"content": []}
        if method == "tools/list":
            self.lists += 1
            self.listed.set()
        answer = event({"jsonrpc": "2.0", "id": message["id"], "result": result})
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        name = (message.get("params") or {}).get("name")
        if name == "split":
            await response.write(answer[:20])
            await asyncio.sleep(0.01)
            await response.write(answer[20:])
        else:
            await response.write(answer)
        if name in ("after", "late"):  # in the answer's chunk (the general reader), or in a later one
            if name == "late":
                await asyncio.sleep(0.05)
            await response.write(event({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}))
        if name == "open":
            try:
                for _ in range(300):  # holds the stream open, ~30 s, unless the gateway closes it
                    await asyncio.sleep(0.1)
                    await response.write(b": still here\n\n")
            except (ConnectionError, RuntimeError):
                self.open_stream_closed.set()
                return response
        await response.write_eof()
        return response


def sse_upstream(upstream: SseUpstream) -> contextlib.AbstractAsyncContextManager[str]:
    return serve_mcp(upstream.mcp)


async def test_sse_answers_keep_the_connection_and_what_follows_them_arrives(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(upstream_http, "DRAIN_SECONDS", 0.5)
    upstream = SseUpstream()
    async with sse_upstream(upstream) as url, run_gateway(f"servers:\n  - name: u\n    url: {url}\n") as gateway:
        await gateway.wait_connected("u")
        session = await gateway.session()
        before = len(upstream.peers)
        for _ in range(20):
            assert "result" in await session.call_tool("u__plain", {})
        assert len(upstream.peers) - before <= 1  # one kept-alive connection for the 20 calls, not 20
        assert "result" in await session.call_tool("u__split", {})

        for tool in ("u__after", "u__late"):  # a list_changed after the answer reaches the gateway: it lists again
            upstream.listed.clear()
            assert "result" in await session.call_tool(tool, {})
            async with asyncio.timeout(10):
                await upstream.listed.wait()

        async with asyncio.timeout(10):
            assert "result" in await session.call_tool("u__open", {})  # answered at once, stream still open
            await upstream.open_stream_closed.wait()  # and closed by the gateway after DRAIN_SECONDS
        assert "result" in await session.call_tool("u__plain", {})
