"""`mcpstead connect` against gateways that misbehave on purpose, on real loopback sockets: the order in which
its messages arrive when they travel on separate connections, and a tools/call the gateway got but never
answered (the connection dropped), which must not be sent a second time."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from tests.integration.test_connect import INITIALIZE, run_bridge
from tests.integration.web_upstream import serve_mcp

pytestmark = pytest.mark.integration

INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
INIT_RESULT = {
    "protocolVersion": "2025-11-25",
    "capabilities": {"tools": {}},
    "serverInfo": {"name": "f", "version": "1"},
}


def call(request_id: int) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": {"name": "slow", "arguments": {}}}


def cancel(request_id: int) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": request_id}}


@contextlib.asynccontextmanager
async def recording_gateway(arrived: list[tuple[str, Any]]) -> AsyncIterator[str]:
    """A gateway that notes each message as it arrives and answers a tools/call after a while."""

    async def mcp(request: web.Request) -> web.StreamResponse:
        message = await request.json()
        method, params = message.get("method"), message.get("params") or {}
        arrived.append((method, message.get("id", params.get("requestId"))))
        if method == "initialize":
            body = {"jsonrpc": "2.0", "id": message["id"], "result": INIT_RESULT}
            return web.json_response(body, headers={"mcp-session-id": "s1"})
        if "id" not in message:
            return web.Response(status=202)
        if method == "tools/call":
            await asyncio.sleep(0.3)
        return web.json_response({"jsonrpc": "2.0", "id": message["id"], "result": {"content": []}})

    async with serve_mcp(mcp) as url:
        yield url


async def test_a_cancellation_never_arrives_before_its_request() -> None:
    """Each tools/call is followed at once by its cancellation; they go out on different connections, and
    the gateway must see every request before the notification that cancels it."""
    arrived: list[tuple[str, Any]] = []
    lines: list[dict[str, Any]] = [INITIALIZE, INITIALIZED]
    for request_id in range(10, 20):
        lines += [call(request_id), cancel(request_id)]
    async with recording_gateway(arrived) as url:
        _out, err, code = await run_bridge(lines, url, wait_after=1.0)
    assert code == 0, err
    order = [(method, key) for method, key in arrived if method in ("tools/call", "notifications/cancelled")]
    assert len(order) == 20, arrived
    for request_id in range(10, 20):
        assert order.index(("tools/call", request_id)) < order.index(("notifications/cancelled", request_id)), order


@contextlib.asynccontextmanager
async def dropping_gateway(seen: list[str]) -> AsyncIterator[str]:
    """A gateway that reads a tools/call or a ping whole and then closes the connection without an answer,
    as one that dies while it works would."""

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if head.startswith(b"GET "):
                    writer.write(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n")
                    await writer.drain()
                    continue
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                message = json.loads(await reader.readexactly(length))
                method = message.get("method")
                seen.append(method)
                if method == "initialize":
                    body = json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": INIT_RESULT}).encode()
                    extra = b"content-type: application/json\r\nmcp-session-id: s1\r\n"
                    writer.write(b"HTTP/1.1 200 OK\r\n" + extra + b"content-length: %d\r\n\r\n" % len(body) + body)
                elif "id" not in message:
                    writer.write(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n")
                else:
                    break  # got it whole, and goes away
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(connection, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        server.close()
        await server.wait_closed()


async def test_a_tools_call_the_gateway_got_is_not_sent_again_when_the_connection_drops() -> None:
    seen: list[str] = []
    lines: list[dict[str, Any]] = [INITIALIZE, INITIALIZED, call(5)]
    async with dropping_gateway(seen) as url:
        out, _err, _code = await run_bridge(lines, url, "--retry-seconds", "1", wait_after=1.0)
    assert seen.count("tools/call") == 1, seen
    answer = next(message for message in out if message.get("id") == 5)
    assert "may or may not have run, so it is not sent again" in answer["error"]["message"]


async def test_a_ping_the_gateway_dropped_is_sent_again() -> None:
    seen: list[str] = []
    lines: list[dict[str, Any]] = [INITIALIZE, INITIALIZED, {"jsonrpc": "2.0", "id": 6, "method": "ping"}]
    async with dropping_gateway(seen) as url:
        out, _err, _code = await run_bridge(lines, url, "--retry-seconds", "0.5", wait_after=1.5)
    assert seen.count("ping") >= 2, seen
    answer = next(message for message in out if message.get("id") == 6)
    assert "error" in answer
