"""2026-07-28 clients through the real gateway, in front of a 2025-era upstream session.

The SDK's own `Client(mode="2026-07-28")` (code we did not write) calls the conformance upstream directly
(which is dual-era) and through mcpstead (which speaks the legacy era to it), and the results must agree:
the gateway bridges the era for tools, prompts, resources, completion, progress and per-request logging.
`subscriptions/listen` is driven on the raw wire, where its stream and `_meta` can be seen.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestParams,
    ElicitResult,
    LoggingMessageNotificationParams,
    PromptReference,
    TextContent,
)

from tests.conformance.suite import conformance_server
from tests.integration.gateway_harness import RunningGateway, run_gateway

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(60)]

MODERN = "2026-07-28"
ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "raw-modern", "version": "1"},
}


@dataclass(frozen=True)
class Env:
    gateway: RunningGateway
    conf: str


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env() -> AsyncIterator[Env]:
    config = "servers:\n  - name: conf\n    url: {}\n    prefix: false\n"
    async with conformance_server() as conf, run_gateway(config.format(conf.url)) as gateway:
        await gateway.wait_connected("conf")
        yield Env(gateway, conf.url)


def text_of(result: Any) -> str:
    return "".join(block.text for block in result.content if isinstance(block, TextContent))


async def test_the_sdk_modern_client_gets_what_it_gets_directly(env: Env) -> None:
    async def session(url: str) -> dict[str, Any]:
        async with Client(url, mode=MODERN) as client:
            assert client.protocol_version == MODERN
            tools = sorted(tool.name for tool in (await client.list_tools()).tools)
            simple = await client.call_tool("test_simple_text", {})
            failing = await client.call_tool("test_error_handling", {})
            prompt = await client.get_prompt("test_prompt_with_arguments", {"arg1": "a", "arg2": "b"})
            resource = await client.read_resource("test://static-text")
            completion = await client.complete(
                PromptReference(type="ref/prompt", name="test_prompt_with_arguments"), {"name": "arg1", "value": ""}
            )
            return {
                "tools": tools,
                "simple": text_of(simple),
                "error": (failing.is_error, text_of(failing)),
                "prompt": prompt.model_dump(mode="json", exclude={"meta"}),
                "resource": [c.model_dump(mode="json") for c in resource.contents],
                "completion": completion.completion.model_dump(mode="json"),
            }

    direct, through = await session(env.conf), await session(env.gateway.url)
    assert through == direct
    assert "test_simple_text" in through["tools"]


async def test_progress_and_log_messages_ride_the_request_that_asked(env: Env) -> None:
    async def logged(url: str, level: str | None) -> tuple[list[str], str]:
        seen: list[str] = []

        async def on_log(params: LoggingMessageNotificationParams) -> None:
            seen.append(str(params.data))

        async with Client(url, mode=MODERN, logging_callback=on_log, log_level=level) as client:  # type: ignore[arg-type]
            result = await client.call_tool("test_tool_with_logging", {})
        return seen, text_of(result)

    with_level = await logged(env.gateway.url, "info")
    assert with_level == await logged(env.conf, "info")
    assert with_level[0]  # the upstream logs at info: a modern client that asked gets them
    for too_quiet in ("error", None):  # and one that asked for less, or nothing, gets none
        # (the spec: no notifications/message for a request without a log level; the SDK's own server
        # sends them anyway when it is called directly, so here the gateway is the stricter one)
        assert (await logged(env.gateway.url, too_quiet))[0] == []

    async def progress(url: str) -> list[float]:
        steps: list[float] = []

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            steps.append(done)

        async with Client(url, mode=MODERN) as client:
            await client.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)
        return steps

    assert await progress(env.gateway.url) == await progress(env.conf) != []


def modern_headers(method: str, name: str | None = None) -> dict[str, str]:
    headers = {
        "accept": "application/json, text/event-stream",
        "content-type": "application/json",
        "mcp-protocol-version": MODERN,
        "mcp-method": method,
    }
    if name is not None:
        headers["mcp-name"] = name
    return headers


async def test_listen_streams_resource_updates_tagged_with_its_subscription(env: Env) -> None:
    uri = "test://watched-resource"
    listen = {
        "jsonrpc": "2.0",
        "id": "listen-1",
        "method": "subscriptions/listen",
        "params": {
            "notifications": {"toolsListChanged": True, "resourceSubscriptions": [uri]},
            "_meta": ENVELOPE,
        },
    }
    notify = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "test_notify_resource_updated", "arguments": {"uri": uri}, "_meta": ENVELOPE},
    }
    async with (
        httpx.AsyncClient(timeout=10) as http,
        http.stream("POST", env.gateway.url, json=listen, headers=modern_headers("subscriptions/listen")) as stream,
    ):
        assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
        events = aiter_events(stream)
        ack = await asyncio.wait_for(anext(events), 10)
        assert ack["method"] == "notifications/subscriptions/acknowledged"
        assert ack["params"]["notifications"] == {"toolsListChanged": True, "resourceSubscriptions": [uri]}
        assert ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "listen-1"
        health = await env.gateway.health()
        assert health["sessions"] == 1  # the listener, while its stream is open
        answer = await http.post(
            env.gateway.url, json=notify, headers=modern_headers("tools/call", "test_notify_resource_updated")
        )
        assert answer.json()["result"]["content"][0]["text"] == "ok"
        update = await asyncio.wait_for(anext(events), 10)
        assert update["method"] == "notifications/resources/updated"
        assert update["params"]["uri"] == uri
        assert update["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "listen-1"
    closed = await env.gateway.health()
    for _ in range(200):  # closing the stream ends the listener's session (bounded: 10 s)
        if closed["sessions"] == 0:
            break
        await asyncio.sleep(0.05)
        closed = await env.gateway.health()
    assert closed["sessions"] == 0


async def aiter_events(stream: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    async for line in stream.aiter_lines():
        if line.startswith("data: "):
            yield json.loads(line[6:])


# ---- MRTR: a legacy upstream's questions, for a modern client -------------------------------------------------


async def test_the_sdk_modern_client_answers_sampling_and_elicitation_through_input_required(env: Env) -> None:
    """The upstream asks sampling and elicitation in the 2025 way, mid-call; the modern client gets
    input_required, its callbacks answer, its retry carries them back, and the call ends as one call."""
    asked: list[str] = []

    async def sampling(ctx: Any, params: CreateMessageRequestParams) -> CreateMessageResult:
        asked.append("sampling")
        return CreateMessageResult(role="assistant", content=TextContent(type="text", text="pong"), model="m")

    async def elicitation(ctx: Any, params: ElicitRequestParams) -> ElicitResult:
        asked.append("elicitation")
        return ElicitResult(action="accept", content={"username": "u", "email": "e@example.com"})

    async with Client(env.gateway.url, mode=MODERN, sampling_callback=sampling, elicitation_callback=elicitation) as c:
        sampled = await c.call_tool("test_sampling", {"prompt": "ping"})
        elicited = await c.call_tool("test_elicitation", {"message": "who?"})
    assert (sampled.is_error, text_of(sampled)) == (False, "LLM response: pong")
    expected = 'User response: action=accept, content={"username": "u", "email": "e@example.com"}'
    assert (elicited.is_error, text_of(elicited)) == (False, expected)
    assert asked == ["sampling", "elicitation"]


async def test_a_client_without_the_capability_gets_minus_32021_naming_it(env: Env) -> None:
    """Declaring nothing (the call runs unparked, in the request's task) or another capability (parked)."""

    async def elicitation(ctx: Any, params: ElicitRequestParams) -> ElicitResult:
        raise AssertionError("not asked")

    for callbacks in ({}, {"elicitation_callback": elicitation}):
        async with Client(env.gateway.url, mode=MODERN, **callbacks) as client:
            with pytest.raises(MCPError) as raised:
                await client.call_tool("test_sampling", {"prompt": "ping"})
            assert raised.value.error.code == -32021, callbacks
            assert raised.value.error.data == {"requiredCapabilities": {"sampling": {}}}
            assert text_of(await client.call_tool("test_simple_text", {})) != ""  # and the next call is fine


def sampling_call(msg_id: Any, prompt: str = "ping", **extra: Any) -> dict[str, Any]:
    envelope = {**ENVELOPE, "io.modelcontextprotocol/clientCapabilities": {"sampling": {}}}
    params = {"name": "test_sampling", "arguments": {"prompt": prompt}, "_meta": envelope, **extra}
    return {"jsonrpc": "2.0", "id": msg_id, "method": "tools/call", "params": params}


SAMPLED = {"role": "assistant", "content": {"type": "text", "text": "raw pong"}, "model": "m"}


async def test_retries_on_the_wire(env: Env) -> None:
    headers = modern_headers("tools/call", "test_sampling")
    async with httpx.AsyncClient(timeout=10) as http:

        async def send(message: dict[str, Any]) -> httpx.Response:
            return await http.post(env.gateway.url, json=message, headers=headers)

        first = (await send(sampling_call(1))).json()["result"]
        assert first["resultType"] == "input_required"
        [(key, question)] = first["inputRequests"].items()
        assert question["method"] == "sampling/createMessage"
        assert question["params"]["messages"][0]["content"]["text"] == "ping"
        state = first["requestState"]

        tampered = await send(sampling_call(2, requestState=state[:-3] + "AAA", inputResponses={key: SAMPLED}))
        assert tampered.status_code == 400 and tampered.json()["error"]["code"] == -32602
        assert "altered" in tampered.json()["error"]["message"]
        other = await send(sampling_call(3, prompt="pong", requestState=state, inputResponses={key: SAMPLED}))
        assert "another request" in other.json()["error"]["message"]
        again = await send(sampling_call(4, requestState=state, inputResponses={}))  # nothing answered
        assert again.json()["result"]["inputRequests"] == {key: question}  # asked again, not an error
        state = again.json()["result"]["requestState"]

        done = (await send(sampling_call(5, requestState=state, inputResponses={key: SAMPLED}))).json()["result"]
        assert done["resultType"] == "complete"
        assert done["content"][0]["text"] == "LLM response: raw pong"
        replayed = await send(sampling_call(6, requestState=state, inputResponses={key: SAMPLED}))
        assert "no longer waiting" in replayed.json()["error"]["message"]


async def test_a_request_state_expires_with_its_upstream_call(env: Env) -> None:
    config = f"servers:\n  - name: conf\n    url: {env.conf}\n    prefix: false\n    timeout_seconds: 1\n"
    async with run_gateway(config) as gateway, httpx.AsyncClient(timeout=10) as http:
        await gateway.wait_connected("conf")
        headers = modern_headers("tools/call", "test_sampling")
        first = (await http.post(gateway.url, json=sampling_call(1), headers=headers)).json()["result"]
        [key] = first["inputRequests"]
        await asyncio.sleep(1.3)
        retry = sampling_call(2, requestState=first["requestState"], inputResponses={key: SAMPLED})
        late = await http.post(gateway.url, json=retry, headers=headers)
        assert late.status_code == 400 and "expired" in late.json()["error"]["message"]


async def test_closing_the_response_stream_cancels_the_call_upstream(env: Env) -> None:
    """On this wire the cancellation is the closed stream: the gateway cancels its (2025-era) upstream call,
    which the upstream hears as notifications/cancelled."""

    async def cancelled() -> list[dict[str, Any]]:
        async with Client(env.gateway.url, mode=MODERN) as observer:
            records: list[dict[str, Any]] = json.loads(text_of(await observer.call_tool("test_cancellations", {})))
        return records

    seen = len(await cancelled())
    slow = {
        "jsonrpc": "2.0",
        "id": "slow-1",
        "method": "tools/call",
        "params": {"name": "test_slow", "arguments": {"seconds": 30}, "_meta": {**ENVELOPE, "progressToken": "s"}},
    }
    async with (
        httpx.AsyncClient(timeout=10) as http,
        http.stream("POST", env.gateway.url, json=slow, headers=modern_headers("tools/call", "test_slow")) as stream,
    ):
        async for line in stream.aiter_lines():
            if line.startswith("data: "):
                assert json.loads(line[6:])["method"] == "notifications/progress"  # the upstream is working
                break
    for _ in range(200):  # bounded: 10 s
        records = (await cancelled())[seen:]
        if records and records[0]["reason"] is not None:
            break
        await asyncio.sleep(0.05)
    assert len(records) == 1 and records[0]["reason"] is not None
