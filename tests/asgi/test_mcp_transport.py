"""POST /mcp before dispatch: Accept, Content-Type, size, JSON and JSON-RPC shape, in that order."""

from __future__ import annotations

import json
from typing import Any

import pytest

INVALID_REQUEST, PARSE_ERROR = -32600, -32700
NOT_ACCEPTABLE = "Not Acceptable: accept application/json or text/event-stream"
UNSUPPORTED = "Unsupported Media Type: Content-Type must be application/json"
PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "application/json;q=0", "image/png, text/plain"])
async def test_406_when_neither_json_nor_sse_is_acceptable(h: Any, accept: str) -> None:
    response = await h.post(PING, accept=accept)
    h.http_error(response, 406, INVALID_REQUEST, NOT_ACCEPTABLE)


async def test_accept_is_checked_before_content_type(h: Any) -> None:
    response = await h.post(PING, accept="text/html", content_type="text/plain")
    assert response.status_code == 406


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/jsonx"])
async def test_415_for_another_content_type(h: Any, content_type: str) -> None:
    response = await h.post(PING, content_type=content_type)
    h.http_error(response, 415, INVALID_REQUEST, UNSUPPORTED)


async def test_415_without_content_type(h: Any) -> None:
    response = await h.post(PING, content_type=None)
    assert "content-type" not in response.request.headers
    h.http_error(response, 415, INVALID_REQUEST, UNSUPPORTED)


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON"])
async def test_content_type_parameters_and_case_are_fine(h: Any, content_type: str) -> None:
    response = await h.post(
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}, content_type=content_type
    )
    assert response.status_code == 200


LIMITED = "mcp:\n  max_body_bytes: 1024\n"
TOO_LARGE = "Payload Too Large: the limit is 1024 bytes"


def padded_initialize(size: int) -> bytes:
    """An initialize request of exactly `size` bytes."""
    message = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"clientInfo": {"name": ""}}}
    bare = len(json.dumps(message).encode())
    message["params"]["clientInfo"]["name"] = "n" * (size - bare)
    body = json.dumps(message).encode()
    assert len(body) == size
    return body


async def test_413_over_the_body_limit(start: Any) -> None:
    async with start(LIMITED) as h:
        response = await h.post(padded_initialize(1025))
        h.http_error(response, 413, INVALID_REQUEST, TOO_LARGE)
        assert len(h.gateway.sessions) == 0


async def test_a_body_at_the_limit_is_accepted(start: Any) -> None:
    async with start(LIMITED) as h:
        response = await h.post(padded_initialize(1024))
        assert response.status_code == 200


async def test_413_for_a_chunked_body_without_content_length(start: Any) -> None:
    async def chunks() -> Any:
        for _ in range(20):
            yield b" " * 100

    async with start(LIMITED) as h:
        response = await h.client.post(
            "/mcp", content=chunks(), headers={"content-type": "application/json", "accept": "application/json"}
        )
        assert "content-length" not in response.request.headers
        h.http_error(response, 413, INVALID_REQUEST, TOO_LARGE)


@pytest.mark.parametrize("body", [b"{not json", b"", b'{"jsonrpc": "2.0", "id": 1,', b"\xff\xfe"])
async def test_400_parse_error(h: Any, body: bytes) -> None:
    response = await h.post(body)
    message = h.http_error(response, 400, PARSE_ERROR)
    assert message.startswith("Parse error")


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
        (b'{"a":' * 3000 + b"1" + b"}" * 3000, "nested too deeply"),
        (b'{"jsonrpc": "2.0", "id": "\\ud800", "method": "ping"}', "lone UTF-16 surrogate"),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "x\\udfff"}}', "surrogate"),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"n": NaN}}', "NaN is not JSON"),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"n": -Infinity}}', "-Infinity is not JSON"),
        (b'\xef\xbb\xbf{"jsonrpc": "2.0", "id": 1, "method": "ping"}', "byte order mark"),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "p\xc3("}', "not UTF-8"),
    ],
)
async def test_json_the_gateway_could_not_pass_on_is_a_400_not_a_500(h: Any, body: bytes, why: str) -> None:
    session = await h.initialize()
    response = await h.post(body, session=session)
    message = h.http_error(response, 400, PARSE_ERROR)
    assert why in message
    assert (await h.rpc(session, "ping"))["result"] == {}  # and the gateway still serves


async def test_a_surrogate_pair_is_a_character_and_passes(h: Any) -> None:
    session = await h.initialize()
    response = await h.post(b'{"jsonrpc": "2.0", "id": "\\ud83d\\ude00", "method": "ping"}', session=session)
    assert response.status_code == 200 and response.json()["id"] == "\U0001f600"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (5, "Invalid Request: request must be an object"),
        ("ping", "Invalid Request: request must be an object"),
        (None, "Invalid Request: request must be an object"),
        ({"jsonrpc": "1.0", "id": 1, "method": "ping"}, "Invalid Request: jsonrpc must be '2.0'"),
        ({"id": 1, "method": "ping"}, "Invalid Request: jsonrpc must be '2.0'"),
        ({"jsonrpc": "2.0", "id": 1}, "Invalid Request: method is required"),
        ({"jsonrpc": "2.0", "id": 1, "method": 7}, "Invalid Request: method must be a string"),
        ({"jsonrpc": "2.0", "id": None, "method": "ping"}, "Invalid Request: id must be a string or an integer"),
        (
            {"jsonrpc": "2.0", "id": 1, "method": "ping", "params": "x"},
            "Invalid Request: params must be an object or an array",
        ),
    ],
)
async def test_400_invalid_request(h: Any, body: Any, message: str) -> None:
    session = await h.initialize()
    response = await h.post(body, session=session)
    h.http_error(response, 400, INVALID_REQUEST, message)


async def test_shape_is_checked_before_the_session(h: Any) -> None:
    response = await h.post({"jsonrpc": "2.0", "id": 1})
    h.http_error(response, 400, INVALID_REQUEST, "Invalid Request: method is required")


async def test_get_stream_needs_a_session(h: Any) -> None:
    response = await h.request("GET", "/mcp", headers={"accept": "text/event-stream"})
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("Bad Request: missing Mcp-Session-Id")


async def test_get_stream_needs_event_stream_accept(h: Any) -> None:
    response = await h.request("GET", "/mcp", headers={"accept": "application/json"})
    assert response.status_code == 406
    assert response.json()["error"]["message"] == "Not Acceptable: GET needs Accept: text/event-stream"


async def test_other_methods_are_405(h: Any) -> None:
    assert (await h.request("PUT", "/mcp")).status_code == 405


async def test_unknown_path_is_404(h: Any) -> None:
    assert (await h.request("GET", "/nope")).status_code == 404
