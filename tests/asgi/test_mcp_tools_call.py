"""A successful tools/call end to end in process: client -> create_app() -> Gateway -> a scripted upstream."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from mcpstead.context import RequestContext
from mcpstead.downstream.mcp import RequestReply
from tests.fakes import FakeUpstream, tool

CONFIG = "servers:\n  - name: fake\n    url: http://127.0.0.1:9/mcp\n"
RESULT = {
    "content": [{"type": "text", "text": "hello"}],
    "structuredContent": {"echoed": "hello"},
    "isError": False,
    "_meta": {"x-unknown": [1, 2]},
}


async def test_tools_call_is_routed_unqualified_and_answered_as_is(start: Any) -> None:
    upstream = FakeUpstream(tools=[tool("echo", "Echo the text")], answers={"tools/call": RESULT})
    async with start(CONFIG, connect=upstream.connect) as h:
        await h.wait_until(lambda: h.gateway.supervisors["fake"].status == "ready")
        session = await h.initialize()

        listed = await h.rpc(session, "tools/list")
        assert [t["name"] for t in listed["result"]["tools"]] == ["fake__echo"]

        meta = {"progressToken": 7, "com.example/trace": "t-1"}
        params = {"name": "fake__echo", "arguments": {"text": "hello"}, "_meta": meta, "extra": 1}
        answer = await h.rpc(session, "tools/call", params, msg_id="call-1")

        assert answer == {"jsonrpc": "2.0", "id": "call-1", "result": RESULT}
        sent = upstream.requests[-1]
        assert sent.method == "tools/call"
        assert sent.params is not None
        # The progress token is made unique among every client's calls upstream; everything else passes as is.
        upstream_token = sent.params["_meta"]["progressToken"]
        assert upstream_token != 7
        assert sent.params == {**params, "name": "echo", "_meta": {**meta, "progressToken": upstream_token}}

        (call,) = h.gateway.calls.newest_first()
        assert (call.tool, call.upstream, call.outcome) == ("fake__echo", "fake", "ok")


async def test_a_call_the_stopping_server_gives_up_on_gets_a_json_rpc_error_not_a_500(start: Any) -> None:
    """What uvicorn does past its graceful-shutdown time: cancel the task still answering a request."""
    upstream = FakeUpstream(tools=[tool("echo")], hold={"tools/call": asyncio.Event()})
    async with start(CONFIG, connect=upstream.connect) as h:
        await h.wait_until(lambda: h.gateway.supervisors["fake"].status == "ready")
        session = await h.initialize()
        params = {"name": "fake__echo", "arguments": {}}
        ctx = RequestContext(h.gateway, h.gateway.sessions.get(session), "tools/call", params, 1, 0.0)
        reply = RequestReply(ctx, sse_only=False, can_stream=True)
        sent: list[dict[str, Any]] = []

        async def send(message: Any) -> None:
            sent.append(message)

        async def receive() -> Any:
            await asyncio.Event().wait()

        task = asyncio.create_task(reply({"type": "http", "mcpstead.on_disconnect": None}, receive, send))
        async with asyncio.timeout(5):
            while not any(r.method == "tools/call" for r in upstream.requests):
                await upstream.changed.wait()
                upstream.changed.clear()
        task.cancel()
        await task  # ends quietly: nothing escapes to the server, which would log it and answer 500
        assert sent[0]["status"] == 200
        answer = json.loads(sent[-1]["body"])
        assert answer["error"]["code"] == -32000 and "shutting down" in answer["error"]["message"]
