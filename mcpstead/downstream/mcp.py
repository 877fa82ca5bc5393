"""POST/GET/DELETE /mcp: the legacy-era Streamable HTTP transport (2024-11-05 through 2025-11-25).

Checks run in the order a client can act on: Accept (406), Content-Type (415), size (413), JSON (400/-32700),
JSON-RPC shape (400/-32600), session (400 missing / 404 unknown), protocol version header (400); then dispatch.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse

from mcpstead import jsonrpc
from mcpstead.context import RequestContext
from mcpstead.downstream.modern import ModernEndpoint
from mcpstead.downstream.reply import RequestReply
from mcpstead.downstream.security import client_address
from mcpstead.downstream.streams import sse_event
from mcpstead.gateway import Gateway
from mcpstead.protocol import BATCH_VERSION, IMPLEMENTATION, SUPPORTED_VERSIONS, classify_era, negotiate_version
from mcpstead.router import dispatch, server_capabilities
from mcpstead.sessions import DownstreamSession
from mcpstead.state import short_session_id

log = logging.getLogger("mcpstead.downstream")
SESSION_HEADER = "mcp-session-id"
VERSION_HEADER = "mcp-protocol-version"
SSE_HEADERS = {"cache-control": "no-cache, no-transform", "x-accel-buffering": "no"}


KEEPALIVE_SECONDS = 15.0


async def _stream_events(
    session: DownstreamSession, outbox: asyncio.Queue[dict[str, Any] | None]
) -> AsyncIterator[bytes]:
    """SSE events from the session's outbox until the session (or the gateway) ends it."""
    try:
        yield b": stream open\n\n"
        while True:
            try:
                async with asyncio.timeout(KEEPALIVE_SECONDS):
                    message = await outbox.get()
            except TimeoutError:
                yield b": keepalive\n\n"
                continue
            if message is None:
                return
            yield sse_event(message)
    finally:
        if session.stream is outbox:
            session.stream = None


class BodyTooLarge(Exception):
    pass


def http_error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """An HTTP error whose body is a JSON-RPC error without an id, as the spec allows."""
    return Response(
        jsonrpc.encode(jsonrpc.error_response(None, code, message)),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def _media_types(accept: str) -> set[str]:
    types: set[str] = set()
    for part in accept.lower().split(","):
        media, *parameters = (piece.strip() for piece in part.split(";"))
        if any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in parameters):
            continue
        types.add(media)
    return types


def negotiate_framing(accept: str | None) -> str | None:
    """'json' or 'sse' for this Accept header, or None when the client accepts neither (406).

    As the reference: SSE only when the client lists text/event-stream and not application/json.
    """
    if accept is None or not accept.strip():
        return "json"
    types = _media_types(accept)
    json_ok = bool(types & {"application/json", "application/*", "*/*"})
    sse_listed = "text/event-stream" in types
    if sse_listed and "application/json" not in types:
        return "sse"
    if json_ok or sse_listed:
        return "json"
    return None


@functools.lru_cache(maxsize=64)
def reply_framing(accept: str | None) -> tuple[str | None, bool]:
    """negotiate_framing, and whether the answer may become an SSE stream (the client lists
    text/event-stream). Clients send the same Accept every time, so this is computed once per value."""
    return negotiate_framing(accept), "text/event-stream" in _media_types(accept or "")


def initialize_result(gateway: Gateway, protocol_version: str) -> dict[str, Any]:
    """The union of what the connected upstreams offer, and their instructions under their names."""
    return {
        "protocolVersion": protocol_version,
        "capabilities": server_capabilities(gateway.upstream_capabilities()),
        "serverInfo": IMPLEMENTATION,
        "instructions": gateway.instructions(),
    }


def accepts_event_stream(accept: str | None) -> bool:
    """Whether a GET may be answered with an SSE stream."""
    return bool(_media_types(accept or "") & {"text/event-stream", "text/*", "*/*"})


def rpc_response(payload: Any, framing: str, headers: dict[str, str] | None = None) -> Response:
    if framing == "sse":
        return Response(sse_event(payload), media_type="text/event-stream", headers={**SSE_HEADERS, **(headers or {})})
    return Response(jsonrpc.encode(payload), media_type="application/json", headers=headers)


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class McpEndpoint:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.modern = ModernEndpoint(gateway)

    async def post(self, request: Request) -> Response | RequestReply:
        gateway = self.gateway
        received_at = gateway.clock.monotonic()
        framing, can_stream = reply_framing(request.headers.get("accept"))
        if framing is None:
            return http_error(
                406, jsonrpc.INVALID_REQUEST, "Not Acceptable: accept application/json or text/event-stream"
            )
        content_type = request.headers.get("content-type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            return http_error(
                415, jsonrpc.INVALID_REQUEST, "Unsupported Media Type: Content-Type must be application/json"
            )
        try:
            body = await read_body(request, gateway.config.mcp.max_body_bytes)
        except BodyTooLarge:
            limit = gateway.config.mcp.max_body_bytes
            gateway.metrics.limit_hit("max_body")
            return http_error(413, jsonrpc.INVALID_REQUEST, f"Payload Too Large: the limit is {limit} bytes")
        except ClientDisconnect:
            return Response(status_code=400)
        try:
            message = jsonrpc.parse(body, gateway.config.limits.json_depth)
        except ValueError as exc:
            if isinstance(exc, jsonrpc.TooDeepError):
                gateway.metrics.limit_hit("json_depth")
            gateway.metrics.request("invalid", False)
            return http_error(400, jsonrpc.PARSE_ERROR, f"Parse error: {exc}")

        era = classify_era(request.headers.get(VERSION_HEADER), SESSION_HEADER in request.headers, message)
        gateway.metrics.era_request(era)
        if era == "modern":
            return await self.modern.post(request, message, framing == "sse", can_stream, received_at)
        if isinstance(message, list):
            return await self._batch(request, message, framing)
        problem = jsonrpc.validation_error(message)
        if problem is not None:
            gateway.metrics.request("invalid", False)
            return http_error(400, jsonrpc.INVALID_REQUEST, f"Invalid Request: {problem}")
        if message.get("method") == "initialize":
            return self._initialize(request, message, framing)

        session_or_error = self._session(request)
        if isinstance(session_or_error, Response):
            return session_or_error
        session = session_or_error
        params = message.get("params")
        if params is not None and not isinstance(params, dict):
            if "id" not in message:
                return Response(status_code=202)
            answer = jsonrpc.error_response(message["id"], jsonrpc.INVALID_PARAMS, "params must be an object")
            return rpc_response(answer, framing)
        if "method" not in message:  # the client's answer to a request we relayed to it
            if not session.resolve_client_answer(message):
                log.debug(
                    "session %s answered %r, which nobody waits for",
                    short_session_id(session.session_id),
                    message.get("id"),
                )
            return Response(status_code=202)
        ctx = RequestContext(gateway, session, message["method"], params or {}, message.get("id"), received_at)
        if ctx.message_id is None:
            await dispatch(ctx)
            return Response(status_code=202)
        return RequestReply(ctx, framing == "sse", can_stream)

    def _initialize(self, request: Request, message: dict[str, Any], framing: str) -> Response:
        gateway = self.gateway
        if not gateway.accepting_sessions:
            return Response("gateway shutting down", status_code=503, media_type="text/plain")
        if "id" not in message:
            gateway.metrics.request("initialize", False)
            return http_error(400, jsonrpc.INVALID_REQUEST, "Invalid Request: initialize must be a request with an id")
        existing = request.headers.get(SESSION_HEADER)
        if existing and gateway.sessions.get(existing.strip()) is not None:
            gateway.metrics.request("initialize", False)
            return http_error(400, jsonrpc.INVALID_REQUEST, "Invalid Request: this session is already initialized")
        limits = gateway.config.limits
        address = client_address(
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-for"),
            gateway.config.mcp.trusted_proxies,
        )
        if len(gateway.sessions) >= limits.sessions:
            gateway.metrics.limit_hit("sessions")
            gateway.metrics.request("initialize", False)
            return http_error(
                503,
                jsonrpc.INVALID_REQUEST,
                f"Service Unavailable: {limits.sessions} sessions are open (limits.sessions)",
            )
        if gateway.sessions.from_address(address) >= limits.sessions_per_client:
            gateway.metrics.limit_hit("sessions_per_client")
            gateway.metrics.request("initialize", False)
            return http_error(
                429,
                jsonrpc.INVALID_REQUEST,
                f"Too Many Requests: {limits.sessions_per_client} sessions are open from {address} "
                "(limits.sessions_per_client); end one with DELETE",
            )
        params: dict[str, Any] = message["params"] if isinstance(message.get("params"), dict) else {}
        version = negotiate_version(params.get("protocolVersion"))
        session = gateway.open_session(version, params.get("clientInfo"), params.get("capabilities"))
        session.client_address = address
        gateway.metrics.request("initialize", True)
        answer = jsonrpc.result_response(message["id"], initialize_result(gateway, version))
        return rpc_response(answer, framing, {"mcp-session-id": session.session_id})

    def _session(self, request: Request) -> DownstreamSession | Response:
        session_id = request.headers.get(SESSION_HEADER)
        if session_id is None or not session_id.strip():
            return http_error(
                400,
                jsonrpc.INVALID_REQUEST,
                "Bad Request: missing Mcp-Session-Id header; send initialize first",
            )
        session = self.gateway.sessions.get(session_id.strip())
        if session is None:
            return http_error(404, jsonrpc.SESSION_NOT_FOUND, "Session not found")
        header_version = request.headers.get(VERSION_HEADER)
        if header_version is not None and header_version not in SUPPORTED_VERSIONS:
            return http_error(
                400,
                jsonrpc.INVALID_REQUEST,
                f"Bad Request: unsupported MCP-Protocol-Version '{header_version}' "
                f"(supported: {', '.join(SUPPORTED_VERSIONS)})",
            )
        self.gateway.touch(session)
        return session

    async def _batch(self, request: Request, messages: list[Any], framing: str) -> Response:
        if not messages:
            return http_error(400, jsonrpc.INVALID_REQUEST, "Invalid Request: empty batch")
        if any(isinstance(m, dict) and m.get("method") == "initialize" for m in messages):
            return http_error(400, jsonrpc.INVALID_REQUEST, "Invalid Request: initialize must not be part of a batch")
        session_or_error = self._session(request)
        if isinstance(session_or_error, Response):
            return session_or_error
        session = session_or_error
        if session.protocol_version != BATCH_VERSION:
            return http_error(
                400,
                jsonrpc.INVALID_REQUEST,
                f"Invalid Request: batches are only allowed in protocol version {BATCH_VERSION}; "
                f"this session uses {session.protocol_version}",
            )

        gateway = self.gateway
        received_at = gateway.clock.monotonic()

        async def answer(message: Any) -> dict[str, Any] | None:
            problem = jsonrpc.validation_error(message)
            if problem is None and not isinstance(message.get("params", {}), dict):
                problem = "params must be an object"
            if problem is not None:
                msg_id = message.get("id") if isinstance(message, dict) else None
                return jsonrpc.error_response(msg_id, jsonrpc.INVALID_REQUEST, f"Invalid Request: {problem}")
            if "method" not in message:
                session.resolve_client_answer(message)
                return None
            params = message.get("params") or {}
            return await dispatch(
                RequestContext(gateway, session, message["method"], params, message.get("id"), received_at)
            )

        answers = [a for a in await asyncio.gather(*(answer(m) for m in messages)) if a is not None]
        if not answers:
            return Response(status_code=202)
        return rpc_response(answers, framing)

    async def get(self, request: Request) -> Response:
        """The standalone server-to-client stream: tools/list_changed and keep-alive comments."""
        metrics = self.gateway.metrics
        if not accepts_event_stream(request.headers.get("accept")):
            metrics.request("listen", False)
            return http_error(406, jsonrpc.INVALID_REQUEST, "Not Acceptable: GET needs Accept: text/event-stream")
        session_or_error = self._session(request)
        if isinstance(session_or_error, Response):
            metrics.request("listen", False)
            return session_or_error
        session = session_or_error
        limit = self.gateway.config.limits.get_streams
        if session.stream is None and self.gateway.sessions.open_streams() >= limit:
            metrics.request("listen", False)
            metrics.limit_hit("get_streams")
            return http_error(
                503, jsonrpc.INVALID_REQUEST, f"Service Unavailable: {limit} GET streams are open (limits.get_streams)"
            )
        outbox = session.open_stream()
        if outbox is None:
            metrics.request("listen", False)
            return http_error(409, jsonrpc.INVALID_REQUEST, "Conflict: this session already has a GET stream open")
        metrics.request("listen", True)
        return StreamingResponse(_stream_events(session, outbox), media_type="text/event-stream", headers=SSE_HEADERS)

    async def delete(self, request: Request) -> Response:
        session_or_error = self._session(request)
        if isinstance(session_or_error, Response):
            return session_or_error
        self.gateway.close_session(session_or_error.session_id, "client_delete")
        return Response(status_code=204)
