"""GET /health and GET /metrics: always open, for monitoring without the bearer token."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mcpstead.gateway import Gateway
from mcpstead.state import UpstreamView

STDERR_IN_HEALTH = 10
IDLE_SESSION_SECONDS = 300
"""Sessions with no request for this long count as idle in /health (they end after idle_ttl_seconds)."""
"""The last stderr lines of a stdio upstream shown in /health (the dashboard shows more)."""


def health_document(gateway: Gateway) -> dict[str, Any]:
    """The reference's /health shape, plus transport, state and supervision details. Never a secret."""
    now = gateway.clock.wall()
    idle_since = gateway.clock.monotonic()
    upstreams = gateway.upstream_views()
    reload = gateway.last_reload
    return {
        "status": "ok" if all(u.connected for u in upstreams) else "degraded",
        "instance_id": gateway.sessions.instance_id,
        "uptime_seconds": round(gateway.clock.monotonic() - gateway.started_monotonic, 6),
        "servers": [_server(upstream, gateway, now) for upstream in upstreams],
        "sessions": len(gateway.sessions),
        "sessions_idle": sum(1 for s in gateway.sessions if idle_since - s.last_activity > IDLE_SESSION_SECONDS),
        "session_idle_ttl_seconds": gateway.config.mcp.session.idle_ttl_seconds,
        "problems": list(gateway.catalog.problems),
        "warnings": list(gateway.warnings()),
        "requests_by_era": dict(gateway.metrics.era_requests),
        "last_reload": None
        if reload is None
        else {"at": reload.at, "ok": reload.ok, "errors": list(reload.errors), "ignored": list(reload.ignored)},
    }


def _server(upstream: UpstreamView, gateway: Gateway, now: float) -> dict[str, Any]:
    config = gateway.config.server(upstream.name)
    return {
        "name": upstream.name,
        "url": config.target if config and config.url else None,
        "protocol": ("stdio" if config.command is not None else config.protocol) if config else None,
        "required": upstream.required,
        "connected": upstream.connected,
        "tools_count": len(upstream.tools),
        "prompts_count": upstream.prompts,
        "resources_count": upstream.resources,
        "resource_templates_count": upstream.resource_templates,
        "session_mode": config.session if config else None,
        "client_sessions": upstream.client_sessions,
        "last_seen_seconds_ago": round(now - upstream.last_seen, 6) if upstream.last_seen is not None else None,
        "reconnects": upstream.reconnects,
        "last_error": upstream.last_error,
        "transport": upstream.transport,
        "era": upstream.era,
        "state": upstream.status,
        "command": upstream.target if upstream.transport == "stdio" else None,
        "next_retry_in_seconds": (
            round(max(0.0, upstream.next_retry_at - now), 3) if upstream.next_retry_at is not None else None
        ),
        "pid": upstream.pid,
        "exit_code": upstream.exit_code,
        "stderr_tail": list(upstream.stderr_tail[-STDERR_IN_HEALTH:]) if upstream.transport == "stdio" else None,
        "session_resets": dict(upstream.session_resets),
        "calls": upstream.calls,
        "errors": upstream.errors,
    }


class AdminEndpoints:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def health(self, request: Request) -> Response:
        return JSONResponse(health_document(self.gateway))

    async def reload(self, request: Request) -> Response:
        """POST /-/reload: the reference's summary of counts (plus names), or 400 with every error."""
        outcome = await self.gateway.reload()
        if not outcome.ok:
            return Response("\n".join(outcome.errors) + "\n", status_code=400, media_type="text/plain")
        groups = {
            "added": outcome.added,
            "removed": outcome.removed,
            "restarted": outcome.restarted,
            "updated": outcome.updated,
            "unchanged": outcome.unchanged,
        }
        summary: dict[str, Any] = {key: len(names) for key, names in groups.items()}
        summary["upstreams"] = {key: list(names) for key, names in groups.items()}
        summary["ignored"] = list(outcome.ignored)
        return JSONResponse(summary)

    async def metrics(self, request: Request) -> Response:
        if not self.gateway.config.metrics.enabled:
            return Response("metrics disabled\n", status_code=404, media_type="text/plain")
        from mcpstead import exposition  # loaded at the first scrape: its docstring says why

        return Response(exposition.render(self.gateway.metrics), media_type=exposition.CONTENT_TYPE)
