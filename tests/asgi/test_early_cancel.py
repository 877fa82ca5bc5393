"""A notifications/cancelled that overtakes its request (over HTTP they travel on separate connections): the
request is cancelled as it arrives and never reaches the upstream; a late cancellation of an answered id does
not cancel a new request that reuses the id."""

from __future__ import annotations

from typing import Any

import pytest

from mcpstead import sessions
from mcpstead.relay import REQUEST_CANCELLED
from mcpstead.sessions import CANCELS_KEPT, CancelMemory
from tests.fakes import FakeUpstream, tool

CONFIG = "servers:\n  - name: fake\n    url: http://127.0.0.1:9/mcp\n"
RESULT = {"content": [{"type": "text", "text": "done"}], "isError": False}


def cancel(request_id: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": request_id}}


def calls_upstream(upstream: FakeUpstream) -> int:
    return sum(1 for request in upstream.requests if request.method == "tools/call")


async def test_a_cancellation_before_its_request_cancels_it_as_it_arrives(start: Any) -> None:
    upstream = FakeUpstream(tools=[tool("work")], answers={"tools/call": RESULT})
    async with start(CONFIG, connect=upstream.connect) as h:
        await h.wait_until(lambda: h.gateway.supervisors["fake"].status == "ready")
        session = await h.initialize()
        assert (await h.post(cancel("c-1"), session=session)).status_code == 202

        answer = await h.rpc(session, "tools/call", {"name": "fake__work", "arguments": {}}, msg_id="c-1")
        h.rpc_error(answer, REQUEST_CANCELLED, "Request cancelled")
        assert calls_upstream(upstream) == 0

        answer = await h.rpc(session, "tools/call", {"name": "fake__work", "arguments": {}}, msg_id="c-2")
        assert answer["result"] == RESULT
        assert (await h.post(cancel("c-1"), session=session)).status_code == 202  # again: late, as it is answered
        answer = await h.rpc(session, "tools/call", {"name": "fake__work", "arguments": {}}, msg_id="c-1")
        assert answer["result"] == RESULT  # the early cancellation was used up by the request it named
        assert calls_upstream(upstream) == 2


async def test_a_late_cancellation_does_not_cancel_a_new_request_reusing_the_id(start: Any) -> None:
    upstream = FakeUpstream(tools=[tool("work")], answers={"tools/call": RESULT})
    async with start(CONFIG, connect=upstream.connect) as h:
        await h.wait_until(lambda: h.gateway.supervisors["fake"].status == "ready")
        session = await h.initialize()
        assert (await h.rpc(session, "tools/call", {"name": "fake__work", "arguments": {}}, msg_id=5))["result"]
        assert (await h.post(cancel(5), session=session)).status_code == 202  # came after the answer
        answer = await h.rpc(session, "tools/call", {"name": "fake__work", "arguments": {}}, msg_id=5)
        assert answer["result"] == RESULT
        assert calls_upstream(upstream) == 2


async def test_an_early_cancellation_past_its_window_cancels_nothing(
    start: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sessions, "EARLY_CANCEL_SECONDS", -1.0)  # every remembered cancellation is too old
    upstream = FakeUpstream(tools=[tool("work")], answers={"tools/call": RESULT})
    async with start(CONFIG, connect=upstream.connect) as h:
        await h.wait_until(lambda: h.gateway.supervisors["fake"].status == "ready")
        session = await h.initialize()
        assert (await h.post(cancel(7), session=session)).status_code == 202
        answer = await h.rpc(session, "tools/call", {"name": "fake__work", "arguments": {}}, msg_id=7)
        assert answer["result"] == RESULT


@pytest.mark.parametrize("request_id", [{}, [1], True, None, 1.5])
async def test_a_cancellation_naming_no_possible_request_is_taken_and_kept_nowhere(h: Any, request_id: Any) -> None:
    session = await h.initialize()
    assert (await h.post(cancel(request_id), session=session)).status_code == 202
    kept = h.gateway.sessions.get(session).cancels
    assert kept.early == {}


def test_the_memory_keeps_the_newest_cancellations_and_answered_ids() -> None:
    memory = CancelMemory()
    for n in range(CANCELS_KEPT + 5):
        memory.cancel_unseen(n, 0.0)
        memory.done(f"a-{n}")
    assert list(memory.early) == list(range(5, CANCELS_KEPT + 5))
    assert len(memory.answered) == CANCELS_KEPT
    assert not memory.take(0, 0.0)  # dropped as the oldest
    assert memory.take(5, 0.0)
    assert not memory.take(5, 0.0)  # taken once
