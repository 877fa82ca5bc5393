"""How answers leave the gateway: the late JSON-or-SSE decision for a POST, and SSE framing.

A POST that carries a request is answered by `PostReply`. The answer is JSON (the hot path: one write) unless
the upstream sends something before it (progress, a log message, a server-to-client request); the first such
message switches the response to an SSE stream, which then carries it, everything after it, and the answer.
Nothing is sent before the first byte, so the choice can be made that late. A client that accepts only JSON
still gets its answer; what cannot reach it is counted and logged at debug.

Disconnects: a client that goes away mid-call cancels the call (the upstream is told). The runner's HTTP
protocol (downstream/serving.py) calls the hook this module puts in the ASGI scope when the connection is
lost, so no task per request watches for it; under another ASGI server a watcher task does the same.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from mcpstead import jsonrpc

DISCONNECT_HOOK = "mcpstead.on_disconnect"
"""Scope key: present (None) when the server calls the hook on a lost connection; the handler sets it."""
SSE_HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache, no-transform"),
    (b"x-accel-buffering", b"no"),
]
JSON_HEADERS = [(b"content-type", b"application/json")]


def sse_event(message: Any) -> bytes:
    return b"event: message\ndata: " + jsonrpc.encode(message) + b"\n\n"


class PostReply:
    """The reply channel of one POSTed request: JSON if nothing comes before the answer, SSE otherwise."""

    def __init__(self, send: Send, *, can_stream: bool, sse_only: bool, requests_allowed: bool = True) -> None:
        self._send = send
        self._requests_allowed = requests_allowed
        """False on the modern wire, where a server sends its client no request (MRTR replaces them)."""
        self.can_stream = can_stream
        """The client listed text/event-stream in Accept."""
        self._sse_only = sse_only
        """The client accepts SSE but not JSON: even a lone answer goes as an SSE event."""
        self._queue: asyncio.Queue[dict[str, Any] | None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._answered = False
        self.dropped = 0

    @property
    def refusal(self) -> str:
        if self._answered:
            return "the call it came with has already been answered"
        if not self._requests_allowed:
            return "the client speaks 2026-07-28, where a server sends its client no requests"
        return "the client accepts only JSON answers"

    def push(self, message: dict[str, Any]) -> bool:
        """A message after the answer (a relayed request handled late) has no response left to ride on."""
        if not self.can_stream or self._answered or (not self._requests_allowed and "id" in message):
            self.dropped += 1
            return False
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._writer = asyncio.create_task(self._write(self._queue), name="mcp-post-stream")
        self._queue.put_nowait(message)
        return True

    async def _write(self, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        await self._send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
        while (message := await queue.get()) is not None:
            await self._send({"type": "http.response.body", "body": sse_event(message), "more_body": True})
        await self._send({"type": "http.response.body", "body": b"", "more_body": False})

    async def finish(self, answer: dict[str, Any] | None, status: int = 200) -> None:
        """Send the answer (None: the client has gone, just end what was started). `status` applies when the
        answer goes alone, as JSON; on a stream already started it is an event like any other."""
        self._answered = True
        if self._queue is not None and self._writer is not None:
            if answer is not None:
                self._queue.put_nowait(answer)
            self._queue.put_nowait(None)
            with contextlib.suppress(OSError, RuntimeError):
                await self._writer
            return
        if answer is None:
            return
        if self._sse_only:
            headers, body = SSE_HEADERS, sse_event(answer)
        else:
            headers, body = JSON_HEADERS, jsonrpc.encode(answer)
        headers = [*headers, (b"content-length", str(len(body)).encode())]
        await self._send({"type": "http.response.start", "status": status, "headers": headers})
        await self._send({"type": "http.response.body", "body": body, "more_body": False})

    async def abandon(self) -> None:
        """The client went away: stop the writer without waiting on a dead connection."""
        self._answered = True
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError, RuntimeError):
                await self._writer


async def run_cancellable(
    scope: Scope, receive: Receive, work: Callable[[], Awaitable[dict[str, Any] | None]]
) -> tuple[dict[str, Any] | None, bool]:
    """Run `work` in this task; cancel it if the client disconnects first. Returns (answer, disconnected)."""
    task = asyncio.current_task()
    assert task is not None
    disconnected = False

    def on_disconnect() -> None:
        nonlocal disconnected
        if not disconnected:
            disconnected = True
            task.cancel()

    watcher: asyncio.Task[None] | None = None
    if DISCONNECT_HOOK in scope:
        scope[DISCONNECT_HOOK] = on_disconnect
    else:
        watcher = asyncio.create_task(_watch_disconnect(receive, on_disconnect), name="mcp-disconnect-watch")
    try:
        return await work(), False
    except asyncio.CancelledError:
        if not disconnected:
            raise
        task.uncancel()
        return None, True
    finally:
        if watcher is not None:
            watcher.cancel()
        else:
            scope[DISCONNECT_HOOK] = None


async def _watch_disconnect(receive: Receive, on_disconnect: Callable[[], None]) -> None:
    message: Message = {}
    while message.get("type") != "http.disconnect":
        message = await receive()
    on_disconnect()
