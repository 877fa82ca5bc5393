"""A successful tools/call end to end in process: client -> create_app() -> Gateway -> a scripted upstream."""

from __future__ import annotations

from typing import Any

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
