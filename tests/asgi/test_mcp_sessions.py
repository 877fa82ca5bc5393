"""initialize, sessions, MCP-Protocol-Version, notifications, ping, unknown methods, DELETE and framing."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from mcpstead.protocol import SUPPORTED_VERSIONS

INVALID_REQUEST, METHOD_NOT_FOUND, SESSION_NOT_FOUND = -32600, -32601, -32001


def initialize(version: str | None = "2025-11-25", msg_id: Any = 1) -> dict[str, Any]:
    params: dict[str, Any] = {"capabilities": {}, "clientInfo": {"name": "pytest", "version": "1.0"}}
    if version is not None:
        params["protocolVersion"] = version
    return {"jsonrpc": "2.0", "id": msg_id, "method": "initialize", "params": params}


def visible_ascii(text: str) -> bool:
    return bool(text) and all(0x21 <= ord(c) <= 0x7E for c in text)


async def test_initialize_answers_with_a_fresh_session(h: Any) -> None:
    response = await h.post(initialize(msg_id="init-1"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    session_id = response.headers["mcp-session-id"]
    assert visible_ascii(session_id)
    answer = response.json()
    assert answer["jsonrpc"] == "2.0" and answer["id"] == "init-1"
    result = answer["result"]
    assert result["protocolVersion"] == "2025-11-25"
    assert result["serverInfo"]["name"] == "mcpstead"
    assert result["capabilities"] == {"tools": {"listChanged": True}}
    session = h.gateway.sessions.get(session_id)
    assert session is not None
    assert (session.client_name, session.client_version) == ("pytest", "1.0")


async def test_two_initializes_give_two_sessions(h: Any) -> None:
    first, second = await h.initialize(), await h.initialize()
    assert first != second
    assert visible_ascii(first) and visible_ascii(second)
    assert len(h.gateway.sessions) == 2


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
async def test_supported_versions_are_echoed(h: Any, version: str) -> None:
    response = await h.post(initialize(version))
    assert response.json()["result"]["protocolVersion"] == version
    session = h.gateway.sessions.get(response.headers["mcp-session-id"])
    assert session.protocol_version == version


@pytest.mark.parametrize("version", ["1999-01-01", "2026-07-28", None])
async def test_unknown_version_gets_the_latest(h: Any, version: str | None) -> None:
    response = await h.post(initialize(version))
    assert response.json()["result"]["protocolVersion"] == "2025-11-25"


async def test_initialize_as_notification_is_400(h: Any) -> None:
    message = initialize()
    del message["id"]
    response = await h.post(message)
    h.http_error(response, 400, INVALID_REQUEST, "Invalid Request: initialize must be a request with an id")
    assert "mcp-session-id" not in response.headers
    assert len(h.gateway.sessions) == 0


async def test_initialize_inside_a_live_session_is_400(h: Any) -> None:
    session = await h.initialize()
    response = await h.post(initialize(), session=session)
    h.http_error(response, 400, INVALID_REQUEST, "Invalid Request: this session is already initialized")
    assert len(h.gateway.sessions) == 1


async def test_missing_session_is_400(h: Any) -> None:
    response = await h.post({"jsonrpc": "2.0", "id": 1, "method": "ping"})
    h.http_error(response, 400, INVALID_REQUEST, "Bad Request: missing Mcp-Session-Id header; send initialize first")


async def test_blank_session_header_counts_as_missing(h: Any) -> None:
    response = await h.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, session="   ")
    assert response.status_code == 400


async def test_unknown_session_is_404(h: Any) -> None:
    response = await h.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, session="no-such-session")
    h.http_error(response, 404, SESSION_NOT_FOUND, "Session not found")


async def test_session_header_is_trimmed(h: Any) -> None:
    session = await h.initialize()
    answer = await h.rpc(f"  {session} ", "ping")
    assert answer["result"] == {}


async def test_unsupported_protocol_version_header_is_400(h: Any) -> None:
    session = await h.initialize("2025-06-18")
    response = await h.post(
        {"jsonrpc": "2.0", "id": 1, "method": "ping"}, session=session, headers={"mcp-protocol-version": "1999-01-01"}
    )
    message = h.http_error(response, 400, INVALID_REQUEST)
    assert message == (
        "Bad Request: unsupported MCP-Protocol-Version '1999-01-01' "
        "(supported: 2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05)"
    )


async def test_another_supported_protocol_version_header_is_accepted(h: Any) -> None:
    """As both SDKs and the conformance suite's server-sse-multiple-streams expect: the header must name a
    version the gateway speaks, not necessarily the one the session negotiated."""
    session = await h.initialize("2025-11-25")
    response = await h.post(
        {"jsonrpc": "2.0", "id": 1, "method": "ping"}, session=session, headers={"mcp-protocol-version": "2025-03-26"}
    )
    assert response.status_code == 200
    assert response.json()["result"] == {}


async def test_matching_or_absent_protocol_version_header_is_fine(h: Any) -> None:
    session = await h.initialize("2025-06-18")
    await h.rpc(session, "ping", headers={"mcp-protocol-version": "2025-06-18"})
    await h.rpc(session, "ping")


@pytest.mark.parametrize(
    "message",
    [
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}},
        {"jsonrpc": "2.0", "method": "notifications/whatever"},
        {"jsonrpc": "2.0", "id": "server-1", "result": {}},
        {"jsonrpc": "2.0", "id": 9, "error": {"code": -1, "message": "declined"}},
    ],
    ids=["initialized", "cancelled", "unknown-notification", "client-result", "client-error"],
)
async def test_notifications_and_client_responses_are_202(h: Any, message: dict[str, Any]) -> None:
    session = await h.initialize()
    response = await h.post(message, session=session)
    assert response.status_code == 202
    assert response.content == b""
    assert "content-type" not in response.headers


async def test_notification_still_needs_a_session(h: Any) -> None:
    response = await h.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert response.status_code == 400


@pytest.mark.parametrize("msg_id", [7, "str-id", 0])
async def test_ping(h: Any, msg_id: Any) -> None:
    session = await h.initialize()
    answer = await h.rpc(session, "ping", msg_id=msg_id)
    assert answer == {"jsonrpc": "2.0", "id": msg_id, "result": {}}


@pytest.mark.parametrize("method", ["nope", "resources/nope", "sampling/createMessage", "roots/list"])
async def test_unknown_method_is_32601(h: Any, method: str) -> None:
    session = await h.initialize()
    answer = await h.rpc(session, method, {})
    h.rpc_error(answer, METHOD_NOT_FOUND, f"method '{method}' not found")


async def test_delete_ends_the_session(h: Any) -> None:
    session = await h.initialize()
    response = await h.request("DELETE", "/mcp", headers={"mcp-session-id": session})
    assert response.status_code == 204
    assert h.gateway.sessions.get(session) is None
    after = await h.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, session=session)
    h.http_error(after, 404, SESSION_NOT_FOUND, "Session not found")
    again = await h.request("DELETE", "/mcp", headers={"mcp-session-id": session})
    h.http_error(again, 404, SESSION_NOT_FOUND, "Session not found")


async def test_delete_leaves_other_sessions(h: Any) -> None:
    keep, drop = await h.initialize(), await h.initialize()
    assert (await h.request("DELETE", "/mcp", headers={"mcp-session-id": drop})).status_code == 204
    await h.rpc(keep, "ping")


async def test_delete_without_session_is_400(h: Any) -> None:
    response = await h.request("DELETE", "/mcp")
    h.http_error(response, 400, INVALID_REQUEST)


# -- framing -----------------------------------------------------------------------------------------------

SSE_EVENT = re.compile(r"event: message\ndata: (\{.*\})\n\n", re.DOTALL)


def sse_payload(response: Any) -> Any:
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == "text/event-stream"
    assert response.headers["cache-control"].startswith("no-cache")
    match = SSE_EVENT.fullmatch(response.text)
    assert match, repr(response.text)
    return json.loads(match.group(1))


async def test_sse_when_only_event_stream_is_accepted(h: Any) -> None:
    response = await h.post(initialize(), accept="text/event-stream")
    answer = sse_payload(response)
    assert answer["result"]["serverInfo"]["name"] == "mcpstead"
    session = response.headers["mcp-session-id"]
    ping = await h.post({"jsonrpc": "2.0", "id": 2, "method": "ping"}, session=session, accept="text/event-stream")
    assert sse_payload(ping) == {"jsonrpc": "2.0", "id": 2, "result": {}}
    unknown = await h.post({"jsonrpc": "2.0", "id": 3, "method": "nope"}, session=session, accept="text/event-stream")
    assert sse_payload(unknown)["error"]["code"] == METHOD_NOT_FOUND


@pytest.mark.parametrize(
    "accept", ["application/json, text/event-stream", "text/event-stream, application/json", "application/json", "*/*"]
)
async def test_json_otherwise(h: Any, accept: str) -> None:
    response = await h.post(initialize(), accept=accept)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["result"]["protocolVersion"] == "2025-11-25"


async def test_http_errors_stay_json_under_sse_accept(h: Any) -> None:
    response = await h.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}, accept="text/event-stream")
    h.http_error(response, 400, INVALID_REQUEST)


async def test_no_accept_header_means_json(h: Any) -> None:
    request = h.client.build_request(
        "POST", "/mcp", content=json.dumps(initialize()).encode(), headers={"content-type": "application/json"}
    )
    del request.headers["accept"]
    response = await h.client.send(request)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"


async def test_initialize_while_shutting_down_is_503(h: Any) -> None:
    session = await h.initialize()
    h.gateway.accepting_sessions = False
    response = await h.post(initialize())
    assert response.status_code == 503
    assert response.text == "gateway shutting down"
    assert "mcp-session-id" not in response.headers
    await h.rpc(session, "ping")  # open sessions keep working until they are ended
