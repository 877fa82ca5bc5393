"""create_app(gateway): the Starlette application with every route, guarded against rebinding and auth."""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mcpstead import jsonrpc
from mcpstead.downstream.admin import AdminEndpoints
from mcpstead.downstream.auth import auth_failure
from mcpstead.downstream.mcp import McpEndpoint, http_error
from mcpstead.downstream.security import RequestGuard
from mcpstead.downstream.tap import TappedExchange
from mcpstead.gateway import Gateway

log = logging.getLogger("mcpstead.downstream")
OPEN_PATHS = frozenset({"/health", "/metrics"})
"""Monitoring stays open in bearer mode, as in the reference."""


class GatewayApp:
    """The ASGI entry point: 403 for a foreign Origin or (bound to loopback) a foreign Host, 401 without the
    bearer token; then POST /mcp goes straight to its handler (the hot path skips Starlette's routing and
    middleware stack) and everything else to the Starlette app."""

    def __init__(self, app: ASGIApp, gateway: Gateway, mcp: McpEndpoint) -> None:
        self.app = app
        self.gateway = gateway
        self.mcp = mcp
        self._guard_config: object = None
        self.guard = self._current_guard()

    def _current_guard(self) -> RequestGuard:
        """The guard for the running config (rebuilt after a reload changed it)."""
        config = self.gateway.config
        if config is not self._guard_config:
            self._guard_config = config
            self.guard = RequestGuard(config.host, config.mcp.allowed_hosts, config.mcp.allowed_origins)
        return self.guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.gateway.traffic.active and scope["path"] == "/mcp":
            exchange = TappedExchange(self.gateway.traffic, scope)
            receive, send = exchange.receive(receive), exchange.send(send)
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        guard = self._current_guard()
        response: ASGIApp | None = self._refusal(guard, headers, scope["path"])
        if response is None and scope["path"] == "/mcp" and scope["method"] == "POST":
            try:
                response = await self.mcp.post(Request(scope, receive))
            except Exception:
                log.exception("unexpected error handling POST /mcp")
                response = http_error(500, jsonrpc.INTERNAL_ERROR, "Internal error (see the gateway's log)")
        if response is None:
            await self.app(scope, receive, send)
        else:
            await response(scope, receive, send)

    def _refusal(self, guard: RequestGuard, headers: dict[str, str], path: str) -> Response | None:
        if not guard.host_allowed(headers.get("host")):
            return http_error(403, jsonrpc.INVALID_REQUEST, f"Forbidden: invalid Host header '{headers.get('host')}'")
        if not guard.origin_allowed(headers.get("origin")):
            return http_error(
                403, jsonrpc.INVALID_REQUEST, f"Forbidden: invalid Origin header '{headers.get('origin')}'"
            )
        if path in OPEN_PATHS or self.gateway.config.mcp.auth.mode != "bearer":
            return None
        failure = auth_failure(self.gateway.config, headers.get("authorization"))
        self.gateway.metrics.auth(failure)
        if failure is None:
            return None
        if path == "/mcp":
            self.gateway.metrics.request("unknown", False)
        return http_error(
            401,
            jsonrpc.INVALID_REQUEST,
            "Unauthorized: send 'Authorization: Bearer <token>'",
            headers={"www-authenticate": "Bearer"},
        )


def create_app(gateway: Gateway) -> ASGIApp:
    mcp = McpEndpoint(gateway)
    admin = AdminEndpoints(gateway)
    app = Starlette(
        routes=[
            Route("/mcp", mcp.get, methods=["GET"]),
            Route("/mcp", mcp.delete, methods=["DELETE"]),
            Route("/health", admin.health, methods=["GET"]),
            Route("/metrics", admin.metrics, methods=["GET"]),
            Route("/-/reload", admin.reload, methods=["POST"]),
        ]
    )
    return GatewayApp(app, gateway, mcp)
