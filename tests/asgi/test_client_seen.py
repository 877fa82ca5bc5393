"""`GatewaySnapshot.client_seen`: the first session, or the first 2026-07-28 request, is a client arriving."""

from __future__ import annotations

from typing import Any

MODERN = "2026-07-28"
DISCOVER = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "server/discover",
    "params": {
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "modern", "version": "1"},
        }
    },
}


async def test_a_session_is_a_client(h: Any) -> None:
    assert not h.gateway.snapshot().client_seen
    await h.initialize()
    assert h.gateway.snapshot().client_seen


async def test_a_sessionless_modern_request_is_a_client(h: Any) -> None:
    assert not h.gateway.snapshot().client_seen
    response = await h.post(DISCOVER, headers={"mcp-protocol-version": MODERN, "mcp-method": "server/discover"})
    assert response.status_code == 200, response.text
    assert len(h.gateway.sessions) == 0
    assert h.gateway.snapshot().client_seen
