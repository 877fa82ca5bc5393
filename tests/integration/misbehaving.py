"""An upstream that speaks just enough MCP to be listed, then answers tool calls badly on purpose."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

BAD_TOOLS = ["garbage", "html", "http500", "cut_sse", "wrong_id", "slow", "huge_json", "endless_sse"]
HUGE_BYTES = 3 * 1024 * 1024


def _tool(name: str) -> dict[str, Any]:
    return {"name": name, "description": f"answers {name}", "inputSchema": {"type": "object"}}


async def _handle(request: Request) -> Response:
    slow_started: asyncio.Event = request.app.state.slow_started
    message = json.loads(await request.body())
    method = message.get("method")
    if "id" not in message:
        return Response(status_code=202)
    if method == "initialize":
        result = {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "bad"}}
        return _json(message["id"], result)
    if method == "tools/list":
        return _json(message["id"], {"tools": [_tool(name) for name in BAD_TOOLS]})
    if method == "ping":
        return _json(message["id"], {})
    tool = message["params"]["name"]
    if tool == "garbage":
        return Response(b"{this is not json", media_type="application/json")
    if tool == "html":
        return Response(b"<html><body>Bad Gateway</body></html>", media_type="text/html")
    if tool == "http500":
        return Response(b"internal kaboom", status_code=500, media_type="text/plain")
    if tool == "wrong_id":
        return _json(message["id"] + 1000, {"content": []})
    if tool == "huge_json":  # a 3 MB answer, streamed without a content-length

        async def huge() -> AsyncIterator[bytes]:
            yield b'{"jsonrpc":"2.0","id":%d,"result":{"content":[{"type":"text","text":"' % message["id"]
            for _ in range(HUGE_BYTES // 65536):
                yield b"x" * 65536
            yield b'"}]}}'

        return StreamingResponse(huge(), media_type="application/json")
    if tool == "endless_sse":  # one SSE data line that never ends

        async def endless() -> AsyncIterator[bytes]:
            yield b"event: message\ndata: "
            while True:
                yield b"y" * 65536
                await asyncio.sleep(0)

        return StreamingResponse(endless(), media_type="text/event-stream")
    if tool == "slow":
        slow_started.set()
        await asyncio.sleep(30)
        return _json(message["id"], {"content": []})

    async def cut() -> AsyncIterator[bytes]:
        note = {"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "x"}}
        yield f"event: message\ndata: {json.dumps(note)}\n\n".encode()

    return StreamingResponse(cut(), media_type="text/event-stream")


def _json(msg_id: Any, result: Any) -> Response:
    return Response(json.dumps({"jsonrpc": "2.0", "id": msg_id, "result": result}), media_type="application/json")


def build_misbehaving_app() -> Starlette:
    """`app.state.slow_started` is set when a call to the `slow` tool arrives."""
    app = Starlette(routes=[Route("/mcp", _handle, methods=["POST", "DELETE"])])
    app.state.slow_started = asyncio.Event()
    return app
