"""PostReply: one JSON write when nothing comes before the answer, an SSE stream as soon as something does."""

from __future__ import annotations

import json
from typing import Any

from mcpstead.downstream.streams import PostReply
from mcpstead.router import server_capabilities

ANSWER = {"jsonrpc": "2.0", "id": 1, "result": {"ok": True}}
PROGRESS = {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": 1, "progress": 1}}


class Sent:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def __call__(self, message: Any) -> None:
        self.messages.append(message)

    def headers(self) -> dict[bytes, bytes]:
        return dict(self.messages[0]["headers"])

    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages[1:])


async def test_an_answer_alone_is_one_json_response() -> None:
    sent = Sent()
    await PostReply(sent, can_stream=True, sse_only=False).finish(ANSWER)
    assert len(sent.messages) == 2
    assert sent.headers()[b"content-type"] == b"application/json"
    assert json.loads(sent.body()) == ANSWER


async def test_a_message_before_the_answer_switches_to_sse() -> None:
    sent = Sent()
    reply = PostReply(sent, can_stream=True, sse_only=False)
    assert reply.push(PROGRESS)
    await reply.finish(ANSWER)
    assert sent.headers()[b"content-type"] == b"text/event-stream"
    events = [json.loads(line[6:]) for line in sent.body().decode().splitlines() if line.startswith("data: ")]
    assert events == [PROGRESS, ANSWER]
    assert sent.messages[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


async def test_a_json_only_client_gets_its_answer_and_nothing_else() -> None:
    sent = Sent()
    reply = PostReply(sent, can_stream=False, sse_only=False)
    assert not reply.push(PROGRESS)
    await reply.finish(ANSWER)
    assert reply.dropped == 1
    assert json.loads(sent.body()) == ANSWER


async def test_nothing_rides_on_a_reply_after_its_answer() -> None:
    """A relayed request handled after the call was answered (its task ran late) must not start a second
    response on the same request: push refuses, saying why."""
    for first in (None, PROGRESS):
        sent = Sent()
        reply = PostReply(sent, can_stream=True, sse_only=False)
        assert reply.refusal == "the client accepts only JSON answers"
        if first is not None:
            reply.push(first)
        await reply.finish(ANSWER)
        written = len(sent.messages)
        assert not reply.push(PROGRESS)
        assert reply.refusal == "the call it came with has already been answered"
        assert len(sent.messages) == written


async def test_an_sse_only_client_gets_even_a_lone_answer_as_an_event() -> None:
    sent = Sent()
    await PostReply(sent, can_stream=True, sse_only=True).finish(ANSWER)
    assert sent.headers()[b"content-type"] == b"text/event-stream"
    assert sent.body() == b"event: message\ndata: " + json.dumps(ANSWER, separators=(",", ":")).encode() + b"\n\n"


def test_capabilities_are_the_union_of_what_upstreams_offer_with_tools_always() -> None:
    assert server_capabilities([]) == {"tools": {"listChanged": True}}
    offered = server_capabilities(
        [
            {"tools": {}, "prompts": {}, "logging": {}},
            {
                "resources": {"subscribe": True},
                "completions": {},
                "tasks": {"list": {}, "requests": {"tools": {"call": {}}}},
            },
            {"resources": {}, "tasks": {"cancel": {}}},
        ]
    )
    assert offered == {
        "tools": {"listChanged": True},
        "prompts": {"listChanged": True},
        "resources": {"listChanged": True, "subscribe": True},
        "completions": {},
        "logging": {},
        "tasks": {"list": {}, "requests": {"tools": {"call": {}}}, "cancel": {}},
    }
