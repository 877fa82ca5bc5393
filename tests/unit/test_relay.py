"""The relay: capability checks, progress tokens, log levels, and server-to-client requests with deadlines."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mcpstead.relay import InFlightCall, UpstreamInbound, missing_capability
from mcpstead.sessions import DownstreamSession
from tests.fakes import RecordingHooks


class Channel:
    refusal = "the client accepts only JSON answers"

    def __init__(self, can_stream: bool = True) -> None:
        self.can_stream = can_stream
        self.sent: list[dict[str, Any]] = []
        self.pushed = asyncio.Event()

    def push(self, message: dict[str, Any]) -> bool:
        if self.can_stream:
            self.sent.append(message)
            self.pushed.set()
        return self.can_stream

    async def first(self) -> dict[str, Any]:
        async with asyncio.timeout(5):
            await self.pushed.wait()
        return self.sent[0]


def session(capabilities: dict[str, Any] | None = None, level: str | None = None) -> DownstreamSession:
    made = DownstreamSession("s1", "2025-11-25", "client", "1", 0.0, 0.0, 0.0)
    made.capabilities = capabilities or {}
    made.log_level = level
    return made


def call(owner: DownstreamSession | None, channel: Channel | None, seconds: float = 5.0) -> InFlightCall:
    return InFlightCall("up", owner, channel, asyncio.get_running_loop().time() + seconds)


@pytest.mark.parametrize(
    ("capabilities", "method", "params", "missing"),
    [
        ({}, "sampling/createMessage", {}, "sampling"),
        ({"sampling": {}}, "sampling/createMessage", {}, None),
        ({"sampling": {}}, "sampling/createMessage", {"tools": [{"name": "t"}]}, "sampling.tools"),
        ({"sampling": {"tools": {}}}, "sampling/createMessage", {"tools": [{"name": "t"}]}, None),
        ({"elicitation": {}}, "elicitation/create", {"message": "?"}, None),
        ({"elicitation": {}}, "elicitation/create", {"mode": "url"}, "elicitation.url"),
        ({"elicitation": {"url": {}}}, "elicitation/create", {"mode": "form"}, "elicitation.form"),
        ({"elicitation": {"form": {}, "url": {}}}, "elicitation/create", {"mode": "url"}, None),
        ({}, "roots/list", None, "roots"),
        ({"roots": {"listChanged": True}}, "roots/list", None, None),
        ({}, "ping", None, None),
    ],
)
def test_missing_capability(capabilities: dict[str, Any], method: str, params: Any, missing: str | None) -> None:
    assert missing_capability(capabilities, method, params) == missing


async def test_progress_tokens_are_unique_upstream_and_the_clients_own_downstream() -> None:
    inbound = UpstreamInbound("up", RecordingHooks())
    channels = [Channel(), Channel()]
    calls = [call(session(), channel) for channel in channels]
    sent = [inbound.begin(c, {"name": "t", "_meta": {"progressToken": "same", "x": 1}}) for c in calls]
    tokens = [params["_meta"]["progressToken"] for params in sent if params is not None]
    assert len(set(tokens)) == 2 and "same" not in tokens
    assert all(params is not None and params["_meta"]["x"] == 1 for params in sent)
    for token in reversed(tokens):
        inbound.deliver(
            {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": token, "progress": 1}}
        )
    for channel in channels:
        assert channel.sent == [
            {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": "same", "progress": 1}}
        ]
    inbound.end(calls[0])
    inbound.deliver(
        {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": tokens[0], "progress": 2}}
    )
    assert len(channels[0].sent) == 1  # an ended call gets nothing more


async def test_params_without_a_progress_token_pass_as_the_same_object() -> None:
    inbound = UpstreamInbound("up", RecordingHooks())
    params = {"name": "t", "arguments": {}}
    assert inbound.begin(call(session(), Channel()), params) is params


async def test_log_messages_on_a_call_respect_the_sessions_level() -> None:
    channel = Channel()
    relay = call(session(level="warning"), channel)
    for level in ("debug", "info", "warning", "error"):
        relay.forward({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": level, "data": level}})
    assert [m["params"]["level"] for m in channel.sent] == ["warning", "error"]


async def test_untied_notifications_go_to_the_hooks_and_list_changes_to_the_catalog() -> None:
    changed: list[tuple[str, str]] = []
    hooks = RecordingHooks(on_list_changed=lambda upstream, kind: changed.append((upstream, kind)))
    inbound = UpstreamInbound("up", hooks)
    inbound.deliver({"jsonrpc": "2.0", "method": "notifications/prompts/list_changed"})
    inbound.deliver({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": 1}})
    assert changed == [("up", "prompts")]
    assert [m["method"] for m in hooks.untied_messages] == ["notifications/message"]


async def test_a_relayed_request_gets_a_fresh_id_and_the_clients_answer_goes_back_under_the_upstreams() -> None:
    owner, channel = session({"sampling": {}}), Channel()
    relay = call(owner, channel)
    request = {"jsonrpc": "2.0", "id": 41, "method": "sampling/createMessage", "params": {"messages": []}}
    answer = asyncio.create_task(relay.relay_request(request))
    relayed = await channel.first()
    assert relayed["method"] == "sampling/createMessage" and relayed["params"] == {"messages": []}
    assert relayed["id"] != 41 and str(relayed["id"]).startswith("mcpstead-")
    assert owner.resolve_client_answer({"jsonrpc": "2.0", "id": relayed["id"], "result": {"role": "assistant"}})
    assert await answer == {"jsonrpc": "2.0", "id": 41, "result": {"role": "assistant"}}
    assert not owner.resolve_client_answer({"jsonrpc": "2.0", "id": relayed["id"], "result": {}})  # once only


async def test_a_client_without_the_capability_is_answered_for_at_once() -> None:
    channel = Channel()
    answer = await call(session(), channel).relay_request({"jsonrpc": "2.0", "id": 1, "method": "roots/list"})
    assert answer is not None and answer["error"]["code"] == -32601
    assert "'roots' capability" in answer["error"]["message"]
    assert channel.sent == []


async def test_a_json_only_client_or_a_call_without_a_client_cannot_be_asked() -> None:
    for relay in (call(session({"sampling": {}}), Channel(can_stream=False)), call(None, None)):
        answer = await relay.relay_request({"jsonrpc": "2.0", "id": 2, "method": "sampling/createMessage"})
        assert answer is not None and answer["id"] == 2 and "cannot relay" in answer["error"]["message"]


async def test_a_client_that_never_answers_is_answered_for_at_the_calls_deadline() -> None:
    relay = call(session({"elicitation": {}}), Channel(), seconds=0.05)
    answer = await relay.relay_request({"jsonrpc": "2.0", "id": 3, "method": "elicitation/create", "params": {}})
    assert answer is not None and answer["error"]["code"] == -32603 and "in time" in answer["error"]["message"]


async def test_an_ended_session_fails_what_it_was_asked_and_refuses_new_requests() -> None:
    owner = session({"sampling": {}})
    relay = call(owner, Channel())
    pending = asyncio.create_task(relay.relay_request({"jsonrpc": "2.0", "id": 4, "method": "sampling/createMessage"}))
    await asyncio.sleep(0)
    owner.end()
    answer = await pending
    assert answer is not None and answer["id"] == 4 and "session ended" in answer["error"]["message"]
    again = await relay.relay_request({"jsonrpc": "2.0", "id": 5, "method": "sampling/createMessage"})
    assert again is not None and "has ended" in again["error"]["message"]


async def test_the_upstream_cancelling_its_request_tells_the_client_and_sends_nothing_back() -> None:
    owner, channel = session({"sampling": {}}), Channel()
    inbound = UpstreamInbound("up", RecordingHooks())
    relay = call(owner, channel)
    inbound.begin(relay, None)
    pending = asyncio.create_task(
        inbound.answer({"jsonrpc": "2.0", "id": 9, "method": "sampling/createMessage"}, relay)
    )
    relayed_id = (await channel.first())["id"]
    inbound.deliver({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 9, "reason": "no"}})
    assert await pending is None
    assert channel.sent[-1] == {
        "jsonrpc": "2.0",
        "method": "notifications/cancelled",
        "params": {"requestId": relayed_id, "reason": "no"},
    }


async def test_out_of_band_requests_go_to_the_only_call_in_flight() -> None:
    owner, channel = session({"roots": {}}), Channel()
    inbound = UpstreamInbound("up", RecordingHooks())
    relay = call(owner, channel)
    inbound.begin(relay, None)
    pending = asyncio.create_task(inbound.answer({"jsonrpc": "2.0", "id": 1, "method": "roots/list"}, out_of_band=True))
    owner.resolve_client_answer({"jsonrpc": "2.0", "id": (await channel.first())["id"], "result": {"roots": []}})
    assert await pending == {"jsonrpc": "2.0", "id": 1, "result": {"roots": []}}


async def test_on_a_transport_with_streams_per_request_an_untied_request_is_not_given_to_a_call() -> None:
    owner, channel = session({"roots": {}}), Channel()
    hooks = RecordingHooks()
    inbound = UpstreamInbound("up", hooks)
    inbound.begin(call(owner, channel), None)
    assert await inbound.answer({"jsonrpc": "2.0", "id": 1, "method": "roots/list"}) is None  # the hooks' answer
    assert channel.sent == [] and [m["method"] for m in hooks.untied_messages] == ["roots/list"]


@pytest.mark.parametrize(
    "reply", [{"error": "no"}, {"error": {"code": "x", "message": "m"}}, {"result": 1, "error": {}}]
)
async def test_a_malformed_client_answer_is_refused_for_the_upstream(reply: dict[str, Any]) -> None:
    owner, channel = session({"sampling": {}}), Channel()
    relay = call(owner, channel)
    pending = asyncio.create_task(relay.relay_request({"jsonrpc": "2.0", "id": 8, "method": "sampling/createMessage"}))
    owner.resolve_client_answer({"jsonrpc": "2.0", "id": (await channel.first())["id"], **reply})
    answer = await pending
    assert answer is not None and answer["id"] == 8 and "not a JSON-RPC response" in answer["error"]["message"]


async def test_a_relayed_request_gives_up_before_the_call_and_tells_the_client() -> None:
    owner, channel = session({"sampling": {}}), Channel()
    relay = call(owner, channel, seconds=0.5)
    started = asyncio.get_running_loop().time()
    answer = await relay.relay_request({"jsonrpc": "2.0", "id": 6, "method": "sampling/createMessage"})
    assert asyncio.get_running_loop().time() - started < 0.5  # before the call's own deadline
    assert answer is not None and "in time" in answer["error"]["message"]
    relayed_id = channel.sent[0]["id"]
    assert channel.sent[-1]["method"] == "notifications/cancelled"
    assert channel.sent[-1]["params"]["requestId"] == relayed_id
