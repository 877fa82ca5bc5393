"""The four combinations of client era and upstream era, through mcpstead, against calling directly.

The upstream is an `mcp` SDK `MCPServer` whose tools ask the client for sampling and elicitation through the
SDK's dual-era resolvers (`Resolve(Sample)`, `Resolve(Elicit)`): to a 2025-era client the SDK sends them as
requests mid-call, to a 2026-07-28 client it answers `input_required` and resumes on the retry. mcpstead
fronts it twice: as `legacy` (the 2025 handshake) and as `modern` (`protocol_version: 2026-07-28`). The
clients are the SDK's own `Client(mode="legacy")` and `Client(mode="2026-07-28")` with callbacks. Each
combination must give what the same client gets from the upstream directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import anyio
import pytest
import pytest_asyncio
from mcp import Client
from mcp.server.mcpserver import Context, Elicit, MCPServer, Resolve, Sample
from mcp.shared.exceptions import MCPError
from mcp.types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestParams,
    ElicitResult,
    ResourceUpdatedNotification,
    SamplingMessage,
    TextContent,
    ToolListChangedNotification,
)
from pydantic import BaseModel

from mcpstead.config_load import parse_config
from mcpstead.relay import UpstreamInbound
from mcpstead.upstream.base import discover
from mcpstead.upstream.modern import ModernHttpConnection
from tests.fakes import RecordingHooks
from tests.integration.changing_upstream import build_changing_upstream
from tests.integration.gateway_harness import RunningGateway, run_gateway
from tests.integration.modern_only import build_modern_only_app
from tests.integration.upstreams import serve_app

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(60)]

MODES = {"legacy client": "legacy", "modern client": "2026-07-28"}


class Name(BaseModel):
    name: str


def ask_llm(topic: str) -> Sample:
    return Sample([SamplingMessage(role="user", content=TextContent(type="text", text=f"say {topic}"))], max_tokens=20)


def ask_name() -> Elicit[Name]:
    return Elicit("Who are you?", Name)


def build_upstream() -> MCPServer:
    server = MCPServer("dual-era")

    @server.tool(description="Echo a message back.")
    def echo(message: str) -> str:
        return f"echo: {message}"

    @server.tool(description="Sleeps in steps, reporting progress.")
    async def steps(count: int, ctx: Context) -> str:
        for step in range(1, count + 1):
            await ctx.report_progress(step, count)
        return f"{count} steps"

    @server.tool(description="Asks the client's LLM, then answers with what it said.")
    def sampled(topic: str, reply: Annotated[CreateMessageResult, Resolve(ask_llm)]) -> str:
        content = reply.content
        return f"the LLM said: {content.text if isinstance(content, TextContent) else '?'}"

    @server.tool(description="Asks the user for a name, then greets them.")
    def greet(who: Annotated[Name, Resolve(ask_name)]) -> str:
        return f"hello, {who.name}"

    @server.tool(description="Fails with a JSON-RPC error.")
    def broken() -> str:
        raise MCPError(-32099, "broken on purpose", {"why": "test"})

    @server.tool(description="Waits (at most 10 s), noting it when cancelled.")
    async def hang(tag: str) -> str:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            CANCELLED.setdefault(tag, asyncio.Event()).set()
            raise
        return "woke"

    return server


CANCELLED: dict[str, asyncio.Event] = {}
"""Set for each tag of a `hang` call the upstream saw cancelled (the upstream runs in the tests' loop)."""


@dataclass(frozen=True)
class Env:
    direct: str
    gateway: RunningGateway


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env() -> AsyncIterator[Env]:
    async with serve_app(build_upstream().streamable_http_app()) as url:
        config = f"""
servers:
  - name: legacy
    url: {url}
  - name: modern
    url: {url}
    protocol_version: "2026-07-28"
"""
        async with run_gateway(config) as gateway:
            await gateway.wait_connected("legacy", "modern")
            yield Env(url, gateway)


def text_of(result: Any) -> str:
    return "".join(b.text for b in result.content if isinstance(b, TextContent))


async def sampling(ctx: Any, params: CreateMessageRequestParams) -> CreateMessageResult:
    asked = params.messages[0].content
    text = asked.text if isinstance(asked, TextContent) else "?"
    return CreateMessageResult(role="assistant", content=TextContent(type="text", text=f"({text})"), model="m")


async def elicitation(ctx: Any, params: ElicitRequestParams) -> ElicitResult:
    return ElicitResult(action="accept", content={"name": "Ada"})


async def session(url: str, mode: str, prefix: str) -> dict[str, Any]:
    """What one client sees of the upstream (`prefix`: the gateway's `<server>__`, or "" directly)."""
    progress: list[float] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(done)

    async with Client(url, mode=mode, sampling_callback=sampling, elicitation_callback=elicitation) as client:  # type: ignore[arg-type]
        names = sorted(
            t.name.removeprefix(prefix) for t in (await client.list_tools()).tools if t.name.startswith(prefix)
        )
        results = {
            tool: (result.is_error, "".join(b.text for b in result.content if isinstance(b, TextContent)))
            for tool, arguments in (("echo", {"message": "hi"}), ("sampled", {"topic": "pong"}), ("greet", {}))
            for result in [await client.call_tool(f"{prefix}{tool}", arguments)]
        }
        await client.call_tool(f"{prefix}steps", {"count": 3}, progress_callback=on_progress)
        with pytest.raises(MCPError) as raised:
            await client.call_tool(f"{prefix}broken", {})
        error = (raised.value.error.code, raised.value.error.message, raised.value.error.data)
    return {"tools": names, "results": results, "progress": progress, "error": error}


@pytest.mark.parametrize("client", list(MODES))
@pytest.mark.parametrize("upstream", ["legacy", "modern"])
async def test_each_client_era_against_each_upstream_era(env: Env, client: str, upstream: str) -> None:
    mode = MODES[client]
    direct = await session(env.direct, mode, "")
    through = await session(env.gateway.url, mode, f"{upstream}__")
    assert through == direct
    assert through["results"]["sampled"] == (False, "the LLM said: (say pong)")
    assert through["results"]["greet"] == (False, "hello, Ada")
    assert through["progress"] == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("upstream", ["legacy", "modern"])
async def test_a_2025_client_cancelling_a_call_cancels_it_upstream_in_either_era(env: Env, upstream: str) -> None:
    """notifications/cancelled from a 2025 client: to a 2025 upstream it is passed on; to a 2026 one,
    which has no such notification, mcpstead closes the call's stream, which is the cancellation there."""
    tag = f"cancel-{upstream}"
    seen = CANCELLED.setdefault(tag, asyncio.Event())
    async with Client(env.gateway.url, mode="legacy") as client:
        with anyio.move_on_after(0.5):
            await client.call_tool(f"{upstream}__hang", {"tag": tag})
        async with asyncio.timeout(5):
            await seen.wait()
        assert text_of(await client.call_tool(f"{upstream}__echo", {"message": "after"})) == "echo: after"


async def test_health_says_which_era_each_upstream_speaks(env: Env) -> None:
    servers = {s["name"]: s for s in (await env.gateway.health())["servers"]}
    assert servers["legacy"]["era"] == "legacy"
    assert servers["modern"]["era"] == "modern"


async def test_auto_asks_discover_first_and_speaks_2026_to_an_upstream_that_refuses_the_handshake() -> None:
    app = build_modern_only_app()
    async with serve_app(app) as url, run_gateway(f"servers:\n  - name: new\n    url: {url}\n") as gateway:
        health = await gateway.wait_connected("new")
        assert {s["name"]: s["era"] for s in health["servers"]} == {"new": "modern"}
        assert app.state.methods[:3] == ["server/discover", "initialize", "tools/list"]  # no HTTP+SSE attempt
        for mode in MODES.values():
            async with Client(gateway.url, mode=mode) as client:
                result = await client.call_tool("new__echo", {"message": "hi"})
            assert "".join(b.text for b in result.content if isinstance(b, TextContent)) == "modern echo: hi"


async def test_a_stdio_child_that_speaks_only_2026_is_spoken_to_in_2026() -> None:
    """auto: the child answers server/discover and refuses the handshake as a modern server does, so it is
    spoken to in 2026-07-28, without a second start; its input_required is bridged for a 2025 client and
    passed through for a 2026 one."""
    script = Path(__file__).with_name("modern_only_stdio.py")
    config = (
        f"servers:\n  - name: kid\n    command: {json.dumps(sys.executable)}\n    args: [{json.dumps(str(script))}]\n"
    )
    async with run_gateway(config) as gateway:
        health = await gateway.wait_connected("kid")
        assert {s["name"]: s["era"] for s in health["servers"]} == {"kid": "modern"}
        tail = next(s["stderr_tail"] for s in health["servers"] if s["name"] == "kid")
        assert tail[:4] == ["started", "method server/discover", "method initialize", "method tools/list"]
        for mode in MODES.values():
            async with Client(gateway.url, mode=mode, elicitation_callback=elicitation) as client:
                echoed = await client.call_tool("kid__echo", {"message": "hi"})
                greeted = await client.call_tool("kid__ask", {})
            texts = ["".join(b.text for b in r.content if isinstance(b, TextContent)) for r in (echoed, greeted)]
            assert texts == ["stdio echo: hi", "hello, Ada"], mode


@pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")  # subscribe: a 2025 client's
@pytest.mark.parametrize("transport", ["http", "stdio"])
async def test_a_2026_upstreams_list_changes_and_resource_updates_reach_2025_clients(transport: str) -> None:
    """A 2026-07-28 upstream has no resources/subscribe and no GET stream: mcpstead holds its
    subscriptions/listen stream (over stdio, a listen request whose notifications come among the rest),
    with the URIs its 2025 clients subscribed to in the filter."""
    updates: list[str] = []
    changed = asyncio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            updates.append(str(message.params.uri))
            changed.set()
        elif isinstance(message, ToolListChangedNotification):
            changed.set()

    async with contextlib.AsyncExitStack() as stack:
        if transport == "http":
            url = await stack.enter_async_context(serve_app(build_changing_upstream().streamable_http_app()))
            where = f"url: {url}"
        else:
            script = json.dumps(str(Path(__file__).with_name("changing_upstream.py")))
            where = f"command: {json.dumps(sys.executable)}\n    args: [{script}]"
        config = f'servers:\n  - name: up\n    {where}\n    protocol_version: "2026-07-28"\n'
        gateway = await stack.enter_async_context(run_gateway(config))
        await gateway.wait_connected("up")
        async with Client(gateway.url, mode="legacy", message_handler=on_message) as client:
            await client.subscribe_resource("note://a")
            assert text_of(await client.call_tool("up__touch", {})) == "touched"
            async with asyncio.timeout(10):
                while "note://a" not in updates:
                    changed.clear()
                    await changed.wait()
            changed.clear()
            assert text_of(await client.call_tool("up__grow", {})) == "grown"
            async with asyncio.timeout(10):
                while "up__sprout" not in {t.name for t in (await client.list_tools()).tools}:
                    changed.clear()
                    await changed.wait()


async def test_a_2025_stdio_child_that_exits_on_the_discover_probe_gets_the_handshake_on_a_new_start() -> None:
    script = Path(__file__).with_name("strict_legacy_stdio.py")
    config = (
        f"servers:\n  - name: old\n    command: {json.dumps(sys.executable)}\n    args: [{json.dumps(str(script))}]\n"
    )
    async with run_gateway(config) as gateway:
        health = await gateway.wait_connected("old")
        server = next(s for s in health["servers"] if s["name"] == "old")
        assert server["era"] == "legacy"
        assert server["stderr_tail"][:3] == ["started", "exiting: server/discover before initialize", "started"]
        async with Client(gateway.url, mode="2026-07-28") as client:
            assert text_of(await client.call_tool("old__echo", {"message": "hi"})) == "strict echo: hi"


async def test_a_2026_stdio_child_that_ends_its_listen_request_is_listened_to_again() -> None:
    script = Path(__file__).with_name("modern_only_stdio.py")
    config = (
        f"servers:\n  - name: kid\n    command: {json.dumps(sys.executable)}\n    args: [{json.dumps(str(script))}]\n"
    )
    async with run_gateway(config) as gateway:
        await gateway.wait_health(lambda s: s["kid"]["connected"] and listens(s["kid"]) == 1)
        async with Client(gateway.url, mode="legacy") as client:
            assert text_of(await client.call_tool("kid__end_listen", {})).startswith("ended ")
        await gateway.wait_health(lambda s: listens(s["kid"]) == 2, timeout=5)  # after RELISTEN_SECONDS


def listens(server: dict[str, Any]) -> int:
    return sum(line == "method subscriptions/listen" for line in server["stderr_tail"] or ())


async def test_a_subscribe_to_a_2026_upstream_without_listen_does_not_wait_for_an_acknowledgement() -> None:
    """The modern-only server offers no subscriptions/listen (404): a subscribe returns at once instead of
    waiting for an acknowledgement that cannot come (the call's timeout here is 30 s)."""
    app = build_modern_only_app()
    async with serve_app(app) as url:
        config = parse_config(f"servers:\n  - name: new\n    url: {url}\n", "t.yaml", {}).servers[0]
        connection = ModernHttpConnection(config, UpstreamInbound("new", RecordingHooks()))
        await connection.open()
        try:
            await discover(connection, "new", 5)
            connection.initialized()
            async with asyncio.timeout(1):  # under the 2 s an unacknowledged subscribe may wait
                assert await connection.request("resources/subscribe", {"uri": "note://x"}, 30) == {}
            assert "subscriptions/listen" in app.state.methods
        finally:
            await connection.close()
