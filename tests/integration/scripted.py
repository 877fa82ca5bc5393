"""Upstreams that write exactly the bytes a test scripts, for fuzzing what the gateway reads from upstreams.

A `tools/call` of the tool `plan` carries its own script in its arguments: `data`, base64 bytes with these
markers replaced by the request's id as the gateway sent it: `@ID@` (the id as JSON), `@SID@` (the id as a
JSON string, a wrong type) and `@WRONG@` (another id); then written in pieces, each its own write, so framing
can be split anywhere: cut at the offsets in `cuts`, or one byte at a time when `cuts` is "every". The HTTP upstream also takes `status` and `content_type`.
Everything else (initialize, tools/list, ping, the tool `echo`) is answered well, so the gateway can connect
and a good call can follow each bad one.

Run as a script, this module is the stdio upstream; `ScriptedHttpUpstream` is the HTTP one (raw asyncio
sockets, so the bytes on the wire are exactly the script's).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import socket
import sys
import time
from typing import Any

TOOLS = [
    {"name": "plan", "description": "writes the bytes it is given", "inputSchema": {"type": "object"}},
    {"name": "echo", "description": "answers well", "inputSchema": {"type": "object"}},
]
INITIALIZED = {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "scripted"}}


def echo_result(arguments: Any) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": json.dumps(arguments, sort_keys=True)}]}


def substitute(raw: bytes, request_id: Any) -> bytes:
    wrong = request_id + 1000 if isinstance(request_id, int) else f"{request_id}-wrong"
    return (
        raw.replace(b"@ID@", json.dumps(request_id).encode())
        .replace(b"@SID@", json.dumps(str(request_id)).encode())
        .replace(b"@WRONG@", json.dumps(wrong).encode())
    )


def scripted_writes(message: dict[str, Any]) -> list[bytes]:
    arguments = message["params"].get("arguments") or {}
    data = substitute(base64.b64decode(arguments.get("data", "")), message["id"])
    cuts = arguments.get("cuts", [])
    if cuts == "every":
        return [data[i : i + 1] for i in range(len(data))]
    points = sorted({min(c, len(data)) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True) if data[a:b]]


def good_answer(message: dict[str, Any]) -> dict[str, Any] | None:
    """The well-behaved answer to anything but `plan`; None for what needs no answer."""
    method = message.get("method")
    if "id" not in message or method is None:
        return None
    result: Any
    if method == "initialize":
        result = INITIALIZED
    elif method == "tools/list":
        result = {"tools": TOOLS}
    elif method == "tools/call":
        result = echo_result(message["params"].get("arguments"))
    elif method == "ping":
        result = {}
    else:
        return {"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32601, "message": "Method not found"}}
    return {"jsonrpc": "2.0", "id": message["id"], "result": result}


def is_plan(message: dict[str, Any]) -> bool:
    return message.get("method") == "tools/call" and message["params"].get("name") == "plan"


def run_stdio() -> None:
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        message = json.loads(line)
        if is_plan(message):
            for chunk in scripted_writes(message):
                out.write(chunk)
                out.flush()
                time.sleep(0.001)
            continue
        answer = good_answer(message)
        if answer is not None:
            out.write(json.dumps(answer).encode() + b"\n")
            out.flush()


class ScriptedHttpUpstream:
    """Streamable HTTP, by hand: one POST /mcp per request, keep-alive, chunked answers written as scripted."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                headers = dict(line.lower().split(": ", 1) for line in header_lines if ": " in line)
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if not request_line.startswith("POST "):
                    await self._write(writer, 405, "text/plain", [b"no GET stream here"])
                    continue
                await self._answer(writer, json.loads(body))
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def _answer(self, writer: asyncio.StreamWriter, message: dict[str, Any]) -> None:
        if is_plan(message):
            arguments = message["params"]["arguments"]
            await self._write(writer, arguments["status"], arguments["content_type"], scripted_writes(message))
            return
        answer = good_answer(message)
        if answer is None:
            await self._write(writer, 202, "", [])
        else:
            await self._write(writer, 200, "application/json", [json.dumps(answer).encode()])

    async def _write(self, writer: asyncio.StreamWriter, status: int, content_type: str, chunks: list[bytes]) -> None:
        head = f"HTTP/1.1 {status} Scripted\r\nTransfer-Encoding: chunked\r\n"
        if content_type:
            head += f"Content-Type: {content_type}\r\n"
        writer.write(head.encode() + b"\r\n")
        for chunk in chunks:
            if chunk:
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                await writer.drain()
                await asyncio.sleep(0)
        writer.write(b"0\r\n\r\n")
        await writer.drain()


if __name__ == "__main__":
    run_stdio()
