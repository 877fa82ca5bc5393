"""The official `mcp` SDK client, through mcpstead, in front of two real upstreams: an SDK server over
Streamable HTTP and the bundled stdio demo server. Results must equal calling each upstream directly."""

from __future__ import annotations

import json
import sys
from typing import Any

import httpx
import pytest
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult

from tests.integration.gateway_harness import RunningGateway, run_gateway
from tests.integration.upstreams import serve_sdk_upstream

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

SDK_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("echo", {"message": "hello"}),
    ("add", {"a": 2, "b": 40}),
    ("forecast", {"city": "Lisbon"}),
    ("explode", {"reason": "on purpose"}),
]
DEMO_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("echo", {"message": "hi there"}),
    ("add", {"a": 1.5, "b": 2}),
    ("weather", {"city": "Oslo", "units": "imperial"}),
    ("fail", {"message": "expected failure"}),
]
DEMO = StdioServerParameters(command=sys.executable, args=["-m", "mcpstead", "demo-server"])


def gateway_config(upstream_url: str) -> str:
    return f"""
servers:
  - name: sdk
    url: {upstream_url}
  - name: demo
    command: mcpstead
    args: [demo-server]
"""


def essence(result: CallToolResult) -> dict[str, Any]:
    """What a client acts on: the content blocks, the structured content and the error flag."""
    return {
        "content": [block.model_dump(mode="json", exclude_none=True) for block in result.content],
        "structured": result.structured_content,
        "is_error": bool(result.is_error),
    }


async def direct_results(target: str | StdioServerParameters, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    async with Client(target, mode="legacy") as client:
        return [essence(await client.call_tool(name, arguments)) for name, arguments in calls]


@pytest.mark.parametrize("upstream_json", [True, False], ids=["upstream-json", "upstream-sse"])
async def test_sdk_client_through_gateway_matches_direct(upstream_json: bool) -> None:
    async with (
        serve_sdk_upstream(json_response=upstream_json) as upstream_url,
        run_gateway(gateway_config(upstream_url)) as gateway,
    ):
        await gateway.wait_connected("sdk", "demo")
        async with Client(gateway.url, mode="legacy") as client:
            listed = await client.list_tools()
            names = {tool.name for tool in listed.tools}
            assert {f"sdk__{name}" for name, _ in SDK_CALLS} <= names
            assert {"demo__echo", "demo__add", "demo__weather", "demo__fail", "demo__sleep"} <= names
            by_name = {tool.name: tool for tool in listed.tools}
            assert by_name["sdk__echo"].description == "Echo a message back."  # names change, nothing else
            assert by_name["demo__add"].output_schema is not None
            assert "nextCursor" not in listed.model_dump(by_alias=True, exclude_none=True)

            through_sdk = [essence(await client.call_tool(f"sdk__{n}", a)) for n, a in SDK_CALLS]
            through_demo = [essence(await client.call_tool(f"demo__{n}", a)) for n, a in DEMO_CALLS]

        assert through_sdk == await direct_results(upstream_url, SDK_CALLS)
        assert through_demo == await direct_results(DEMO, DEMO_CALLS)
        assert through_sdk[1]["structured"] == {"result": 42}
        assert through_sdk[3]["is_error"] is True
        assert through_demo[2]["structured"]["city"] == "Oslo"
        assert through_demo[3]["is_error"] is True

        health = await gateway.health()
        calls = {s["name"]: s["calls"] for s in health["servers"]}  # type: ignore[index, union-attr]
        assert calls == {"demo": len(DEMO_CALLS), "sdk": len(SDK_CALLS)}


async def test_auto_mode_client_falls_back_to_legacy_through_gateway() -> None:
    """The SDK's default mode probes the 2026 `server/discover` first; the gateway must let it fall back."""
    async with run_gateway(gateway_config_demo_only()) as gateway:
        await gateway.wait_connected("demo")
        async with Client(gateway.url) as client:
            result = await client.call_tool("demo__echo", {"message": "auto"})
        assert essence(result)["content"] == [{"type": "text", "text": "auto"}]


def gateway_config_demo_only() -> str:
    return "servers:\n  - name: demo\n    command: mcpstead\n    args: [demo-server]\n"


async def sse_call(gateway: RunningGateway, session_id: str, request: dict[str, Any]) -> dict[str, Any]:
    headers = {"accept": "text/event-stream", "content-type": "application/json", "mcp-session-id": session_id}
    async with httpx.AsyncClient() as http:
        response = await http.post(gateway.url, headers=headers, json=request, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    data = [line.removeprefix("data: ") for line in response.text.splitlines() if line.startswith("data: ")]
    assert len(data) == 1
    return json.loads(data[0])  # type: ignore[no-any-return]


@pytest.mark.parametrize("upstream_json", [True, False], ids=["upstream-json", "upstream-sse"])
async def test_sse_answers_downstream_carry_the_same_results(upstream_json: bool) -> None:
    async with (
        serve_sdk_upstream(json_response=upstream_json) as upstream_url,
        run_gateway(gateway_config(upstream_url)) as gateway,
    ):
        await gateway.wait_connected("sdk", "demo")
        session_id = (await gateway.session()).headers["mcp-session-id"]
        answer = await sse_call(
            gateway,
            session_id,
            {
                "jsonrpc": "2.0",
                "id": "call-7",
                "method": "tools/call",
                "params": {"name": "sdk__add", "arguments": {"a": 1, "b": 2}},
            },
        )
        assert answer["id"] == "call-7"
        assert answer["result"]["structuredContent"] == {"result": 3}
        assert answer["result"]["content"][0]["text"] == "3"
        answer = await sse_call(
            gateway,
            session_id,
            {"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {"name": "demo__fail", "arguments": {}}},
        )
        assert answer["id"] == 8 and answer["result"]["isError"] is True


async def test_upstream_jsonrpc_error_reaches_client_unchanged() -> None:
    """An upstream's JSON-RPC error keeps its code, message and data through the gateway."""
    async with (
        serve_sdk_upstream(json_response=True) as upstream_url,
        run_gateway(gateway_config(upstream_url)) as gateway,
    ):
        await gateway.wait_connected("sdk")
        async with Client(gateway.url, mode="legacy") as client:
            with pytest.raises(MCPError) as through:
                await client.call_tool("sdk__guarded", {"word": "now"})
            granted = await client.call_tool("sdk__guarded", {"word": "please"})
        async with Client(upstream_url, mode="legacy") as client:
            with pytest.raises(MCPError) as direct:
                await client.call_tool("guarded", {"word": "now"})
    assert (through.value.code, through.value.message, through.value.data) == (
        direct.value.code,
        direct.value.message,
        direct.value.data,
    )
    assert through.value.code == -32099
    assert through.value.data == {"expected": "please"}
    assert essence(granted)["content"] == [{"type": "text", "text": "granted"}]


async def test_unknown_tool_and_bad_arguments_get_clear_answers() -> None:
    """A name the upstream does not list is caught by the gateway (-32602, naming both); bad arguments are the
    upstream's to judge (a tool error)."""
    async with run_gateway(gateway_config_demo_only()) as gateway:
        await gateway.wait_connected("demo")
        session = await gateway.session()
        unknown = await session.call_tool("demo__nope")
        bad_args = await session.call_tool("demo__add")
    assert unknown["error"]["code"] == -32602
    assert unknown["error"]["message"] == "unknown tool 'demo__nope': upstream 'demo' has no tool 'nope'"
    assert bad_args["result"]["isError"] is True
