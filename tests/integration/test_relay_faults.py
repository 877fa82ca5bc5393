"""Faults on the relay paths: names nobody serves, clients that answer a relayed request badly or not at all,
clients that leave while an upstream waits on them, and subscriptions that outlive their session.

A raw HTTP client plays the misbehaving downstream; the upstreams are the conformance server (a child
process) and tests/integration/recording_upstream.py, which records what reached it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import ListRootsResult, Root
from pydantic import FileUrl

from tests.conformance.suite import conformance_server
from tests.integration.gateway_harness import RunningGateway, run_gateway
from tests.integration.recording_upstream import serve_recording_upstream

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(60),
    pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning"),
]

CALL_TIMEOUT = 2
"""timeout_seconds of the upstream under test: every wait on a client's behalf ends by then."""
SLACK = 2.0
"""What the test allows beyond CALL_TIMEOUT before calling it a hang."""
SAMPLING: dict[str, Any] = {"sampling": {}}


def config(name: str, url: str, session: str = "shared", timeout: float = CALL_TIMEOUT) -> str:
    return f"""
servers:
  - name: {name}
    url: {url}
    session: {session}
    timeout_seconds: {timeout}
"""


class RawClient:
    """A downstream client on bare HTTP: it declares what it likes and answers (or not) as the test says."""

    def __init__(self, gateway: RunningGateway, http: httpx.AsyncClient) -> None:
        self.url = gateway.url
        self.http = http
        self.headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
        self._ids = itertools.count(1)

    async def initialize(self, capabilities: dict[str, Any]) -> None:
        params = {"protocolVersion": "2025-11-25", "capabilities": capabilities, "clientInfo": {"name": "raw"}}
        response = await self.http.post(self.url, headers=self.headers, json=self._request("initialize", params))
        assert response.status_code == 200, response.text
        self.headers["mcp-session-id"] = response.headers["mcp-session-id"]
        self.headers["mcp-protocol-version"] = "2025-11-25"
        await self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def _request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}

    async def send(self, message: Any) -> httpx.Response:
        """POST one message that is not a request (a notification, or an answer to a relayed request)."""
        content = message if isinstance(message, bytes) else json.dumps(message).encode()
        return await self.http.post(self.url, headers=self.headers, content=content)

    async def rpc(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(self.url, headers=self.headers, json=self._request(method, params))
        assert response.status_code == 200, response.text
        (answer,) = (
            [m for m in parse_sse(response.text) if "method" not in m] if is_sse(response) else [response.json()]
        )
        return answer

    @contextlib.asynccontextmanager
    async def call(self, tool: str, arguments: dict[str, Any]) -> AsyncIterator[Messages]:
        """A tools/call whose stream the test reads message by message."""
        body = self._request("tools/call", {"name": tool, "arguments": arguments})
        async with self.http.stream("POST", self.url, headers=self.headers, json=body) as response:
            assert response.status_code == 200
            yield Messages(response)

    async def delete(self) -> None:
        response = await self.http.delete(self.url, headers=self.headers)
        assert response.status_code == 204, response.text


def is_sse(response: httpx.Response) -> bool:
    return str(response.headers.get("content-type", "")).startswith("text/event-stream")


def parse_sse(text: str) -> list[dict[str, Any]]:
    return [json.loads(line[len("data: ") :]) for line in text.splitlines() if line.startswith("data: ")]


class Messages:
    """The JSON-RPC messages of one POST's answer, JSON or SSE, in order."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._lines = response.aiter_lines()

    async def next(self, timeout: float = CALL_TIMEOUT + SLACK) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            if not is_sse(self._response):
                return json.loads(await self._response.aread())  # type: ignore[no-any-return]
            async for line in self._lines:
                if line.startswith("data: "):
                    return json.loads(line[len("data: ") :])  # type: ignore[no-any-return]
        raise AssertionError("the stream ended without another message")

    async def request(self, method: str) -> dict[str, Any]:
        """The next message, which must be a request the gateway relays."""
        message = await self.next()
        assert message.get("method") == method and "id" in message, message
        return message

    async def answer(self) -> tuple[dict[str, Any], float]:
        """The call's answer (skipping notifications) and when it came (monotonic)."""
        while "method" in (message := await self.next()):
            pass
        return message, time.monotonic()


@contextlib.asynccontextmanager
async def raw_client(gateway: RunningGateway, capabilities: dict[str, Any]) -> AsyncIterator[RawClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=CALL_TIMEOUT + 3 * SLACK)) as http:
        client = RawClient(gateway, http)
        await client.initialize(capabilities)
        yield client


def result_text(answer: dict[str, Any]) -> str:
    assert "result" in answer, answer
    (content,) = answer["result"]["content"]
    return str(content["text"])


# -- names nobody serves ---------------------------------------------------------------------------------


async def test_unknown_uris_and_prompts_are_invalid_params_naming_them() -> None:
    async with (
        serve_recording_upstream() as (url, _record),
        run_gateway(config("rec", url)) as gateway,
        Client(gateway.url, mode="legacy") as client,
    ):
        await gateway.wait_connected("rec")
        with pytest.raises(MCPError) as unknown:
            await client.read_resource("file:///nobody/serves/this")
        assert unknown.value.error.code == -32602
        assert "file:///nobody/serves/this" in unknown.value.error.message
        assert unknown.value.error.data == {"uri": "file:///nobody/serves/this"}

        with pytest.raises(MCPError) as subscribe:
            await client.subscribe_resource("file:///nobody/serves/this")
        assert subscribe.value.error.code == -32602

        # note://{id} matches: the upstream answers for itself, and its error reaches the client unchanged.
        with pytest.raises(MCPError) as upstream_own:
            await client.read_resource("note://missing")
        assert upstream_own.value.error.code == -32002
        assert upstream_own.value.error.message == "no such note: note://missing"
        assert upstream_own.value.error.data == {"uri": "note://missing", "from": "upstream"}
        assert (await client.read_resource("note://1")).contents[0].text == "note one"  # type: ignore[union-attr]

        with pytest.raises(MCPError) as prompt:
            await client.get_prompt("rec__no_such_prompt")
        assert prompt.value.error.code == -32602
        assert "rec__no_such_prompt" in prompt.value.error.message


async def test_unknown_conformance_resource_and_prompt() -> None:
    async with conformance_server() as server, run_gateway(config("conf", server.url)) as gateway:
        await gateway.wait_connected("conf")
        async with Client(gateway.url, mode="legacy") as client:
            with pytest.raises(MCPError) as unknown:
                await client.read_resource("test://no-such-resource")
            assert unknown.value.error.code == -32602
            assert "test://no-such-resource" in unknown.value.error.message
            # A URI the upstream's template matches is the upstream's to answer.
            served = await client.read_resource("test://template/42/data")
            assert json.loads(served.contents[0].text)["id"] == "42"  # type: ignore[union-attr]
            with pytest.raises(MCPError) as prompt:
                await client.get_prompt("conf__test_no_such_prompt")
            assert prompt.value.error.code == -32602
            assert "conf__test_no_such_prompt" in prompt.value.error.message
            with pytest.raises(MCPError) as unprefixed:
                await client.get_prompt("test_simple_prompt")  # the upstream's own name is not the client's
            assert unprefixed.value.error.code == -32602


# -- clients that answer a relayed request badly, or never -------------------------------------------------

BAD_ANSWERS: dict[str, Any] = {
    # A JSON-RPC response whose result is not a CreateMessageResult: relayed as is, the upstream rejects it.
    "wrong_result": lambda relayed: {"jsonrpc": "2.0", "id": relayed, "result": {"nonsense": True}},
    # An error whose shape is wrong: relayed, the upstream sees an error.
    "string_error": lambda relayed: {"jsonrpc": "2.0", "id": relayed, "error": "no"},
    # Not a JSON-RPC message at all (no result, no error): 400, and the wait ends at the deadline.
    "no_result": lambda relayed: {"jsonrpc": "2.0", "id": relayed},
    # Not JSON.
    "not_json": lambda relayed: b"{this is not json",
    # Silence.
    "never": None,
}


@pytest.mark.parametrize("answer", list(BAD_ANSWERS))
async def test_a_bad_answer_to_a_relayed_request_ends_the_call_within_its_timeout(answer: str) -> None:
    async with (
        serve_recording_upstream() as (url, record),
        run_gateway(config("rec", url)) as gateway,
        raw_client(gateway, SAMPLING) as client,
    ):
        await gateway.wait_connected("rec")
        started = time.monotonic()
        async with client.call("rec__sample", {"prompt": "hi"}) as stream:
            relayed = await stream.request("sampling/createMessage")
            assert str(relayed["id"]).startswith("mcpstead-")
            make = BAD_ANSWERS[answer]
            if make is not None:
                posted = await client.send(make(relayed["id"]))
                assert posted.status_code in (202, 400), posted.text
            reply, ended = await stream.answer()
        assert ended - started < CALL_TIMEOUT + SLACK, f"the call took {ended - started:.1f}s"
        await record.wait_for(lambda: len(record.outcomes) == 1, SLACK)
        (outcome,) = record.outcomes
        assert not outcome.startswith("ok"), outcome
        if answer in ("no_result", "not_json", "never"):
            assert outcome == "error: the client did not answer 'sampling/createMessage' in time"
        # The call ended: with the upstream's own answer when it came in time, else the gateway's timeout.
        if "error" in reply:
            assert reply["error"]["code"] == -32000 and "timed out" in reply["error"]["message"], reply
        else:
            assert result_text(reply) == outcome
        # The session is still usable.
        assert (await client.rpc("ping", {}))["result"] == {}


# -- clients that have gone -------------------------------------------------------------------------------


async def test_a_session_deleted_while_the_upstream_waits_on_it_fails_the_request_at_once() -> None:
    """Shared upstream session: the call runs on and answers; the relayed request gets an error at once."""
    async with (
        serve_recording_upstream() as (url, record),
        run_gateway(config("rec", url, timeout=30)) as gateway,
        raw_client(gateway, SAMPLING) as client,
    ):
        await gateway.wait_connected("rec")
        async with client.call("rec__sample", {"prompt": "hi"}) as stream:
            await stream.request("sampling/createMessage")
            deleted_at = time.monotonic()
            await client.delete()
            await record.wait_for(lambda: bool(record.outcomes), SLACK)
            assert time.monotonic() - deleted_at < SLACK
            assert record.outcomes == ["error: the client's session ended before it answered"]
            reply, ended = await stream.answer()
        assert ended - deleted_at < SLACK
        assert result_text(reply) == "error: the client's session ended before it answered"


async def test_a_request_for_a_session_already_gone_is_refused_at_once() -> None:
    async with (
        serve_recording_upstream() as (url, record),
        run_gateway(config("rec", url, timeout=30)) as gateway,
        raw_client(gateway, SAMPLING) as client,
    ):
        await gateway.wait_connected("rec")

        async def call() -> tuple[dict[str, Any], float]:
            async with client.call("rec__sample_later", {"seconds": 0.5, "prompt": "hi"}) as stream:
                return await stream.answer()

        calling = asyncio.create_task(call())
        await record.wait_for(lambda: "sample_later" in record.calls)
        await client.delete()  # before the upstream asks
        deleted_at = time.monotonic()
        await record.wait_for(lambda: bool(record.outcomes), SLACK)
        (outcome,) = record.outcomes
        assert outcome == "error: mcpstead cannot relay 'sampling/createMessage': the client's session has ended"
        async with asyncio.timeout(SLACK):
            reply, ended = await calling
        assert ended - deleted_at < SLACK
        assert result_text(reply) == outcome


async def test_a_per_client_session_deleted_mid_call_ends_the_call_at_once() -> None:
    """Per-client: the upstream session closes with the downstream one, so the call in flight ends too."""
    async with (
        serve_recording_upstream() as (url, record),
        run_gateway(config("rec", url, session="per_client", timeout=CALL_TIMEOUT + 3 * SLACK)) as gateway,
        raw_client(gateway, SAMPLING) as client,
    ):
        await gateway.wait_connected("rec")
        async with client.call("rec__sample", {"prompt": "hi"}) as stream:
            await stream.request("sampling/createMessage")
            deleted_at = time.monotonic()
            await client.delete()
            await record.wait_for(lambda: len(record.deleted) == 1, SLACK)
            assert time.monotonic() - deleted_at < SLACK
            with contextlib.suppress(httpx.HTTPError, AssertionError):  # an answer, or the stream just ends
                reply, _ = await stream.answer()
                assert "error" in reply or "session ended" in result_text(reply), reply
        assert time.monotonic() - deleted_at < SLACK


# -- subscriptions of ended sessions ------------------------------------------------------------------------


async def test_a_shared_subscription_is_dropped_upstream_when_its_last_session_ends() -> None:
    async with (
        serve_recording_upstream() as (url, record),
        run_gateway(config("rec", url, timeout=10)) as gateway,
    ):
        await gateway.wait_connected("rec")
        (shared,) = record.opened
        async with Client(gateway.url, mode="legacy") as keeper:
            async with Client(gateway.url, mode="legacy") as leaver:
                await leaver.subscribe_resource("note://1")
                await keeper.subscribe_resource("note://1")
                await leaver.subscribe_resource("note://2")
                assert record.subscribed == [(shared, "note://1"), (shared, "note://2")]  # one upstream subscription
            # The leaver's exit (DELETE) drops what only it wanted.
            await record.wait_for(lambda: (shared, "note://2") in record.unsubscribed)
            assert record.unsubscribed == [(shared, "note://2")]
        await record.wait_for(lambda: (shared, "note://1") in record.unsubscribed)
        assert record.unsubscribed == [(shared, "note://2"), (shared, "note://1")]


async def test_a_per_client_subscription_ends_with_its_upstream_session() -> None:
    async with (
        serve_recording_upstream() as (url, record),
        run_gateway(config("rec", url, session="per_client", timeout=10)) as gateway,
    ):
        await gateway.wait_connected("rec")
        async with Client(gateway.url, mode="legacy") as client:
            await client.subscribe_resource("note://1")
            ((mine, uri),) = record.subscribed
            assert uri == "note://1" and mine != record.opened[0]
        # Its upstream session is ended (DELETE), which takes the subscription with it.
        await record.wait_for(lambda: mine in record.deleted)


# -- requests outside any call on a shared upstream session ----------------------------------------------------

SHARED_REFUSAL = "error: mcpstead cannot tell which client 'roots/list' is for"


def roots_answering(name: str, asked: list[str]) -> Any:
    async def list_roots(context: Any) -> ListRootsResult:
        asked.append(name)
        return ListRootsResult(roots=[Root(uri=FileUrl(f"file:///work/{name}"), name=name)])

    return list_roots


async def test_a_shared_session_request_outside_any_call_is_refused_at_once_with_the_reason() -> None:
    asked: list[str] = []
    async with (
        serve_recording_upstream() as (url, record),
        run_gateway(config("rec", url, timeout=30)) as gateway,
        Client(gateway.url, mode="legacy", list_roots_callback=roots_answering("one", asked)) as one,
    ):
        await gateway.wait_connected("rec")
        (shared,) = record.opened
        await one.session.send_roots_list_changed()
        await record.wait_for(lambda: shared in record.roots, SLACK)
        ((answer,),) = record.roots[shared]
        assert answer.startswith(SHARED_REFUSAL) and "session: per_client" in answer, answer
        assert asked == []


async def test_a_shared_session_request_outside_any_call_is_not_given_to_whoever_has_a_call_in_flight() -> None:
    asked: list[str] = []
    async with (
        serve_recording_upstream() as (url, record),
        run_gateway(config("rec", url, timeout=30)) as gateway,
        Client(gateway.url, mode="legacy", list_roots_callback=roots_answering("busy", asked)) as busy,
        Client(gateway.url, mode="legacy", list_roots_callback=roots_answering("changer", asked)) as changer,
    ):
        await gateway.wait_connected("rec")
        (shared,) = record.opened
        sleeping = asyncio.create_task(busy.call_tool("rec__sleep", {"seconds": 1.0}))
        try:
            await record.wait_for(lambda: "sleep" in record.calls)
            await changer.session.send_roots_list_changed()
            await record.wait_for(lambda: shared in record.roots, SLACK)
        finally:
            async with asyncio.timeout(SLACK + 1):
                await sleeping
        ((answer,),) = record.roots[shared]
        assert asked == [], f"the roots of {asked} answered a request no call made"
        assert isinstance(answer, str) and answer.startswith(SHARED_REFUSAL), answer
