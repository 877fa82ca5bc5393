"""`session: per_client` in process, on a scripted upstream: what each per-client upstream session is opened
with, what reaches it, and when it closes. (tests/integration/test_per_client.py runs the same against real
SDK servers and clients.)"""

from __future__ import annotations

import asyncio
from typing import Any

from mcpstead.upstream.supervisor import UpstreamSupervisor
from tests.asgi.conftest import WAIT, Harness, initialize_request
from tests.fakes import FakeConnection, FakeUpstream, Request, tool, transport_error

CAPABILITIES: dict[str, Any] = {"tools": {}, "logging": {}}
CONFIG = """\
servers:
  - name: pc
    url: http://127.0.0.1:9/mcp
    session: per_client
    max_sessions: 2
    protocol_version: "2025-11-25"
"""
"""Pinned, so that the shared connection is the first (era detection has its own tests)."""


def scripted() -> FakeUpstream:
    return FakeUpstream(
        tools=[tool("echo")],
        answers={"initialize": {"protocolVersion": "2025-11-25", "capabilities": CAPABILITIES, "serverInfo": {}}},
    )


async def open_session(h: Harness, capabilities: dict[str, Any], name: str) -> str:
    message = initialize_request()
    message["params"]["capabilities"] = capabilities
    message["params"]["clientInfo"] = {"name": name, "version": "9.9"}
    response = await h.post(message)
    assert response.status_code == 200, response.text
    return response.headers["mcp-session-id"]


async def closed(connection: FakeConnection) -> None:
    """Released in the background (no version bump): the pool forgets it before closing it."""
    await asyncio.wait_for(connection.closed.wait(), WAIT)


def supervisor(h: Harness) -> UpstreamSupervisor:
    return h.gateway.supervisors["pc"]


def on(upstream: FakeUpstream, connection: int) -> list[Request]:
    return [r for r in upstream.requests if r.connection == connection]


async def test_a_client_session_is_opened_with_its_own_capabilities_and_closed_with_it(start: Any) -> None:
    upstream = scripted()
    async with start(CONFIG, connect=upstream.connect) as h:
        await h.wait_until(lambda: supervisor(h).status == "ready")
        session = await open_session(h, {"sampling": {}, "roots": {"listChanged": True}}, "editor")
        assert len(upstream.connections) == 1, "nothing is opened before the client's first request upstream"

        answer = await h.rpc(session, "tools/call", {"name": "pc__echo", "arguments": {}})
        assert "result" in answer
        assert len(upstream.connections) == 2
        init = on(upstream, 2)[0]
        assert init.method == "initialize"
        assert init.params is not None
        assert init.params["capabilities"] == {"sampling": {}, "roots": {"listChanged": True}}
        assert init.params["clientInfo"] == {"name": "editor", "version": "9.9"}
        assert [r.method for r in on(upstream, 2)][1:] == ["tools/call"]

        # roots/list_changed reaches the client's own upstream session.
        note = await h.post({"jsonrpc": "2.0", "method": "notifications/roots/list_changed"}, session=session)
        assert note.status_code == 202
        assert ("notifications/roots/list_changed", None) in upstream.notifications

        deleted = await h.request("DELETE", "/mcp", headers={"mcp-session-id": session})
        assert deleted.status_code == 204
        await closed(upstream.connections[1])
        assert not upstream.connections[0].closed.is_set(), "the gateway's own session stays"
        assert len(supervisor(h).pool) == 0


async def test_roots_list_changed_opens_no_upstream_session(start: Any) -> None:
    upstream = scripted()
    async with start(CONFIG, connect=upstream.connect) as h:
        await h.wait_until(lambda: supervisor(h).status == "ready")
        session = await open_session(h, {"roots": {"listChanged": True}}, "editor")
        note = await h.post({"jsonrpc": "2.0", "method": "notifications/roots/list_changed"}, session=session)
        assert note.status_code == 202
        assert len(upstream.connections) == 1
        assert ("notifications/roots/list_changed", None) not in upstream.notifications
        assert len(supervisor(h).pool) == 0


async def test_a_log_level_set_before_any_call_is_applied_when_the_session_opens(start: Any) -> None:
    """logging/setLevel alone must not open (and hold) an upstream session, which counts against
    max_sessions: the level is kept and sent when the client's upstream session is opened."""
    upstream = scripted()
    async with start(CONFIG, connect=upstream.connect) as h:
        await h.wait_until(lambda: supervisor(h).status == "ready")
        sessions = [await open_session(h, {}, f"client-{n}") for n in range(3)]
        for session in sessions:
            assert (await h.rpc(session, "logging/setLevel", {"level": "error"}))["result"] == {}
        assert len(upstream.connections) == 1
        assert len(supervisor(h).pool) == 0

        answer = await h.rpc(sessions[0], "tools/call", {"name": "pc__echo"})
        assert "result" in answer
        assert [(r.method, r.params) for r in on(upstream, 2)][1:] == [
            ("logging/setLevel", {"level": "error"}),
            ("tools/call", {"name": "echo"}),
        ]
        # Once open, a new level goes to that session (and to no other).
        assert (await h.rpc(sessions[0], "logging/setLevel", {"level": "debug"}))["result"] == {}
        assert [(r.method, r.params) for r in on(upstream, 2)][-1] == ("logging/setLevel", {"level": "debug"})
        assert len(upstream.connections) == 2


async def test_max_sessions_refuses_one_more_with_a_clear_error(start: Any) -> None:
    upstream = scripted()
    async with start(CONFIG, connect=upstream.connect) as h:
        await h.wait_until(lambda: supervisor(h).status == "ready")
        sessions = [await open_session(h, {}, f"client-{n}") for n in range(3)]
        for session in sessions[:2]:
            assert "result" in await h.rpc(session, "tools/call", {"name": "pc__echo"})
        refused = await h.rpc(sessions[2], "tools/call", {"name": "pc__echo"})
        message = h.rpc_error(refused, -32000)
        assert "2 per-client sessions open (max_sessions)" in message
        assert refused["error"]["data"] == {"upstream": "pc"}
        assert supervisor(h).status == "ready", "the limit is not a fault of the upstream"

        await h.request("DELETE", "/mcp", headers={"mcp-session-id": sessions[0]})
        await closed(upstream.connections[1])
        assert len(supervisor(h).pool) == 1
        assert "result" in await h.rpc(sessions[2], "tools/call", {"name": "pc__echo"})


async def test_a_notification_for_a_per_client_session_that_cannot_be_reopened_is_still_accepted(start: Any) -> None:
    upstream = scripted()
    async with start(CONFIG, connect=upstream.connect) as h:
        await h.wait_until(lambda: supervisor(h).status == "ready")
        session = await open_session(h, {"roots": {"listChanged": True}}, "editor")
        assert "result" in await h.rpc(session, "tools/call", {"name": "pc__echo"})
        upstream.connections[1].drop("the upstream forgot it")
        upstream.fail_opens(transport_error("pc"))

        note = await h.post({"jsonrpc": "2.0", "method": "notifications/roots/list_changed"}, session=session)
        assert note.status_code == 202, note.text
        assert ("notifications/roots/list_changed", None) not in upstream.notifications
        # The next request opens a new upstream session.
        assert "result" in await h.rpc(session, "tools/call", {"name": "pc__echo"})
        assert len(upstream.connections) == 4
