"""GET /health and GET /metrics."""

from __future__ import annotations

from typing import Any


async def test_health_with_no_servers(h: Any) -> None:
    response = await h.request("GET", "/health")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {
        "status",
        "instance_id",
        "uptime_seconds",
        "servers",
        "sessions",
        "sessions_idle",
        "session_idle_ttl_seconds",
        "problems",
        "warnings",
        "requests_by_era",
        "last_reload",
    }
    assert body["status"] == "ok"
    assert body["instance_id"] is None
    assert body["warnings"] == []
    assert body["requests_by_era"] == {"legacy": 0, "modern": 0}
    assert body["servers"] == []
    assert isinstance(body["uptime_seconds"], float) and body["uptime_seconds"] >= 0


async def test_metrics(h: Any) -> None:
    session = await h.initialize()
    await h.rpc(session, "ping")
    response = await h.request("GET", "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = response.text
    assert "# TYPE mcpstead_build_info gauge" in text
    assert "mcpstead_build_info{" in text
    assert 'mcpstead_mcp_requests_total{method="initialize",result="success"} 1.0' in text
    assert 'mcpstead_mcp_requests_total{method="ping",result="success"} 1.0' in text


async def test_each_gateway_has_its_own_metrics(start: Any) -> None:
    async with start() as first, start() as second:
        await first.initialize()
        text = (await second.request("GET", "/metrics")).text
        assert 'method="initialize"' not in text


async def test_metrics_can_be_disabled(start: Any) -> None:
    async with start("metrics:\n  enabled: false\n") as h:
        response = await h.request("GET", "/metrics")
        assert response.status_code == 404
        assert "mcpstead_build_info" not in response.text
        assert (await h.request("GET", "/health")).status_code == 200


async def test_health_counts_idle_sessions_and_names_the_ttl(h: Any) -> None:
    idle, busy = await h.initialize(), await h.initialize()
    h.gateway.sessions.get(idle).last_activity -= 301  # as if its client went quiet five minutes ago
    await h.rpc(busy, "ping")
    body = (await h.request("GET", "/health")).json()
    assert (body["sessions"], body["sessions_idle"], body["session_idle_ttl_seconds"]) == (2, 1, 3600)
