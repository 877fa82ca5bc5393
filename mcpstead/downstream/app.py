"""create_app(gateway): the Starlette application with every route, guarded against rebinding and auth."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mcpstead import jsonrpc
from mcpstead.downstream.admin import AdminEndpoints
from mcpstead.downstream.auth import auth_failure
from mcpstead.downstream.mcp import McpEndpoint, http_error
from mcpstead.downstream.security import RequestGuard
from mcpstead.gateway import Gateway

OPEN_PATHS = frozenset({"/health", "/metrics"})
"""Monitoring stays open in bearer mode, as in the reference."""


class GuardMiddleware:
    """403 for a foreign Origin or (bound to loopback) a foreign Host; 401 without the bearer token."""

    def __init__(self, app: ASGIApp, gateway: Gateway) -> None:
        self.app = app
        self.gateway = gateway
        mcp = gateway.config.mcp
        self.guard = RequestGuard(gateway.config.host, mcp.allowed_hosts, mcp.allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        if not self.guard.host_allowed(headers.get("host")):
            response = http_error(
                403, jsonrpc.INVALID_REQUEST, f"Forbidden: invalid Host header '{headers.get('host')}'"
            )
        elif not self.guard.origin_allowed(headers.get("origin")):
            response = http_error(
                403, jsonrpc.INVALID_REQUEST, f"Forbidden: invalid Origin header '{headers.get('origin')}'"
            )
        elif scope["path"] not in OPEN_PATHS and auth_failure(self.gateway.config, headers.get("authorization")):
            if scope["path"] == "/mcp":
                self.gateway.metrics.mcp_requests.labels("unknown", "error").inc()
            response = http_error(
                401,
                jsonrpc.INVALID_REQUEST,
                "Unauthorized: send 'Authorization: Bearer <token>'",
                headers={"www-authenticate": "Bearer"},
            )
        else:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)


def create_app(gateway: Gateway) -> ASGIApp:
    mcp = McpEndpoint(gateway)
    admin = AdminEndpoints(gateway)
    app = Starlette(
        routes=[
            Route("/mcp", mcp.post, methods=["POST"]),
            Route("/mcp", mcp.get, methods=["GET"]),
            Route("/mcp", mcp.delete, methods=["DELETE"]),
            Route("/health", admin.health, methods=["GET"]),
            Route("/metrics", admin.metrics, methods=["GET"]),
        ]
    )
    return GuardMiddleware(app, gateway)
