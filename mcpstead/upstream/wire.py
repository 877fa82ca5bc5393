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


async def sse_events(
    chunks: AsyncIterator[bytes], max_event_bytes: int = DEFAULT_MESSAGE_BYTES
) -> AsyncIterator[tuple[str, str]]:
    """(event type, data) for each complete event in an SSE byte stream, per the WHATWG rules we need:
    `:` comments ignored, one optional space after the colon, data lines joined with newlines, and lines
    ended by CRLF, LF or a lone CR (a CRLF split between chunks is one line end).

    Linear in the stream's size (each byte is looked at once, an unfinished line kept in one growing
    buffer), and bounded: an event whose lines add up to more than `max_event_bytes`, in one endless line or
    in many, is refused with ValueError before it can fill memory.
    """
    pending = bytearray()
    kind = ""
    data: list[str] = []
    size = 0
    after_cr = False
    async for chunk in chunks:
        if not chunk:
            continue
        if after_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]
        after_cr = chunk.endswith(b"\r")
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        start = 0
        end = chunk.find(b"\n")
        while end != -1:
            if pending:
                pending += chunk[start:end]
                raw, pending = bytes(pending), bytearray()
            else:
                raw = chunk[start:end]
            start = end + 1
            end = chunk.find(b"\n", start)
            line = raw.decode(errors="replace")
            if not line:
                if data:
                    yield kind or "message", "\n".join(data)
                kind, data, size = "", [], 0
                continue
            if line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                kind = value
            elif field == "data":
                data.append(value)
                size += len(raw)
                if size > max_event_bytes:
                    raise ValueError(f"an SSE event is larger than {max_event_bytes} bytes")
        pending += chunk[start:]
        if size + len(pending) > max_event_bytes:
            raise ValueError(f"an SSE event is larger than {max_event_bytes} bytes")


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
