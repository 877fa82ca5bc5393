"""The client-hop tap: what /mcp receives and answers, recorded only while something listens."""

from __future__ import annotations

import asyncio
import json

from mcpstead.state import TrafficRecord
from tests.asgi.conftest import Harness


def messages(records: list[TrafficRecord]) -> list[tuple[str, str | None, object]]:
    out = []
    for record in records:
        message = json.loads(record.data)
        kind = message.get("method") or ("error" if "error" in message else "result")
        out.append((record.direction, record.session, kind))
    return out


async def test_nothing_is_recorded_while_nothing_listens(h: Harness) -> None:
    assert not h.gateway.traffic.active
    await h.initialize()
    assert h.gateway.traffic_since(0) == ()


async def test_requests_answers_and_http_errors_are_recorded_with_short_sessions(h: Harness) -> None:
    seen: list[TrafficRecord] = []
    h.gateway.traffic.add_sink(seen.append)
    session = await h.initialize()
    await h.rpc(session, "ping")
    await h.post({"jsonrpc": "2.0", "id": 2, "method": "ping"}, session="no-such-session")
    await h.post(b"{broken", session=session)  # not JSON: the request is kept as it came, with its 400 answer
    short = session[:8]
    assert messages(seen[:4]) == [
        ("in", None, "initialize"),
        ("out", short, "result"),
        ("in", short, "ping"),
        ("out", short, "result"),
    ]
    assert [(r.direction, r.session) for r in seen[4:6]] == [("in", "no-such-"), ("out", "no-such-")]
    assert json.loads(seen[5].data)["error"]["code"] == -32001
    assert seen[6].data == b"{broken" and json.loads(seen[7].data)["error"]["code"] == -32700
    assert {r.hop for r in seen} == {"client"} and all(session not in r.data.decode() for r in seen)
    calls = [r.call for r in seen]
    assert calls[0] == calls[1] and calls[2] == calls[3] and calls[1] != calls[2]  # one call number per POST


async def test_the_dashboard_ring_holds_what_passed(h: Harness) -> None:
    h.gateway.keep_traffic()
    session = await h.initialize()
    await h.post([{"jsonrpc": "2.0", "id": 1, "method": "ping"}], session=session)  # a batch is one message
    records = h.gateway.traffic_since(0)
    assert len(records) == 4 and isinstance(json.loads(records[2].data), list)
    assert h.gateway.traffic_since(records[-1].seq) == ()


async def test_the_dashboards_session_hears_nothing_until_it_asks_something(h: Harness) -> None:
    assert h.gateway.sessions.dashboard is None  # headless: nothing is fanned out to it
    answer = await h.gateway.start_request("ping", {}).answer
    assert answer["result"] == {} and h.gateway.sessions.dashboard is not None
    assert h.gateway.sessions.dashboard.stream is not None


async def test_a_question_the_server_withdraws_is_withdrawn_from_the_person(h: Harness) -> None:
    from mcpstead.dashboard_client import _Stream

    asked = asyncio.Event()
    withdrawn = asyncio.Event()

    class Person:
        def notified(self, message: dict[str, object]) -> None:
            pass

        async def asked(self, method: str, params: dict[str, object]) -> dict[str, object]:
            asked.set()
            try:
                await asyncio.Event().wait()  # a person who has not answered yet
            except asyncio.CancelledError:
                withdrawn.set()
                raise
            return {"result": {}}

    stream = _Stream(h.gateway.dashboard, Person(), None)
    assert stream.push({"jsonrpc": "2.0", "id": "mcpstead-1", "method": "elicitation/create", "params": {}})
    await asyncio.wait_for(asked.wait(), 5)
    stream.push({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "mcpstead-1"}})
    await asyncio.wait_for(withdrawn.wait(), 5)
