"""POST /mcp in the 2026-07-28 era: routing by version, the envelope ladder, discover, and modern results."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import pytest

from mcpstead.sessions import DownstreamSession
from tests.fakes import FakeUpstream, tool

MODERN = "2026-07-28"
UPSTREAM = "servers:\n  - name: fake\n    url: http://127.0.0.1:9/mcp\n"
ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "modern-test", "version": "2"},
}
NAMED = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}


def modern_request(method: str, params: dict[str, Any] | None = None, msg_id: Any = 1, **meta: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": msg_id,
        "method": method,
        "params": {**(params or {}), "_meta": {**ENVELOPE, **meta}},
    }


def modern_headers(message: dict[str, Any], **overrides: str | None) -> dict[str, str]:
    params = message.get("params") or {}
    headers = {"mcp-protocol-version": MODERN, "mcp-method": str(message.get("method"))}
    key = NAMED.get(str(message.get("method")))
    if key is not None and key in params:
        headers["mcp-name"] = str(params[key])
    headers.update({name: value for name, value in overrides.items() if value is not None})
    for name in [name for name, value in overrides.items() if value is None]:
        headers.pop(name, None)
    return headers


async def post(h: Any, message: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    sent = headers if headers is not None else modern_headers(message)
    response: httpx.Response = await h.post(message, headers=sent)
    return response


def error_of(response: httpx.Response, status: int, code: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["error"]["code"] == code, body
    assert "mcp-session-id" not in response.headers
    error: dict[str, Any] = body["error"]
    return error


async def test_discover_needs_no_handshake_and_says_what_is_served(h: Any) -> None:
    response = await post(h, modern_request("server/discover"))
    assert response.status_code == 200 and "mcp-session-id" not in response.headers
    result = response.json()["result"]
    assert result["supportedVersions"] == [MODERN]
    assert result["capabilities"]["tools"] == {"listChanged": True}
    assert "tasks" not in result["capabilities"]
    assert result["instructions"].startswith("mcpstead is a gateway")
    assert result["resultType"] == "complete"
    assert result["cacheScope"] == "private" and isinstance(result["ttlMs"], int)
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "mcpstead"
    assert len(h.gateway.sessions) == 0  # a modern request leaves no session behind


async def test_the_era_is_counted_in_health_and_metrics(h: Any) -> None:
    await post(h, modern_request("server/discover"))
    await h.initialize()
    health = (await h.request("GET", "/health")).json()
    assert health["requests_by_era"] == {"legacy": 1, "modern": 1}
    metrics = (await h.request("GET", "/metrics")).text
    assert 'mcpstead_mcp_era_requests_total{era="modern"} 1.0' in metrics


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"drop_meta": True}, -32602, "params._meta must be an object"),
        ({"drop_key": "io.modelcontextprotocol/clientCapabilities"}, -32602, "is missing"),
        ({"header": {"mcp-protocol-version": "2026-07-29"}}, -32020, "MCP-Protocol-Version"),
        ({"header": {"mcp-protocol-version": None}}, -32020, "MCP-Protocol-Version"),
        ({"header": {"mcp-method": "tools/call"}}, -32020, "Mcp-Method"),
        ({"header": {"mcp-method": None}}, -32020, "Mcp-Method"),
        ({"meta": {"io.modelcontextprotocol/logLevel": "loud"}}, -32602, "logLevel"),
        ({"meta": {"io.modelcontextprotocol/clientCapabilities": []}}, -32602, "clientCapabilities"),
    ],
)
async def test_the_envelope_ladder(h: Any, change: dict[str, Any], code: int, words: str) -> None:
    message = modern_request("tools/list", msg_id=7, **change.get("meta", {}))
    if change.get("drop_meta"):
        del message["params"]["_meta"]
    if "drop_key" in change:
        del message["params"]["_meta"][change["drop_key"]]
    headers = modern_headers(message, **change.get("header", {}))
    response = await post(h, message, headers)
    error = error_of(response, 400, code)
    assert words in error["message"]
    assert response.json()["id"] == 7  # a modern error names the request it answers


async def test_an_unsupported_version_is_minus_32022_naming_the_supported_ones(h: Any) -> None:
    message = modern_request("tools/list", **{"io.modelcontextprotocol/protocolVersion": "2099-01-01"})
    response = await post(h, message, modern_headers(message, **{"mcp-protocol-version": "2099-01-01"}))
    error = error_of(response, 400, -32022)
    assert error["data"] == {"supported": [MODERN], "requested": "2099-01-01"}


async def test_a_routing_header_given_twice_is_a_mismatch(h: Any) -> None:
    message = modern_request("tools/list")
    raw = [(k, v) for k, v in modern_headers(message).items()] + [("mcp-method", "tools/list")]
    response = await h.client.post(
        "/mcp",
        content=json.dumps(message).encode(),
        headers=[("accept", "application/json, text/event-stream"), ("content-type", "application/json"), *raw],
    )
    assert "mcp-method header appears more than once" in error_of(response, 400, -32020)["message"]


@pytest.mark.parametrize("method", ["initialize", "ping", "logging/setLevel", "resources/subscribe", "tasks/list"])
async def test_methods_that_do_not_exist_in_2026_are_404(h: Any, method: str) -> None:
    response = await post(h, modern_request(method, {"level": "info", "uri": "x://y"}))
    assert "does not exist in 2026-07-28" in error_of(response, 404, -32601)["message"]


async def test_notifications_are_acknowledged_and_batches_refused(h: Any) -> None:
    note = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}}
    response = await post(h, note, {"mcp-protocol-version": MODERN})
    assert response.status_code == 202
    response = await post(h, note, {"mcp-protocol-version": "2099-01-01"})
    error_of(response, 400, -32022)
    response = await post(h, [modern_request("tools/list")], {"mcp-protocol-version": MODERN})
    error_of(response, 400, -32600)


async def test_the_envelope_alone_routes_to_the_modern_era(h: Any) -> None:
    """No header but the envelope's key: modern, so the missing header is the first mismatch."""
    message = modern_request("tools/list")
    response = await h.post(message)
    assert "MCP-Protocol-Version" in error_of(response, 400, -32020)["message"]
    legacy = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": {"progressToken": 1}}}
    assert (await h.post(legacy)).status_code == 400  # legacy: no session yet


async def test_lists_and_calls_through_a_legacy_upstream(start: Any) -> None:
    upstream = FakeUpstream(tools=[tool("echo")])
    async with start(UPSTREAM, connect=upstream.connect) as h:
        await h.wait_until(lambda: h.gateway.supervisors["fake"].status == "ready")
        listed = (await post(h, modern_request("tools/list"))).json()["result"]
        assert [t["name"] for t in listed["tools"]] == ["fake__echo"]
        assert listed["resultType"] == "complete" and listed["cacheScope"] == "private"
        assert 0 < listed["ttlMs"] <= 300_000  # until the next scheduled refresh (tools.ttl_seconds: 300)
        message = modern_request("tools/call", {"name": "fake__echo", "arguments": {"x": 1}}, progressToken="p1")
        response = await post(h, message)
        result = response.json()["result"]
        assert result["content"] == [{"type": "text", "text": "tools/call answered"}]
        assert result["resultType"] == "complete" and "ttlMs" not in result
        sent = next(r for r in upstream.requests if r.method == "tools/call")
        assert sent.params is not None and set(sent.params["_meta"]) == {"progressToken"}  # no envelope upstream
        unknown = await post(h, modern_request("tools/call", {"name": "fake__nope"}))
        assert "fake__nope" in error_of(unknown, 400, -32602)["message"]


async def test_mcp_name_is_compared_after_decoding_its_base64_form(start: Any) -> None:
    upstream = FakeUpstream(tools=[tool("échø")])
    async with start(UPSTREAM, connect=upstream.connect) as h:
        await h.wait_until(lambda: h.gateway.supervisors["fake"].status == "ready")
        message = modern_request("tools/call", {"name": "fake__échø", "arguments": {}})
        wrapped = "=?base64?" + base64.b64encode("fake__échø".encode()).decode() + "?="
        response = await post(h, message, modern_headers(message, **{"mcp-name": wrapped}))
        assert response.status_code == 200, response.text
        response = await post(h, message, modern_headers(message, **{"mcp-name": "=?base64?!!?="}))
        assert "Mcp-Name" in error_of(response, 400, -32020)["message"]
        response = await post(h, message, modern_headers(message, **{"mcp-name": "fake__other"}))
        error_of(response, 400, -32020)


HEADERED = {
    "name": "route",
    "description": "a tool whose region rides in a header",
    "inputSchema": {
        "type": "object",
        "properties": {"region": {"type": "string", "x-mcp-header": "Region"}, "n": {"type": "integer"}},
    },
}


async def test_mcp_param_headers_must_mirror_the_arguments_they_annotate(start: Any) -> None:
    upstream = FakeUpstream(tools=[HEADERED])
    async with start(UPSTREAM, connect=upstream.connect) as h:
        await h.wait_until(lambda: h.gateway.supervisors["fake"].status == "ready")
        message = modern_request("tools/call", {"name": "fake__route", "arguments": {"region": "eu-west"}})
        response = await post(h, message)
        assert "Mcp-Param-Region header is missing" in error_of(response, 400, -32020)["message"]
        response = await post(h, message, modern_headers(message, **{"mcp-param-region": "us-east"}))
        assert "does not match" in error_of(response, 400, -32020)["message"]
        response = await post(h, message, modern_headers(message, **{"mcp-param-region": "eu-west"}))
        assert response.status_code == 200, response.text
        bare = modern_request("tools/call", {"name": "fake__route", "arguments": {}})
        response = await post(h, bare, modern_headers(bare, **{"mcp-param-region": "eu-west"}))
        assert "is present but argument 'region' is not" in error_of(response, 400, -32020)["message"]

        # The upstream drops the annotation: its new schema is read at the rebuild, not an old verdict.
        plain = {**HEADERED, "inputSchema": {"type": "object", "properties": {"region": {"type": "string"}}}}
        upstream.tools = [plain]
        upstream.current.send_notification("notifications/tools/list_changed")
        await h.wait_until(lambda: h.gateway.tool_input_schema("fake__route") is None)
        response = await post(h, message, modern_headers(message))
        assert response.status_code == 200, response.text
        upstream.tools = [HEADERED]  # and back: required again
        upstream.current.send_notification("notifications/tools/list_changed")
        await h.wait_until(lambda: h.gateway.tool_input_schema("fake__route") is not None)
        response = await post(h, message, modern_headers(message))
        assert "Mcp-Param-Region header is missing" in error_of(response, 400, -32020)["message"]


async def test_modern_clients_show_in_the_sessions_by_their_client_info(start: Any) -> None:
    upstream = FakeUpstream(tools=[tool("echo")])
    async with start(UPSTREAM, connect=upstream.connect) as h:
        await h.wait_until(lambda: h.gateway.supervisors["fake"].status == "ready")
        await h.initialize()
        await post(h, modern_request("tools/list"))
        await post(h, modern_request("tools/call", {"name": "fake__echo", "arguments": {}}))
        snapshot = h.gateway.snapshot()
        modern = [s for s in snapshot.sessions if s.era == "modern"]
        assert [(s.session_id, s.client_name, s.client_version, s.calls) for s in modern] == [
            ("2026:modern-test/2", "modern-test", "2", 1)
        ]
        assert [s.era for s in snapshot.sessions].count("legacy") == 1
        assert snapshot.calls[-1].session_id == "2026:modern-test/2"  # its calls are listed under it
        assert len(h.gateway.sessions) == 1  # and it holds no session


async def test_a_refusal_handled_after_an_unparked_call_ended_cancels_nothing(start: Any) -> None:
    """The upstream's sampling request can come in the same read as the answer, so the relay refuses it
    (the client declared no sampling) only once the call has ended: that must not cancel whatever the
    request's task does next (sending the answer)."""
    upstream = FakeUpstream(tools=[tool("echo")])
    calls: list[Any] = []
    upstream.on_answer = lambda method, call: calls.append(call) if method == "tools/call" else None
    async with start(UPSTREAM, connect=upstream.connect) as h:
        await h.wait_until(lambda: h.gateway.supervisors["fake"].status == "ready")
        session = DownstreamSession("2026:t/1", "2026-07-28", "t", "1", 0.0, 0.0, 0.0, era="modern")
        supervisor = h.gateway.supervisors["fake"]
        params = {"name": "echo", "arguments": {}}
        result = await h.gateway.forwarder.send(supervisor, "tools/call", params, session, 1, None)
        assert result["content"] == [{"type": "text", "text": "tools/call answered"}]
        calls[0].bridge.refuse("sampling")  # what the relay does for the late question
        task = asyncio.current_task()
        assert task is not None and task.cancelling() == 0
        await asyncio.sleep(0)  # a cancel would land here
