"""403 for foreign Origin/Host (DNS rebinding) and 401 without the bearer token."""

from __future__ import annotations

from typing import Any

import pytest

INVALID_REQUEST = -32600
TOKEN = "tok-for-tests-0001"
BEARER = "mcp:\n  auth:\n    mode: bearer\n"
UNAUTHORIZED = "Unauthorized: send 'Authorization: Bearer <token>'"


async def test_foreign_origin_is_403(h: Any) -> None:
    response = await h.post(
        {"jsonrpc": "2.0", "id": 1, "method": "initialize"}, headers={"origin": "http://evil.example.com"}
    )
    h.http_error(response, 403, INVALID_REQUEST, "Forbidden: invalid Origin header 'http://evil.example.com'")
    assert len(h.gateway.sessions) == 0


async def test_foreign_host_is_403(h: Any) -> None:
    response = await h.post({"jsonrpc": "2.0", "id": 1, "method": "initialize"}, headers={"host": "evil.example.com"})
    assert response.request.headers["host"] == "evil.example.com"
    h.http_error(response, 403, INVALID_REQUEST, "Forbidden: invalid Host header 'evil.example.com'")
    assert len(h.gateway.sessions) == 0


async def test_rebinding_pair_is_refused(h: Any) -> None:
    headers = {"host": "evil.example.com", "origin": "http://evil.example.com"}
    response = await h.post({"jsonrpc": "2.0", "id": 1, "method": "initialize"}, headers=headers)
    assert response.status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://localhost:5173"},
        {"origin": "http://127.0.0.1:8766"},
        {"host": "localhost:8766"},
        {"host": "[::1]:8766"},
        {"host": "127.0.0.1:8766", "origin": "http://127.0.0.1:8766"},
    ],
)
async def test_loopback_origin_and_host_are_fine(h: Any, headers: dict[str, str]) -> None:
    response = await h.post({"jsonrpc": "2.0", "id": 1, "method": "initialize"}, headers=headers)
    assert response.status_code == 200
    assert "mcp-session-id" in response.headers


async def test_monitoring_is_guarded_against_rebinding_too(h: Any) -> None:
    assert (await h.request("GET", "/health", headers={"host": "evil.example.com"})).status_code == 403
    assert (await h.request("GET", "/metrics", headers={"origin": "http://evil.example.com"})).status_code == 403


async def test_allowed_origins_and_hosts_from_the_config(start: Any) -> None:
    config = "mcp:\n  allowed_origins: ['https://app.example.com']\n  allowed_hosts: ['mybox.local:8766']\n"
    async with start(config) as h:
        ok = await h.post(
            {"jsonrpc": "2.0", "id": 1, "method": "initialize"},
            headers={"origin": "https://app.example.com", "host": "mybox.local:8766"},
        )
        assert ok.status_code == 200
        refused = await h.post(
            {"jsonrpc": "2.0", "id": 1, "method": "initialize"}, headers={"origin": "https://other.example.com"}
        )
        assert refused.status_code == 403


async def test_non_loopback_bind_does_not_check_host_but_checks_origin(start: Any) -> None:
    async with start("host: 0.0.0.0\n") as h:
        ok = await h.post({"jsonrpc": "2.0", "id": 1, "method": "initialize"}, headers={"host": "gateway.lan:8766"})
        assert ok.status_code == 200
        refused = await h.post(
            {"jsonrpc": "2.0", "id": 1, "method": "initialize"}, headers={"origin": "http://evil.example.com"}
        )
        assert refused.status_code == 403


# -- bearer ------------------------------------------------------------------------------------------------


def assert_401(h: Any, response: Any) -> None:
    h.http_error(response, 401, INVALID_REQUEST, UNAUTHORIZED)
    assert response.headers["www-authenticate"] == "Bearer"


async def test_bearer_mode(start: Any) -> None:
    async with start(BEARER, {"MCPSTEAD_BEARER_TOKEN": TOKEN}) as h:
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize"}
        assert_401(h, await h.post(init))
        assert_401(h, await h.post(init, headers={"authorization": "Bearer wrong-token"}))
        assert_401(h, await h.post(init, headers={"authorization": f"Basic {TOKEN}"}))
        assert_401(h, await h.post(init, headers={"authorization": "Bearer"}))
        assert len(h.gateway.sessions) == 0
        ok = await h.post(init, headers={"authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200
        session = ok.headers["mcp-session-id"]
        # every later request needs the token too
        assert_401(h, await h.post({"jsonrpc": "2.0", "id": 2, "method": "ping"}, session=session))
        answer = await h.rpc(session, "ping", headers={"authorization": f"Bearer {TOKEN}"})
        assert answer["result"] == {}
        assert_401(h, await h.request("DELETE", "/mcp", headers={"mcp-session-id": session}))
        assert_401(h, await h.request("GET", "/mcp"))
        assert h.gateway.sessions.get(session) is not None


async def test_bearer_mode_keeps_monitoring_open(start: Any) -> None:
    async with start(BEARER, {"MCPSTEAD_BEARER_TOKEN": TOKEN}) as h:
        health = await h.request("GET", "/health")
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        metrics = await h.request("GET", "/metrics")
        assert metrics.status_code == 200
        assert "mcpstead_build_info" in metrics.text


async def test_auth_failures_are_counted(start: Any) -> None:
    async with start(BEARER, {"MCPSTEAD_BEARER_TOKEN": TOKEN}) as h:
        await h.post({"jsonrpc": "2.0", "id": 1, "method": "ping"})
        metrics = (await h.request("GET", "/metrics")).text
        assert 'mcpstead_mcp_requests_total{method="unknown",result="error"} 1.0' in metrics


async def test_forbidden_comes_before_unauthorized(start: Any) -> None:
    async with start(BEARER, {"MCPSTEAD_BEARER_TOKEN": TOKEN}) as h:
        response = await h.post(
            {"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers={"origin": "http://evil.example.com"}
        )
        assert response.status_code == 403
