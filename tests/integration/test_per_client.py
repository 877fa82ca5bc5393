"""`session: per_client`: every downstream session gets an upstream session of its own, opened with that
client's capabilities, roots and log level, and closed when the downstream session ends.

The upstreams are the conformance server (a child process) and tests/integration/recording_upstream.py (in
this loop), which shows the gateway from the upstream's side: which sessions were opened and ended, and
what a server-to-client request outside any call was answered with.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.client.session import ClientRequestContext, ListRootsFnT
from mcp.shared.exceptions import MCPError
from mcp.types import (
    CallToolResult,
    CreateMessageRequestParams,
    CreateMessageResult,
    ErrorData,
    Implementation,
    ListRootsResult,
    LoggingMessageNotificationParams,
    ResourceUpdatedNotification,
    Root,
    TextContent,
)
from pydantic import FileUrl

from tests.conformance.suite import conformance_server
from tests.integration.gateway_harness import RunningGateway, run_gateway
from tests.integration.recording_upstream import serve_recording_upstream

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(60),
    # logging/setLevel and roots are deprecated in 2026-07-28, and still what 2025-era clients use.
    pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning"),
]

WAIT = 5.0
"""Upper bound for anything the gateway does in the background (closing an upstream session, a relay)."""


def per_client(name: str, url: str, extra: str = "") -> str:
    return f"""
servers:
  - name: {name}
    url: {url}
    session: per_client
    timeout_seconds: 10
{extra}"""


def text_of(result: CallToolResult) -> str:
    (content,) = result.content
    assert isinstance(content, TextContent), result
    return content.text


async def sampled(context: ClientRequestContext, params: CreateMessageRequestParams) -> CreateMessageResult:
    return CreateMessageResult(
        role="assistant", content=TextContent(type="text", text="client one samples"), model="test-model"
    )


def roots_of(name: str, asked: list[str] | None = None) -> ListRootsFnT:
    async def list_roots(context: ClientRequestContext) -> ListRootsResult | ErrorData:
        if asked is not None:
            asked.append(name)
        return ListRootsResult(roots=[Root(uri=FileUrl(f"file:///work/{name}"), name=name)])

    return list_roots


async def client_sessions(gateway: RunningGateway, upstream: str) -> int:
    servers = {server["name"]: server for server in (await gateway.health())["servers"]}
    count: int = servers[upstream]["client_sessions"]
    return count


async def test_each_client_gets_its_own_sampling_roots_and_log_level() -> None:
    logs_one: list[LoggingMessageNotificationParams] = []
    logs_two: list[LoggingMessageNotificationParams] = []

    async def log_one(params: LoggingMessageNotificationParams) -> None:
        logs_one.append(params)

    async def log_two(params: LoggingMessageNotificationParams) -> None:
        logs_two.append(params)

    async with conformance_server() as server:
        # What each client gets talking to the upstream directly.
        async with (
            Client(server.url, mode="legacy", sampling_callback=sampled, list_roots_callback=roots_of("one")) as one,
            Client(server.url, mode="legacy", list_roots_callback=roots_of("two")) as two,
        ):
            direct_one = await one.call_tool("test_sampling", {"prompt": "hi"})
            direct_two = await two.call_tool("test_sampling", {"prompt": "hi"})
        assert text_of(direct_one) == "LLM response: client one samples"
        assert direct_two.is_error and text_of(direct_two).startswith("Sampling not supported or error:")

        async with run_gateway(per_client("conf", server.url)) as gateway:
            await gateway.wait_connected("conf")
            async with (
                Client(
                    gateway.url,
                    mode="legacy",
                    sampling_callback=sampled,
                    list_roots_callback=roots_of("one"),
                    logging_callback=log_one,
                ) as one,
                Client(
                    gateway.url, mode="legacy", list_roots_callback=roots_of("two"), logging_callback=log_two
                ) as two,
            ):
                through_one = await one.call_tool("conf__test_sampling", {"prompt": "hi"})
                through_two = await two.call_tool("conf__test_sampling", {"prompt": "hi"})
                assert through_one.model_dump() == direct_one.model_dump()
                assert through_two.is_error is True
                assert text_of(through_two).startswith("Sampling not supported or error:")
                assert "sampling" in text_of(through_two)

                roots_one = json.loads(text_of(await one.call_tool("conf__test_list_roots")))
                roots_two = json.loads(text_of(await two.call_tool("conf__test_list_roots")))
                assert roots_one == [{"uri": "file:///work/one", "name": "one"}]
                assert roots_two == [{"uri": "file:///work/two", "name": "two"}]

                await one.set_logging_level("error")
                await two.set_logging_level("debug")
                assert text_of(await one.call_tool("conf__test_tool_with_logging")).endswith("successfully")
                assert text_of(await two.call_tool("conf__test_tool_with_logging")).endswith("successfully")
                assert logs_one == []
                assert [entry.data for entry in logs_two] == [
                    "Tool execution started",
                    "Tool processing data",
                    "Tool execution completed",
                ]
                # And back: the level is each client's own, on its own upstream session.
                await one.set_logging_level("info")
                await one.call_tool("conf__test_tool_with_logging")
                assert len(logs_one) == 3
                assert len(logs_two) == 3

                assert await client_sessions(gateway, "conf") == 2


async def test_one_upstream_session_per_downstream_session_closed_with_it() -> None:
    async with serve_recording_upstream() as (url, record), run_gateway(per_client("rec", url)) as gateway:
        await gateway.wait_connected("rec")
        (shared,) = record.opened  # the gateway's own session: lists, health checks
        async with Client(gateway.url, mode="legacy") as one, Client(gateway.url, mode="legacy") as two:
            assert record.opened == [shared], "a per-client session opens at the client's first request"
            first = text_of(await one.call_tool("rec__whoami"))
            again = text_of(await one.call_tool("rec__whoami"))
            second = text_of(await two.call_tool("rec__whoami"))
            assert first == again
            assert len({shared, first, second}) == 3
            assert record.opened == [shared, first, second]
            assert await client_sessions(gateway, "rec") == 2

            # A raw client's DELETE /mcp ends its upstream session too.
            raw = await gateway.session()
            third = text_of(CallToolResult.model_validate((await raw.call_tool("rec__whoami"))["result"]))
            assert third not in (shared, first, second)
            async with httpx.AsyncClient() as http:
                deleted = await http.delete(gateway.url, headers=raw.headers, timeout=5)
            assert deleted.status_code == 204
            await record.wait_for(lambda: third in record.deleted, WAIT)
            assert record.deleted == [third]
        # The SDK clients exiting (their DELETE) close theirs.
        await record.wait_for(lambda: {first, second} <= set(record.deleted), WAIT)
        assert shared not in record.deleted
        assert await client_sessions(gateway, "rec") == 0


async def test_max_sessions_is_a_clear_error_and_frees_up_when_a_client_leaves() -> None:
    async with (
        serve_recording_upstream() as (url, record),
        run_gateway(per_client("rec", url, "    max_sessions: 1\n")) as gateway,
    ):
        await gateway.wait_connected("rec")
        async with Client(gateway.url, mode="legacy") as two:
            async with Client(gateway.url, mode="legacy") as one:
                mine = text_of(await one.call_tool("rec__whoami"))
                async with asyncio.timeout(WAIT):  # never a hang
                    with pytest.raises(MCPError) as refused:
                        await two.call_tool("rec__whoami")
                assert refused.value.error.code == -32000
                message = refused.value.error.message
                assert "max_sessions" in message and "1 per-client session" in message, message
                assert refused.value.error.data == {"upstream": "rec"}
                # Lists are the gateway's own: the client over the limit still sees the tools.
                assert "rec__whoami" in {tool.name for tool in (await two.list_tools()).tools}
            await record.wait_for(lambda: mine in record.deleted, WAIT)
            async with asyncio.timeout(WAIT):
                theirs = text_of(await two.call_tool("rec__whoami"))
            assert theirs not in (mine, record.opened[0])


async def test_a_request_outside_any_call_reaches_the_client_that_owns_the_upstream_session() -> None:
    asked: list[str] = []
    async with serve_recording_upstream() as (url, record), run_gateway(per_client("rec", url)) as gateway:
        await gateway.wait_connected("rec")
        async with (
            Client(gateway.url, mode="legacy", list_roots_callback=roots_of("one", asked)) as one,
            Client(gateway.url, mode="legacy", list_roots_callback=roots_of("two", asked)) as two,
        ):
            up_one = text_of(await one.call_tool("rec__whoami"))
            up_two = text_of(await two.call_tool("rec__whoami"))

            # notifications/roots/list_changed makes the upstream ask roots/list on its standalone stream.
            await one.session.send_roots_list_changed()
            await record.wait_for(lambda: up_one in record.roots, WAIT)
            assert record.roots == {up_one: [[{"uri": "file:///work/one", "name": "one"}]]}
            assert asked == ["one"]

            await two.session.send_roots_list_changed()
            await record.wait_for(lambda: up_two in record.roots, WAIT)
            assert record.roots[up_two] == [[{"uri": "file:///work/two", "name": "two"}]]
            assert record.roots[up_one] == [[{"uri": "file:///work/one", "name": "one"}]]
            assert asked == ["one", "two"]


async def test_a_client_without_the_roots_capability_is_refused_outside_a_call_at_once() -> None:
    """The owner did not declare roots: the upstream's out-of-call roots/list gets an error, not a wait."""
    async with serve_recording_upstream() as (url, record), run_gateway(per_client("rec", url)) as gateway:
        await gateway.wait_connected("rec")
        async with McpRaw(gateway) as raw:
            upstream_session = text_of(CallToolResult.model_validate((await raw.call("rec__whoami"))["result"]))
            await raw.notify("notifications/roots/list_changed")
            await record.wait_for(lambda: upstream_session in record.roots, WAIT)
        (((answer,),),) = record.roots.values()
        assert answer.startswith("error: ") and "'roots' capability" in answer, answer


class McpRaw:
    """A raw session (no capabilities) that can also send notifications; ended with DELETE on exit."""

    def __init__(self, gateway: RunningGateway) -> None:
        self.gateway = gateway

    async def __aenter__(self) -> McpRaw:
        self.session = await self.gateway.session()
        self.http = httpx.AsyncClient(headers=self.session.headers, timeout=10)
        return self

    async def call(self, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.session.call_tool(tool, arguments)

    async def notify(self, method: str) -> None:
        response = await self.http.post(self.gateway.url, json={"jsonrpc": "2.0", "method": method})
        assert response.status_code == 202, response.text

    async def __aexit__(self, *exc: object) -> None:
        await self.http.delete(self.gateway.url)
        await self.http.aclose()


async def test_a_resource_update_reaches_each_subscriber_once_as_directly() -> None:
    def recorder(seen: list[str], arrived: asyncio.Event) -> Any:
        async def on_message(message: Any) -> None:
            if isinstance(message, ResourceUpdatedNotification):
                seen.append(str(message.params.uri))
                arrived.set()

        return on_message

    async def updates(url: str, tool: str) -> tuple[list[str], list[str]]:
        one_seen: list[str] = []
        two_seen: list[str] = []
        arrived = asyncio.Event()
        async with (
            Client(url, mode="legacy", message_handler=recorder(one_seen, arrived)) as one,
            Client(url, mode="legacy", message_handler=recorder(two_seen, arrived)) as two,
        ):
            await one.subscribe_resource("test://watched-resource")
            await two.subscribe_resource("test://watched-resource")
            assert text_of(await one.call_tool(tool, {"uri": "test://watched-resource"})) == "ok"
            # Updates travel on the GET streams: wait until both have theirs, then a little for duplicates.
            async with asyncio.timeout(WAIT):
                while not (one_seen and two_seen):
                    arrived.clear()
                    await arrived.wait()
            await asyncio.sleep(0.5)
        return one_seen, two_seen

    async with conformance_server() as server:
        direct = await updates(server.url, "test_notify_resource_updated")
        assert direct == (["test://watched-resource"], ["test://watched-resource"])
        async with run_gateway(per_client("conf", server.url)) as gateway:
            await gateway.wait_connected("conf")
            through = await updates(gateway.url, "conf__test_notify_resource_updated")
    assert through == direct


async def test_a_per_client_session_the_upstream_forgot_is_reopened_with_the_clients_capabilities() -> None:
    async with serve_recording_upstream() as (url, _record), run_gateway(per_client("rec", url)) as gateway:
        await gateway.wait_connected("rec")
        async with Client(gateway.url, mode="legacy", client_info=Implementation(name="plain", version="1")) as plain:
            before = json.loads(text_of(await plain.call_tool("rec__client")))
            assert before == {"capabilities": {}, "clientInfo": {"name": "plain", "version": "1"}}
            upstream_session = text_of(await plain.call_tool("rec__whoami"))
            async with httpx.AsyncClient() as http:  # the upstream ends that session by itself
                ended = await http.delete(url, headers={"mcp-session-id": upstream_session}, timeout=5)
            assert ended.status_code < 300
            assert text_of(await plain.call_tool("rec__whoami")) != upstream_session  # re-initialized
            after = json.loads(text_of(await plain.call_tool("rec__client")))
            assert after == before
