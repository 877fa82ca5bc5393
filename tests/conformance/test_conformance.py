"""The official MCP conformance suite, against our SDK-built conformance upstream directly and through the gateway.

Also a smoke test of the server-everything helper the integration tests use. Needs `npm ci` (package.json).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.session import ClientRequestContext, IncomingMessage
from mcp.client.sse import sse_client
from mcp.types import CallToolResult, ListRootsResult, ResourceUpdatedNotification, Root, TextContent
from pydantic import FileUrl

from tests.conformance.suite import SuiteResult, Which, conformance_server, run_suite
from tests.integration.everything import everything_server
from tests.integration.gateway_harness import run_gateway

pytestmark = pytest.mark.integration

SUITE_TIMEOUT = 45
"""One full run takes about 3 s (stable) or 4 s (alpha) here."""

STABLE_ACTIVE = frozenset(
    {
        "server-initialize",
        "logging-set-level",
        "ping",
        "completion-complete",
        "tools-list",
        "tools-call-simple-text",
        "tools-call-image",
        "tools-call-audio",
        "tools-call-embedded-resource",
        "tools-call-mixed-content",
        "tools-call-with-logging",
        "tools-call-error",
        "tools-call-with-progress",
        "tools-call-sampling",
        "tools-call-elicitation",
        "elicitation-sep1034-defaults",
        "server-sse-multiple-streams",
        "elicitation-sep1330-enums",
        "resources-list",
        "resources-read-text",
        "resources-read-binary",
        "resources-templates-read",
        "resources-subscribe",
        "resources-unsubscribe",
        "prompts-list",
        "prompts-get-simple",
        "prompts-get-with-args",
        "prompts-get-embedded-resource",
        "prompts-get-with-image",
        "dns-rebinding-protection",
    }
)
"""conformance 0.1.16's 30 active server scenarios."""

ALPHA_2025_11_25 = STABLE_ACTIVE | {"server-session-lifecycle", "json-schema-2020-12", "server-sse-polling"}
"""alpha.12 `--requirements 2025-11-25`: the same 30 scored scenarios plus 3 it runs without scoring them."""

EXPECTED: dict[Which, frozenset[str]] = {"stable": STABLE_ACTIVE, "alpha": ALPHA_2025_11_25}


async def _run(url: str, which: Which, out_dir: Path) -> SuiteResult:
    result = await run_suite(url, which, out_dir=out_dir, timeout=SUITE_TIMEOUT)
    print(result.report())
    return result


async def _direct(which: Which, tmp_path: Path) -> None:
    async with conformance_server(stderr_path=tmp_path / "server-stderr.log") as server:
        result = await _run(server.url, which, tmp_path / "results")
    assert result.failing == {}
    assert result.passing == EXPECTED[which]
    assert result.exit_code == 0, result.output


async def test_suite_direct_stable(tmp_path: Path) -> None:
    await _direct("stable", tmp_path)


async def test_suite_direct_alpha_2025(tmp_path: Path) -> None:
    await _direct("alpha", tmp_path)


@pytest.mark.parametrize("which", ["stable", "alpha"])
async def test_suite_through_gateway(which: Which, tmp_path: Path) -> None:
    async with conformance_server(stderr_path=tmp_path / "server-stderr.log") as server:
        direct = await _run(server.url, which, tmp_path / "direct")
        config = f"""
servers:
  - name: conformance
    url: {server.url}
    prefix: false
"""
        async with run_gateway(config) as gateway:
            await gateway.wait_connected("conformance")
            through = await _run(gateway.url, which, tmp_path / "gateway")
    print(f"direct passing:  {sorted(direct.passing)}")
    print(f"gateway passing: {sorted(through.passing)}")
    assert through.passing == direct.passing, through.report()


MODERN_REQUIREMENTS = ("--requirements", "2026-07-28")


BRIDGED_DIFFERENCES = {"input-required-result-basic-elicitation": "inputRequests missing expected key 'user_name'"}
"""What a 2026-07-28 client sees differently when mcpstead bridges it to a 2025 session: the keys of
`inputRequests` are the server's choice in 2026-07-28, and a 2025 server's mid-call request has none, so
mcpstead names them (`elicitation-create-1`); this scenario checks the fixture's own key."""


@pytest.mark.parametrize("era", ["2026-07-28", "auto"])
async def test_suite_2026_through_gateway(tmp_path: Path, era: str) -> None:
    """alpha.12 `--requirements 2026-07-28`, against the dual-era conformance upstream directly and through
    mcpstead. With `protocol_version: 2026-07-28` mcpstead speaks that era to it and relays: every scenario
    that passes directly passes through, `input_required` rounds included (tests/conformance/mrtr.py). With
    `auto` it keeps a 2025 session with it (a dual-era server) and bridges: the upstream asks mid-call
    (tests/conformance/diagnostics.py `in_rounds`) and the client gets `input_required` rounds from
    mcpstead; every direct pass passes through but those in BRIDGED_DIFFERENCES.

    Besides, `http-header-validation` always passes through the gateway, which checks the routing headers
    itself; whether the SDK's server passes it directly depends on the installed SDK build (it failed on some,
    passes on others), so it is the one scenario allowed to pass only through. The task-extension scenarios
    fail both ways (neither side implements the extension)."""
    async with conformance_server(stderr_path=tmp_path / "server-stderr.log") as server:
        direct = await run_suite(
            server.url, "alpha", MODERN_REQUIREMENTS, out_dir=tmp_path / "d", timeout=SUITE_TIMEOUT
        )
        config = (
            f"servers:\n  - name: conformance\n    url: {server.url}\n    prefix: false\n"
            f'    protocol_version: "{era}"\n'
        )
        async with run_gateway(config) as gateway:
            health = await gateway.wait_connected("conformance")
            assert {s["name"]: s["era"] for s in health["servers"]} == {
                "conformance": "modern" if era != "auto" else "legacy"
            }
            through = await run_suite(
                gateway.url, "alpha", MODERN_REQUIREMENTS, out_dir=tmp_path / "g", timeout=SUITE_TIMEOUT
            )
    print(f"direct passing:  {sorted(direct.passing)}")
    print(f"gateway passing: {sorted(through.passing)}")
    assert len(direct.passing) >= 40, direct.report()
    assert {"input-required-result-multi-round", "server-stateless", "http-custom-header-server-validation"} <= (
        direct.passing
    )
    allowed = set(BRIDGED_DIFFERENCES) if era == "auto" else set()
    assert direct.passing - through.passing <= allowed, through.report()
    assert "http-header-validation" in through.passing, through.report()
    assert through.passing - direct.passing <= {"http-header-validation"}, through.report()


async def test_everything_server_helper_streamable_http() -> None:
    async with everything_server("streamableHttp") as url, Client(url, mode="legacy") as client:
        await _list_and_echo(client)


async def test_everything_server_helper_sse() -> None:
    async with everything_server("sse") as url, Client(sse_client(url)) as client:
        await _list_and_echo(client)


async def _list_and_echo(client: Client) -> None:
    names = {tool.name for tool in (await client.list_tools()).tools}
    assert "echo" in names
    answer = await client.call_tool("echo", {"message": "hi from the SDK"})
    assert not answer.is_error
    assert isinstance(answer.content[0], TextContent)
    assert "hi from the SDK" in answer.content[0].text


@pytest.mark.filterwarnings("ignore:resources/subscribe is removed:mcp.shared.exceptions.MCPDeprecationWarning")
async def test_conformance_server_extra_tools(tmp_path: Path) -> None:
    """The tools beyond the conformance surface that the gateway's own tests use."""
    updates: list[str] = []
    updated = asyncio.Event()
    reports: list[tuple[float, float | None]] = []

    async def list_roots(context: ClientRequestContext) -> ListRootsResult:
        return ListRootsResult(roots=[Root(uri=FileUrl("file:///tmp/project"), name="project")])

    async def on_message(message: IncomingMessage) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            updates.append(message.params.uri)
            updated.set()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reports.append((progress, total))

    async with (
        conformance_server(stderr_path=tmp_path / "server-stderr.log") as server,
        Client(server.url, mode="legacy", list_roots_callback=list_roots, message_handler=on_message) as client,
    ):
        roots = await client.call_tool("test_list_roots")
        assert _text_of(roots) == '[{"uri": "file:///tmp/project", "name": "project"}]'

        slept = await client.call_tool("test_slow", {"seconds": 0.3}, progress_callback=on_progress)
        assert _text_of(slept) == "slept 0.3s"
        assert reports == [(1, 3), (2, 3), (3, 3)]

        call = asyncio.create_task(client.call_tool("test_slow", {"seconds": 10}))
        await asyncio.sleep(0.3)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        async with asyncio.timeout(5):  # the handler is cancelled, then the reason reaches the middleware
            while True:
                records = json.loads(_text_of(await client.call_tool("test_cancellations")))
                if records and records[0]["reason"] is not None:
                    break
                await asyncio.sleep(0.05)
        (record,) = records
        assert record["reason"] == "caller cancelled"
        assert record["requestId"] is not None

        await client.subscribe_resource("test://watched-resource")
        assert _text_of(await client.call_tool("test_notify_resource_updated", {"uri": "test://other"})) == "ok"
        assert (
            _text_of(await client.call_tool("test_notify_resource_updated", {"uri": "test://watched-resource"})) == "ok"
        )
        async with asyncio.timeout(5):
            await updated.wait()
        assert updates == ["test://watched-resource"]


def _text_of(result: CallToolResult) -> str:
    assert not result.is_error, result
    (content,) = result.content
    assert isinstance(content, TextContent)
    return content.text
