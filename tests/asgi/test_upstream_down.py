"""An upstream nobody listens for: the gateway keeps serving, reports it and says why in /health."""

from __future__ import annotations

from typing import Any

import pytest

UPSTREAM_ERROR = -32000
DOWN = """\
servers:
  - name: x
    url: http://127.0.0.1:1/mcp
    reconnect:
      backoff_base_ms: 60000
      backoff_max_ms: 60000
"""


@pytest.fixture
async def down(start: Any) -> Any:
    """A gateway whose only upstream refused the connection and now waits a minute before retrying."""
    async with start(DOWN) as h:
        await h.wait_until(lambda: h.gateway.supervisors["x"].status == "backoff")
        yield h


async def test_call_to_a_disconnected_upstream_is_32000(down: Any) -> None:
    session = await down.initialize()
    answer = await down.rpc(session, "tools/call", {"name": "x__anything", "arguments": {}})
    message = down.rpc_error(answer, UPSTREAM_ERROR)
    assert "upstream 'x'" in message
    assert "disconnected" in message
    assert answer["error"]["data"] == {"upstream": "x"}


async def test_tools_of_a_disconnected_upstream_are_not_listed(down: Any) -> None:
    session = await down.initialize()
    assert (await down.rpc(session, "tools/list"))["result"] == {"tools": []}


async def test_health_is_degraded(down: Any) -> None:
    body = (await down.request("GET", "/health")).json()
    assert body["status"] == "degraded"
    (server,) = body["servers"]
    assert server["name"] == "x"
    assert server["url"] == "http://127.0.0.1:1/mcp"
    assert server["connected"] is False
    assert server["state"] == "backoff"
    assert server["transport"] in ("auto", "streamable-http")  # `protocol: auto` is undecided until it connects
    assert server["tools_count"] == 0
    assert server["reconnects"] >= 1
    assert 0 < server["next_retry_in_seconds"] <= 60
    assert isinstance(server["last_error"], str) and "upstream 'x'" in server["last_error"]


async def test_metrics_show_the_upstream_down(down: Any) -> None:
    text = (await down.request("GET", "/metrics")).text
    assert 'mcpstead_upstream_connected{server="x"} 0.0' in text


async def test_health_says_connection_refused(down: Any) -> None:
    body = (await down.request("GET", "/health")).json()
    assert "connection refused" in body["servers"][0]["last_error"].lower()


async def test_call_error_says_connection_refused(down: Any) -> None:
    session = await down.initialize()
    answer = await down.rpc(session, "tools/call", {"name": "x__anything"})
    assert "connection refused" in answer["error"]["message"].lower()
