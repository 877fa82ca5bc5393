"""A minimal MCP Streamable HTTP client: raw JSON-RPC over aiohttp, cheap enough not to be the bottleneck."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Mapping
from typing import Any

import aiohttp

from mcpstead.protocol import NAME_PARAMS

CLIENT_VERSION = "2025-06-18"
"""Asked for in `initialize`; every target here speaks it. The answer's version rides on later requests."""
ACCEPT = "application/json, text/event-stream"


class CallError(Exception):
    """A call that did not produce the expected answer; `kind` is the bucket it is counted in."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


def parse_answer(content_type: str, body: bytes, request_id: int) -> dict[str, Any]:
    """The JSON-RPC response with `request_id` from a JSON body or an SSE stream (`data:` lines)."""
    if content_type.startswith("text/event-stream"):
        for line in body.splitlines():
            if line.startswith(b"data:"):
                message = json.loads(line[5:])
                if isinstance(message, dict) and message.get("id") == request_id:
                    return message
        raise CallError("bad_answer", f"no response with id {request_id} in the SSE stream: {body[:200]!r}")
    message = json.loads(body)
    if not isinstance(message, dict) or message.get("id") != request_id:
        raise CallError("bad_answer", f"unexpected JSON answer: {body[:200]!r}")
    return message


def connector() -> aiohttp.TCPConnector:
    """One keep-alive connection per simulated session, no connection limit, no DNS cache games."""
    return aiohttp.TCPConnector(limit=0, force_close=False, enable_cleanup_closed=False)


MODERN_VERSION = "2026-07-28"
MODERN_ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "mcpstead-bench", "version": "1"},
}


class McpSession:
    """One MCP session (one `Mcp-Session-Id`) on its own aiohttp ClientSession; with `modern`, a 2026-07-28
    client instead, which has no session and sends its envelope and routing headers with every request."""

    def __init__(self, url: str, timeout: float, modern: bool = False) -> None:
        self.url = url
        self.modern = modern
        self.http = aiohttp.ClientSession(
            connector=connector(), timeout=aiohttp.ClientTimeout(total=timeout), auto_decompress=False
        )
        self.headers = {"Accept": ACCEPT, "Content-Type": "application/json"}
        self._ids = itertools.count(1)

    async def close(self) -> None:
        """End the session as a well-behaved client does (DELETE, bounded, its failure ignored: the session
        times out anyway), so that runs which open many do not pile them up against the gateway's limits."""
        try:
            if "Mcp-Session-Id" in self.headers and not self.http.closed:
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with asyncio.timeout(2):
                        await (await self.http.delete(self.url, headers=self.headers)).release()
        finally:
            await self.http.close()

    async def _post(self, payload: dict[str, Any]) -> tuple[int, Mapping[str, str], bytes]:
        headers = self.headers
        if self.modern and "method" in payload:
            headers = {**headers, "Mcp-Method": payload["method"]}
            name = NAME_PARAMS.get(payload["method"])
            if name is not None:
                headers["Mcp-Name"] = str(payload["params"][name])
            payload = {**payload, "params": {**payload.get("params", {}), "_meta": MODERN_ENVELOPE}}
        async with self.http.post(self.url, data=json.dumps(payload).encode(), headers=headers) as response:
            return response.status, response.headers, await response.read()

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send a request; return its `result`, or raise CallError (HTTP status, JSON-RPC error, bad body)."""
        request_id = next(self._ids)
        status, headers, body = await self._post(
            {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        )
        if status != 200:
            raise CallError(f"http_{status}", body[:200].decode(errors="replace"))
        try:
            message = parse_answer(headers.get("Content-Type", ""), body, request_id)
        except ValueError as exc:
            raise CallError("bad_answer", f"{exc}: {body[:200]!r}") from None
        if "error" in message:
            raise CallError("rpc_error", json.dumps(message["error"])[:200])
        result = message.get("result")
        if not isinstance(result, dict):
            raise CallError("bad_answer", f"no result object: {body[:200]!r}")
        return result

    async def initialize(self) -> None:
        """initialize (keeping Mcp-Session-Id and the negotiated version), then notifications/initialized;
        a modern client has no handshake, only its version header."""
        if self.modern:
            self.headers["MCP-Protocol-Version"] = MODERN_VERSION
            return
        request_id = next(self._ids)
        params = {
            "protocolVersion": CLIENT_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "mcpstead-bench", "version": "1"},
        }
        status, headers, body = await self._post(
            {"jsonrpc": "2.0", "id": request_id, "method": "initialize", "params": params}
        )
        if status != 200:
            raise CallError(f"http_{status}", f"initialize: {body[:200]!r}")
        result = parse_answer(headers.get("Content-Type", ""), body, request_id).get("result") or {}
        session_id = headers.get("Mcp-Session-Id")
        if session_id:
            self.headers["Mcp-Session-Id"] = session_id
        self.headers["MCP-Protocol-Version"] = str(result.get("protocolVersion", CLIENT_VERSION))
        status, _, body = await self._post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        if status not in (200, 202):
            raise CallError(f"http_{status}", f"notifications/initialized: {body[:200]!r}")

    async def tool_names(self) -> list[str]:
        result = await self.request("tools/list", {})
        return [str(tool.get("name")) for tool in result.get("tools", [])]

    async def echo(self, tool: str, message: str, expected: str) -> None:
        """Call the echo tool; raise CallError unless the answer's text is exactly `expected`."""
        result = await self.request("tools/call", {"name": tool, "arguments": {"message": message}})
        content = result.get("content")
        first = content[0] if isinstance(content, list) and content else None
        text = first.get("text") if isinstance(first, dict) else None
        if result.get("isError") or text != expected:
            raise CallError("wrong_answer", f"expected {expected!r}, got {json.dumps(result)[:200]}")
