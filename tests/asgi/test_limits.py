"""Each limit under limits: is hit, answers clearly, counts in the metric, and the gateway serves right after."""

from __future__ import annotations

import asyncio
from typing import Any

from mcpstead.relay import InFlightCall
from tests.fakes import FakeUpstream, tool

UPSTREAM = "servers:\n  - name: fake\n    url: http://127.0.0.1:9/mcp\n"


async def limit_hits(h: Any, limit: str) -> str:
    text: str = (await h.request("GET", "/metrics")).text
    return next((line for line in text.splitlines() if f'limit="{limit}"' in line), "")


async def test_sessions_in_total_and_per_client_address(start: Any) -> None:
    async with start("limits: {sessions: 3, sessions_per_client: 2}\n") as h:
        first = await h.initialize()
        second = await h.initialize()
        response = await h.post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}})
        message = h.http_error(response, 429, -32600)
        assert "2 sessions are open from 127.0.0.1 (limits.sessions_per_client)" in message
        assert (
            await limit_hits(h, "sessions_per_client") == 'mcpstead_limit_hits_total{limit="sessions_per_client"} 1.0'
        )
        h.gateway.sessions.get(first).client_address = "10.0.0.2"  # as if it came from elsewhere
        await h.initialize()
        response = await h.post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}})
        assert "3 sessions are open (limits.sessions)" in h.http_error(response, 503, -32600)
        await h.request("DELETE", "/mcp", headers={"mcp-session-id": second})
        assert await h.initialize()  # room again


async def test_behind_a_trusted_proxy_sessions_count_by_forwarded_client(start: Any) -> None:
    """nginx in front (mcp.trusted_proxies): each client counts by the address nginx appended last to
    X-Forwarded-For, so one busy client cannot fill the proxy's share; an untrusted peer's header is ignored."""
    async with start("mcp:\n  trusted_proxies: [127.0.0.0/8]\nlimits: {sessions_per_client: 1}\n") as h:
        await h.initialize(headers={"x-forwarded-for": "10.0.0.7"})
        await h.initialize(headers={"x-forwarded-for": "10.0.0.8"})
        forged = {"x-forwarded-for": "10.9.9.9, 10.0.0.7"}  # the client wrote the first entry itself
        response = await h.post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}, headers=forged)
        assert "1 sessions are open from 10.0.0.7 (limits.sessions_per_client)" in h.http_error(response, 429, -32600)
    async with start("limits: {sessions_per_client: 1}\n") as h:  # no trusted proxy: the peer counts
        await h.initialize(headers={"x-forwarded-for": "10.0.0.7"})
        response = await h.post(
            {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}, headers={"x-forwarded-for": "10.0.0.8"}
        )
        assert "from 127.0.0.1 (limits.sessions_per_client)" in h.http_error(response, 429, -32600)


async def test_get_streams(start: Any) -> None:
    async with start("limits: {get_streams: 1}\n") as h:
        one, two = await h.initialize(), await h.initialize()
        h.gateway.sessions.get(one).open_stream()  # as a client holding its GET stream open
        response = await h.request("GET", "/mcp", headers={"accept": "text/event-stream", "mcp-session-id": two})
        assert "1 GET streams are open (limits.get_streams)" in h.http_error(response, 503, -32600)
        assert await limit_hits(h, "get_streams") == 'mcpstead_limit_hits_total{limit="get_streams"} 1.0'


async def test_calls_per_session_and_in_total(start: Any) -> None:
    held = asyncio.Event()
    upstream = FakeUpstream(tools=[tool("echo")], hold={"tools/call": held})
    async with start("limits: {calls_per_session: 1, calls_in_flight: 2}\n" + UPSTREAM, connect=upstream.connect) as h:
        await h.wait_until(lambda: h.gateway.supervisors["fake"].status == "ready")
        a, b, c = await h.initialize(), await h.initialize(), await h.initialize()
        call = {"name": "fake__echo", "arguments": {}}
        waiting = [asyncio.create_task(h.rpc(s, "tools/call", call, msg_id=n)) for n, s in ((1, a), (2, b))]
        async with asyncio.timeout(5):
            while sum(r.method == "tools/call" for r in upstream.requests) < 2:
                upstream.changed.clear()
                await upstream.changed.wait()
        per_session = await h.rpc(a, "tools/call", call, msg_id=3)
        assert "(limits.calls_per_session)" in h.rpc_error(per_session, -32000)
        in_total = await h.rpc(c, "tools/call", call, msg_id=4)
        assert "2 requests are already waiting on upstreams (limits.calls_in_flight)" in h.rpc_error(in_total, -32000)
        held.set()
        assert all("result" in answer for answer in await asyncio.gather(*waiting))
        assert "result" in await h.rpc(c, "tools/call", call, msg_id=5)  # served right after
        assert await limit_hits(h, "calls_in_flight") == 'mcpstead_limit_hits_total{limit="calls_in_flight"} 1.0'


async def test_items_per_upstream_cut_the_list_and_say_so(start: Any) -> None:
    upstream = FakeUpstream(tools=[tool(f"t{i}") for i in range(12)])
    async with start("limits: {items_per_upstream: 5}\n" + UPSTREAM, connect=upstream.connect) as h:
        await h.wait_until(lambda: h.gateway.supervisors["fake"].status == "ready")
        session = await h.initialize()
        listed = (await h.rpc(session, "tools/list"))["result"]["tools"]
        assert [t["name"] for t in listed] == [f"fake__t{i}" for i in range(5)]
        health = (await h.request("GET", "/health")).json()
        assert health["problems"] == [
            "upstream 'fake' lists more than 5 tools; only the first 5 are offered (limits.items_per_upstream)"
        ]
        assert await limit_hits(h, "items_per_upstream") == 'mcpstead_limit_hits_total{limit="items_per_upstream"} 1.0'


async def test_the_stderr_ring_keeps_the_configured_number_of_lines(start: Any) -> None:
    async with start("limits: {stderr_lines: 3}\n" + UPSTREAM, connect=FakeUpstream().connect) as h:
        supervisor = h.gateway.supervisors["fake"]
        supervisor.stderr.extend(f"line {i}" for i in range(10))
        assert list(supervisor.stderr) == ["line 7", "line 8", "line 9"]


async def test_a_relayed_request_waits_no_longer_than_relay_wait_seconds(start: Any) -> None:
    async with start("limits: {relay_wait_seconds: 0.2}\n" + UPSTREAM, connect=FakeUpstream().connect) as h:
        assert h.gateway._timeout_of("fake") == 0.2  # untied requests relayed to a per-client owner
        session = h.gateway.sessions.get(await h.initialize())
        session.capabilities = {"sampling": {}}
        channel = Collect()
        loop = asyncio.get_running_loop()
        started = loop.time()
        call = InFlightCall(
            "fake", session, channel, started + 60, relay_wait=0.2, limit_hit=h.gateway.metrics.limit_hit
        )
        answer = await call.relay_request({"jsonrpc": "2.0", "id": 1, "method": "sampling/createMessage"})
        assert loop.time() - started < 5  # the 60 s call deadline did not apply
        assert answer is not None and "in time" in answer["error"]["message"]
        assert await limit_hits(h, "relay_wait") == 'mcpstead_limit_hits_total{limit="relay_wait"} 1.0'
        short = InFlightCall("fake", session, channel, loop.time() + 0.3, limit_hit=h.gateway.metrics.limit_hit)
        await short.relay_request({"jsonrpc": "2.0", "id": 2, "method": "sampling/createMessage"})
        assert (
            await limit_hits(h, "relay_wait") == 'mcpstead_limit_hits_total{limit="relay_wait"} 1.0'
        )  # the call's own deadline


class Collect:
    refusal = "the client accepts only JSON answers"

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def push(self, message: dict[str, Any]) -> bool:
        self.sent.append(message)
        return True


def nested(depth: int) -> dict[str, Any]:
    value: Any = "leaf"
    for _ in range(depth - 1):
        value = {"k": value}
    return {"jsonrpc": "2.0", "id": 7, "method": "ping", "params": {"meta": value}}


async def test_json_depth(start: Any) -> None:
    async with start("limits: {json_depth: 10}\n") as h:
        session = await h.initialize()
        response = await h.post(nested(9), session=session)  # the message is one more level: 10 in all
        assert response.status_code == 200 and response.json()["result"] == {}
        response = await h.post(nested(10), session=session)
        message = h.http_error(response, 400, -32700)
        assert "JSON nested 11 deep; the limit is 10 (limits.json_depth)" in message
        response = await h.post(b"[" * 5000 + b"]" * 5000, session=session)  # past what the parser could walk
        assert "(limits.json_depth)" in h.http_error(response, 400, -32700)
        assert await limit_hits(h, "json_depth") == 'mcpstead_limit_hits_total{limit="json_depth"} 2.0'
        assert (await h.rpc(session, "ping"))["result"] == {}


async def test_request_body_size_counts_as_a_limit_hit(start: Any) -> None:
    async with start("mcp: {max_body_bytes: 1024}\n") as h:
        session = await h.initialize()
        response = await h.post(
            {"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"x": "y" * 2000}}, session=session
        )
        h.http_error(response, 413, -32600)
        assert await limit_hits(h, "max_body") == 'mcpstead_limit_hits_total{limit="max_body"} 1.0'
        assert (await h.rpc(session, "ping"))["result"] == {}
