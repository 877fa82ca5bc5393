"""JSON-RPC envelope helpers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mcpstead import jsonrpc


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ({"jsonrpc": "2.0", "id": 1, "method": "ping"}, None),
        ({"jsonrpc": "2.0", "id": "abc", "method": "ping", "params": {}}, None),
        ({"jsonrpc": "2.0", "id": 0, "method": "x", "params": []}, None),
        ({"jsonrpc": "2.0", "method": "notifications/initialized"}, None),
        ({"jsonrpc": "2.0", "id": 7, "result": {}}, None),
        ({"jsonrpc": "2.0", "id": 7, "error": {"code": -1, "message": "no"}}, None),
        ({"jsonrpc": "2.0", "id": None, "error": {"code": -1, "message": "no"}}, None),
        (5, "request must be an object"),
        ("ping", "request must be an object"),
        ([], "request must be an object"),
        (None, "request must be an object"),
        ({"id": 1, "method": "ping"}, "jsonrpc must be '2.0'"),
        ({"jsonrpc": "1.0", "id": 1, "method": "ping"}, "jsonrpc must be '2.0'"),
        ({"jsonrpc": 2.0, "id": 1, "method": "ping"}, "jsonrpc must be '2.0'"),
        ({"jsonrpc": "2.0", "id": 1}, "method is required"),
        ({"jsonrpc": "2.0"}, "method is required"),
        ({"jsonrpc": "2.0", "result": {}}, "method is required"),
        ({"jsonrpc": "2.0", "id": 1, "method": 5}, "method must be a string"),
        ({"jsonrpc": "2.0", "id": 1, "method": None}, "method must be a string"),
        ({"jsonrpc": "2.0", "id": None, "method": "ping"}, "id must be a string or an integer"),
        ({"jsonrpc": "2.0", "id": True, "method": "ping"}, "id must be a string or an integer"),
        ({"jsonrpc": "2.0", "id": 1.5, "method": "ping"}, "id must be a string or an integer"),
        ({"jsonrpc": "2.0", "id": [1], "method": "ping"}, "id must be a string or an integer"),
        ({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": "x"}, "params must be an object or an array"),
        ({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": 3}, "params must be an object or an array"),
    ],
)
def test_validation_error(message: Any, problem: str | None) -> None:
    assert jsonrpc.validation_error(message) == problem


def test_classifiers() -> None:
    request = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    notification = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    response = {"jsonrpc": "2.0", "id": 1, "result": {}}
    assert (jsonrpc.is_request(request), jsonrpc.is_notification(request), jsonrpc.is_response(request)) == (
        True,
        False,
        False,
    )
    assert (jsonrpc.is_request(notification), jsonrpc.is_notification(notification)) == (False, True)
    assert jsonrpc.is_response(response) and not jsonrpc.is_request(response)
    assert not jsonrpc.is_response({"jsonrpc": "2.0", "id": 1})


def test_error_response_shape() -> None:
    assert jsonrpc.error_response(3, -32601, "nope") == {
        "jsonrpc": "2.0",
        "id": 3,
        "error": {"code": -32601, "message": "nope"},
    }
    assert jsonrpc.error_response(None, -32000, "down", {"upstream": "x"})["error"]["data"] == {"upstream": "x"}


def test_result_response_and_encode() -> None:
    encoded = jsonrpc.encode(jsonrpc.result_response("a", {"k": "é"}))
    assert encoded == '{"jsonrpc":"2.0","id":"a","result":{"k":"é"}}'.encode()
    assert json.loads(encoded)["result"] == {"k": "é"}


def test_encode_takes_what_the_fast_encoder_refuses_the_way_json_does() -> None:
    big = 2**70
    assert jsonrpc.encode({"n": big, "f": 0.1, "m": -0.0}) == b'{"n":%d,"f":0.1,"m":-0.0}' % big
    assert jsonrpc.encode({1: "a"}) == b'{"1":"a"}'
    deep: object = "x"
    for _ in range(300):
        deep = [deep]
    assert jsonrpc.parse(jsonrpc.encode(deep), 400) == deep
    with pytest.raises(UnicodeEncodeError):
        jsonrpc.encode({"lone": "\ud800"})


def test_a_number_too_large_for_a_float_is_refused_not_turned_into_infinity() -> None:
    with pytest.raises(jsonrpc.ParseError, match="too large for a 64-bit float"):
        jsonrpc.parse(b'{"a": 1e400}')
    assert jsonrpc.parse(b'{"a": 1e300, "b": 123456789012345678901234567890}') == {
        "a": 1e300,
        "b": 123456789012345678901234567890,
    }


def test_codes() -> None:
    assert (jsonrpc.PARSE_ERROR, jsonrpc.INVALID_REQUEST, jsonrpc.METHOD_NOT_FOUND, jsonrpc.INVALID_PARAMS) == (
        -32700,
        -32600,
        -32601,
        -32602,
    )
    assert (jsonrpc.UPSTREAM_ERROR, jsonrpc.SESSION_NOT_FOUND) == (-32000, -32001)
