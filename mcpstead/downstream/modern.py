"""POST /mcp for 2026-07-28 clients: no session, every request carries its client in its envelope.

A modern request is checked (`envelope.py`), then served by the same method table as the legacy era, as a
`DownstreamSession` that lives for that one request (era "modern": never stored, so it holds no state
between requests, and the upstream's shared session carries it). Its answer is shaped for the modern wire:
`resultType` on every result, `ttlMs` and `cacheScope` where the spec asks, the gateway's `serverInfo` in
`_meta`, and an error answered as JSON gets the HTTP status the spec gives its code (400, or 404 for a
method that does not exist in this revision). Closing the response stream cancels the call.
"""

from __future__ import annotations

import functools
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mcpstead import jsonrpc
from mcpstead.context import RequestContext
from mcpstead.downstream.envelope import (
    VERSION_HEADER,
    Envelope,
    Rejection,
    duplicated_routing_header,
    param_header_problem,
    read_envelope,
    unsupported,
)
from mcpstead.downstream.listen import open_listen
from mcpstead.downstream.reply import RequestReply
from mcpstead.gateway import Gateway
from mcpstead.protocol import IMPLEMENTATION, MODERN_METHODS, MODERN_VERSIONS, SERVER_INFO_KEY
from mcpstead.router import server_capabilities
from mcpstead.sessions import DownstreamSession

CACHED_METHODS = frozenset(
    {"server/discover", "tools/list", "prompts/list", "resources/list", "resources/templates/list", "resources/read"}
)
"""Results that must say how long they may be cached (ttlMs, cacheScope)."""
HTTP_STATUS = {
    jsonrpc.PARSE_ERROR: 400,
    jsonrpc.INVALID_REQUEST: 400,
    jsonrpc.INVALID_PARAMS: 400,
    jsonrpc.HEADER_MISMATCH: 400,
    jsonrpc.MISSING_CLIENT_CAPABILITY: 400,
    jsonrpc.UNSUPPORTED_VERSION: 400,
    jsonrpc.METHOD_NOT_FOUND: 404,
}
"""The HTTP status of a JSON answer carrying each error code (others are 200), as the 2026-07-28 wire has it."""


def modern_error(msg_id: jsonrpc.JsonId, code: int, message: str, data: Any = None) -> Response:
    return Response(
        jsonrpc.encode(jsonrpc.error_response(msg_id, code, message, data)),
        status_code=HTTP_STATUS.get(code, 200),
        media_type="application/json",
    )


def rejected(rejection: Rejection, msg_id: jsonrpc.JsonId) -> Response:
    return modern_error(msg_id, rejection.code, rejection.message, rejection.data)


def request_session(gateway: Gateway, envelope: Envelope, method: str) -> DownstreamSession:
    """The client of one modern request, as the handlers see a client: never stored, gone with the request.
    Its id is the one the dashboard knows the client by (from its clientInfo), so its calls are listed
    under it."""
    info = envelope.client_info
    now_wall, now = gateway.clock.wall(), gateway.clock.monotonic()
    name, version = str(info.get("name", "")), str(info.get("version", ""))
    client, new = gateway.modern_clients.seen(name, version, envelope.protocol_version, now_wall, now)
    client.calls += method == "tools/call"
    if new:
        gateway.bump()
    return DownstreamSession(
        session_id=client.client_id,
        protocol_version=envelope.protocol_version,
        client_name=name,
        client_version=version,
        created_at=now_wall,
        started=now,
        last_activity=now,
        capabilities=envelope.client_capabilities,
        log_level=envelope.log_level,
        era="modern",
    )


def shape_answer(gateway: Gateway, method: str, answer: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The answer as the modern wire wants it, and the HTTP status it goes with when sent as JSON."""
    error = answer.get("error")
    if isinstance(error, dict):
        code = error.get("code")
        return answer, HTTP_STATUS.get(code, 200) if isinstance(code, int) else 200
    result = answer.get("result")
    shaped: dict[str, Any] = dict(result) if isinstance(result, dict) else {}
    shaped.setdefault("resultType", "complete")
    meta = shaped.get("_meta")
    shaped["_meta"] = {**(meta if isinstance(meta, dict) else {}), SERVER_INFO_KEY: IMPLEMENTATION}
    if method in CACHED_METHODS:
        ttl_ms, scope = gateway.cache_hint()
        shaped.setdefault("ttlMs", ttl_ms)
        shaped.setdefault("cacheScope", scope)
    return {**answer, "result": shaped}, 200


def discover_result(gateway: Gateway) -> dict[str, Any]:
    """server/discover, what a modern client asks first in place of the handshake: the versions served on
    this wire, the capabilities the connected upstreams make up (tasks are a 2025-11-25 feature, an
    extension in 2026-07-28) and the instructions `initialize` gives."""
    capabilities = server_capabilities(gateway.upstream_capabilities())
    capabilities.pop("tasks", None)
    return {
        "supportedVersions": list(MODERN_VERSIONS),
        "capabilities": capabilities,
        "instructions": gateway.instructions(),
    }


class ModernEndpoint:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def refusal(self, request: Request, message: Any) -> Response | None:
        """Why a POST routed to the modern era cannot be served, as its answer; None when it can."""
        if not isinstance(message, dict) or "method" not in message:
            return modern_error(
                None, jsonrpc.INVALID_REQUEST, "Invalid Request: a 2026-07-28 body is one request or notification"
            )
        problem = jsonrpc.validation_error(message)
        if problem is not None:
            return modern_error(None, jsonrpc.INVALID_REQUEST, f"Invalid Request: {problem}")
        if "id" not in message:  # the core defines no client notification on this wire: acknowledged, dropped
            version = (request.headers.get(VERSION_HEADER) or "").strip()
            return rejected(unsupported(version), None) if version not in MODERN_VERSIONS else Response(status_code=202)
        msg_id = message["id"]
        duplicated = duplicated_routing_header(request.headers.raw)
        if duplicated is not None:
            return modern_error(msg_id, jsonrpc.HEADER_MISMATCH, f"{duplicated} header appears more than once")
        return None

    async def post(
        self, request: Request, message: Any, sse_only: bool, can_stream: bool, received_at: float
    ) -> Response | RequestReply:
        """Serve one modern POST (it was routed here by its version header or envelope)."""
        refusal = self.refusal(request, message)
        if refusal is not None:
            return refusal
        ctx = self.context(request, message, received_at)
        if isinstance(ctx, Response):
            return ctx
        shape = functools.partial(shape_answer, self.gateway, ctx.method)
        if ctx.method == "server/discover":
            self.gateway.metrics.request("server/discover", True)
            answer, status = shape(jsonrpc.result_response(ctx.message_id, discover_result(self.gateway)))
            return Response(jsonrpc.encode(answer), status_code=status, media_type="application/json")
        if ctx.method == "subscriptions/listen":
            return await self._listen(ctx, can_stream)
        return RequestReply(ctx, sse_only, can_stream, shape)

    async def _listen(self, ctx: RequestContext, can_stream: bool) -> Response:
        if not can_stream:
            refusal = jsonrpc.error_response(
                ctx.message_id,
                jsonrpc.INVALID_REQUEST,
                "Not Acceptable: subscriptions/listen answers with an SSE stream",
            )
            return Response(jsonrpc.encode(refusal), status_code=406, media_type="application/json")
        assert ctx.session is not None
        stream = await open_listen(self.gateway, ctx.session, ctx.message_id, ctx.params)
        if stream is None:
            return modern_error(
                ctx.message_id,
                jsonrpc.INVALID_PARAMS,
                "params.notifications is required (an object of what to receive)",
            )
        return stream

    def context(self, request: Request, message: dict[str, Any], received_at: float) -> RequestContext | Response:
        """The request's context once its envelope, method and headers are right; else the error answer."""
        msg_id = message["id"]
        envelope = read_envelope(message, request.headers)
        if isinstance(envelope, Rejection):
            return rejected(envelope, msg_id)
        method = message["method"]
        if method not in MODERN_METHODS:
            return modern_error(
                msg_id, jsonrpc.METHOD_NOT_FOUND, f"Method not found: '{method}' does not exist in 2026-07-28"
            )
        params = message.get("params")
        params = params if isinstance(params, dict) else {}
        if method == "tools/call":
            schema = self.gateway.tool_input_schema(params.get("name"))
            problem = param_header_problem(schema, params.get("arguments"), request.headers.raw)
            if problem is not None:
                return rejected(problem, msg_id)
        session = request_session(self.gateway, envelope, method)
        return RequestContext(self.gateway, session, method, params, msg_id, received_at)
