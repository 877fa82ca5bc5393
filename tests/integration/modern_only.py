"""A 2026-07-28-only upstream, by hand: it refuses `initialize` as the spec says such a server does (404 with
-32601: the method does not exist in its era) and answers `server/discover`, `tools/list` and an `echo`
tool, each request checked for the era's envelope and headers. For the gateway's era detection."""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ENVELOPE_VERSION = "io.modelcontextprotocol/protocolVersion"


def _answer(msg_id: Any, result: dict[str, Any], status: int = 200) -> Response:
    body = {"jsonrpc": "2.0", "id": msg_id, "result": {**result, "resultType": "complete"}}
    return Response(json.dumps(body), status_code=status, media_type="application/json")


def _error(msg_id: Any, code: int, message: str, status: int) -> Response:
    body = {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}
    return Response(json.dumps(body), status_code=status, media_type="application/json")


async def _handle(request: Request) -> Response:
    if request.method != "POST":
        return Response(status_code=405, headers={"allow": "POST"})
    message = json.loads(await request.body())
    msg_id, method = message.get("id"), message.get("method")
    request.app.state.methods.append(method)
    if method == "initialize":
        return _error(msg_id, -32601, "Method not found: initialize does not exist in 2026-07-28", 404)
    meta = (message.get("params") or {}).get("_meta") or {}
    if request.headers.get("mcp-protocol-version") != "2026-07-28" or meta.get(ENVELOPE_VERSION) != "2026-07-28":
        return _error(msg_id, -32020, "Header mismatch", 400)
    if request.headers.get("mcp-method") != method:
        return _error(msg_id, -32020, "Mcp-Method header mismatch", 400)
    if method == "server/discover":
        info = {"io.modelcontextprotocol/serverInfo": {"name": "modern-only", "version": "1"}}
        return _answer(msg_id, {"supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}}, "_meta": info})
    if method == "tools/list":
        tool = {"name": "echo", "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}}}}
        return _answer(msg_id, {"tools": [tool], "ttlMs": 0, "cacheScope": "public"})
    if method == "tools/call" and message["params"].get("name") == "echo":
        if request.headers.get("mcp-name") != "echo":
            return _error(msg_id, -32020, "Mcp-Name header mismatch", 400)
        text = f"modern echo: {message['params'].get('arguments', {}).get('message')}"
        return _answer(msg_id, {"content": [{"type": "text", "text": text}]})
    return _error(msg_id, -32601, f"Method not found: {method}", 404)


def build_modern_only_app() -> Starlette:
    """`app.state.methods` records every method asked, in order."""
    app = Starlette(routes=[Route("/mcp", _handle, methods=["POST", "GET", "DELETE"])])
    app.state.methods = []
    return app
