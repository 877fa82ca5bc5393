"""Pieces both HTTP upstream transports share: reading SSE, recognising a lost session, naming causes."""

from __future__ import annotations

import errno
from collections.abc import AsyncIterator
from typing import Any

from mcpstead import __version__, jsonrpc
from mcpstead.config import DEFAULT_ACCEPT, ServerConfig
from mcpstead.errors import UpstreamError, UpstreamRpcError
from mcpstead.jsonrpc import SESSION_NOT_FOUND, parse
from mcpstead.protocol import MODERN_VERSIONS
from mcpstead.upstream.base import DEFAULT_MESSAGE_BYTES

ERROR_BODY_CHARS = 512
IGNORED_SSE_EVENTS = frozenset({"ping", "keepalive", "heartbeat"})


def default_headers(config: ServerConfig, accept: str | None = None) -> dict[str, str]:
    """Request headers for an upstream, lower-cased: defaults first, and configured headers replace a
    default of the same name instead of adding a second one."""
    headers = {
        "content-type": "application/json",
        "accept": accept or config.quirks.inject_accept_header or DEFAULT_ACCEPT,
        "user-agent": f"mcpstead/{__version__}",
    }
    token = config.auth.token
    if token is not None:
        headers["authorization"] = f"Bearer {token.reveal()}"
    for name, value in config.headers.items():
        headers[name.lower()] = value
    return headers


class SseDecoder:
    """An incremental SSE parser: `feed` a chunk, get the (event type, data) of each event it completed.

    The WHATWG rules we need: `:` comments ignored, one optional space after the colon, data lines joined
    with newlines, and lines ended by CRLF, LF or a lone CR (a CRLF split between chunks is one line end).
    Synchronous, so a transport can decode in its data callback without a generator per stream; linear in
    the stream's size (each byte is looked at once, an unfinished line kept in one growing buffer); and
    bounded: an event whose lines add up to more than `max_event_bytes`, in one endless line or in many, is
    refused with ValueError before it can fill memory.
    """

    __slots__ = ("_after_cr", "_data", "_kind", "_max", "_pending", "_size")

    def __init__(self, max_event_bytes: int = DEFAULT_MESSAGE_BYTES) -> None:
        self._max = max_event_bytes
        self._pending = bytearray()
        self._kind = ""
        self._data: list[str] = []
        self._size = 0
        self._after_cr = False

    def feed(self, chunk: bytes) -> list[tuple[str, str]]:
        events: list[tuple[str, str]] = []
        if not chunk:
            return events
        if self._after_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]
        self._after_cr = chunk.endswith(b"\r")
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        start = 0
        end = chunk.find(b"\n")
        while end != -1:
            if self._pending:
                self._pending += chunk[start:end]
                raw, self._pending = bytes(self._pending), bytearray()
            else:
                raw = chunk[start:end]
            start = end + 1
            end = chunk.find(b"\n", start)
            if not raw:
                if self._data:
                    events.append((self._kind or "message", "\n".join(self._data)))
                self._kind, self._data, self._size = "", [], 0
                continue
            if raw.startswith(b":"):
                continue
            field, _, value = raw.partition(b":")
            if value.startswith(b" "):
                value = value[1:]
            if field == b"data":
                self._data.append(value.decode(errors="replace"))
                self._size += len(raw)
                if self._size > self._max:
                    raise ValueError(f"an SSE event is larger than {self._max} bytes")
            elif field == b"event":
                self._kind = value.decode(errors="replace")
        self._pending += chunk[start:]
        if self._size + len(self._pending) > self._max:
            raise ValueError(f"an SSE event is larger than {self._max} bytes")
        return events


async def sse_events(
    chunks: AsyncIterator[bytes], max_event_bytes: int = DEFAULT_MESSAGE_BYTES
) -> AsyncIterator[tuple[str, str]]:
    """(event type, data) for each complete event in an SSE byte stream (`SseDecoder`'s rules and bounds)."""
    decoder = SseDecoder(max_event_bytes)
    async for chunk in chunks:
        for event in decoder.feed(chunk):
            yield event


def sse_message(upstream: str, kind: str, data: str, normalize: bool) -> dict[str, Any] | None:
    """The JSON-RPC message an SSE event carries, or None for events to skip.

    JSON-RPC rides on `message` events (the default type). Keep-alive events are skipped, an `error` event
    is an error, and other event names are skipped unless `normalize_sse_events` says to ignore names (for
    servers that put messages in events of their own naming).
    """
    data = data.strip()
    if not data or data == "[DONE]" or kind in IGNORED_SSE_EVENTS:
        return None
    if kind == "error" and not normalize:
        raise UpstreamError(upstream, f"upstream '{upstream}' SSE error event: {data[:ERROR_BODY_CHARS]}")
    if kind != "message" and not normalize:
        return None
    try:
        message = parse(data)
    except ValueError:
        if kind != "message":
            return None
        raise UpstreamError(upstream, f"upstream '{upstream}' SSE message data is not valid JSON") from None
    return message if isinstance(message, dict) else None


def session_reset_reason(exc: UpstreamError) -> str | None:
    """Whether an upstream error means "your session is gone", and why (the reference's three reasons)."""
    text = str(exc).lower()
    if isinstance(exc, UpstreamRpcError):
        if exc.error.get("code") != SESSION_NOT_FOUND:
            return None
    elif exc.status not in (401, 403, 404, 410):
        return None
    if "session expired" in text:
        return "expired"
    if "session terminated" in text:
        return "terminated"
    if exc.status == 404 or isinstance(exc, UpstreamRpcError):
        return "unknown_session"
    if "unknown mcp session" in text or "session not found" in text:
        return "unknown_session"
    return None


def is_refused(cause: BaseException | None) -> bool:
    return isinstance(cause, ConnectionRefusedError) or getattr(cause, "errno", None) == errno.ECONNREFUSED


def first_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]


MODERN_ERRORS = frozenset({jsonrpc.HEADER_MISMATCH, jsonrpc.MISSING_CLIENT_CAPABILITY, jsonrpc.UNSUPPORTED_VERSION})
"""The error codes only the 2026-07-28 era has."""


def speaks_modern(exc: UpstreamError, *, refusing: str = "initialize") -> bool:
    """Whether the error answering `refusing` came from a 2026-07-28 server: a JSON-RPC error (a stdio
    answer, or an HTTP error's body) with a code of that era, or one naming 2026-07-28 among the versions
    it supports. A refused `initialize` may also be -32601, since the method does not exist in that era;
    -32601 counts only for `initialize` (a 2025-era server answers an unknown `server/discover` with it)."""
    error = exc.error if isinstance(exc, UpstreamRpcError) else exc.body_error
    if error is None:
        return False
    data = error.get("data")
    supported = data.get("supported") if isinstance(data, dict) else None
    if isinstance(supported, list) and any(version in supported for version in MODERN_VERSIONS):
        return True
    code = error.get("code")
    return code in MODERN_ERRORS or (refusing == "initialize" and code == jsonrpc.METHOD_NOT_FOUND)
