"""A distinctive token in the environment must never come back in any response."""

from __future__ import annotations

from typing import Any

SECRET = "zq9-SECRET-DO-NOT-LEAK-41c7"
ENVIRON = {
    "MCPSTEAD_BEARER_TOKEN": SECRET + "-downstream",
    "UPSTREAM_TOKEN": SECRET + "-upstream",
    "HEADER_KEY": SECRET + "-header",
}
CONFIG = """\
mcp:
  auth:
    mode: bearer
servers:
  - name: x
    url: http://127.0.0.1:1/mcp
    auth: {type: bearer, token_env: UPSTREAM_TOKEN}
    headers: {X-Api-Key: '${HEADER_KEY}'}
    reconnect: {backoff_base_ms: 60000, backoff_max_ms: 60000}
"""


async def test_no_response_contains_a_secret(start: Any) -> None:
    async with start(CONFIG, ENVIRON) as h:
        await h.wait_until(lambda: h.gateway.supervisors["x"].status == "backoff")
        auth = {"authorization": f"Bearer {ENVIRON['MCPSTEAD_BEARER_TOKEN']}"}
        await h.request("GET", "/health")
        await h.request("GET", "/metrics")
        await h.post({"jsonrpc": "2.0", "id": 1, "method": "initialize"})
        await h.post({"jsonrpc": "2.0", "id": 1, "method": "initialize"}, headers={"authorization": "Bearer nope"})
        await h.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers={"origin": "http://evil.example.com"})
        await h.post(b"{bad json", headers=auth)
        await h.post({"jsonrpc": "2.0", "id": 1}, headers=auth)
        await h.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=auth, session="unknown")
        session = await h.initialize(headers=auth)
        await h.rpc(session, "tools/list", headers=auth)
        await h.rpc(session, "tools/call", {"name": "x__anything"}, headers=auth)
        await h.rpc(session, "tools/call", {"name": "y__anything"}, headers=auth)
        await h.rpc(session, "nope", headers=auth)
        await h.post([{"jsonrpc": "2.0", "id": 1, "method": "ping"}], session=session, headers=auth)
        await h.request("GET", "/mcp", headers={**auth, "accept": "application/json"})
        await h.request("DELETE", "/mcp", headers={**auth, "mcp-session-id": session})
        await h.request("GET", "/health")
        await h.request("GET", "/metrics")

        assert len(h.seen) >= 18
        assert {response.status_code for response in h.seen} == {200, 204, 400, 401, 403, 404, 406}
        for response in h.seen:
            assert SECRET not in response.text, (response.request.url, response.text)
            for name, value in response.headers.items():
                assert SECRET not in value, name
        snapshot = repr(h.gateway.snapshot())
        assert SECRET not in snapshot


async def test_a_password_in_an_upstream_url_never_comes_back(start: Any) -> None:
    config = (
        "servers:\n  - name: x\n    url: http://user:" + SECRET + "@127.0.0.1:1/mcp\n"
        "    reconnect: {backoff_base_ms: 60000, backoff_max_ms: 60000}\n"
    )
    async with start(config, {}) as h:
        await h.wait_until(lambda: h.gateway.supervisors["x"].status == "backoff")
        health = await h.request("GET", "/health")
        assert health.json()["servers"][0]["url"] == "http://user:***@127.0.0.1:1/mcp"
        await h.request("GET", "/metrics")
        session = await h.initialize()
        await h.rpc(session, "tools/call", {"name": "x__anything"})
        assert h.gateway.snapshot().upstreams[0].target == "http://user:***@127.0.0.1:1/mcp"
        for response in h.seen:
            assert SECRET not in response.text
