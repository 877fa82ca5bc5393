"""JSON-RPC 2.0 envelopes and codes. Pure functions over plain dicts: the gateway passes unknown fields on."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
UPSTREAM_ERROR = -32000
"""The reference gateway's code for every upstream failure (disconnected, HTTP error, timeout)."""
SESSION_NOT_FOUND = -32001
HEADER_MISMATCH = -32020
"""2026-07-28: a routing header disagrees with the body (or is missing, or given twice)."""
MISSING_CLIENT_CAPABILITY = -32021
"""2026-07-28: the request needs a client capability its envelope does not declare."""
UNSUPPORTED_VERSION = -32022
"""2026-07-28: the envelope's protocol version is not served; data names the supported ones."""

JsonId = str | int | None


def error_response(msg_id: JsonId, code: int, message: str, data: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": msg_id, "error": error}


def result_response(msg_id: JsonId, result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "result": result}


class ParseError(ValueError):
    """A body that is not one JSON text the gateway can pass on (the client gets 400 with -32700)."""


class TooDeepError(ParseError):
    """A body nested deeper than the configured limit (counted as a limit hit, unlike other parse errors)."""


def _no_constants(name: str) -> Any:
    raise ParseError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1e400: passed on it would be Infinity, which is not JSON, or null, which is wrong
        raise ParseError(f"the number {text[:40]} is too large for a 64-bit float")
    return value


_DECODER = json.JSONDecoder(parse_constant=_no_constants, parse_float=_finite)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
"""A surrogate escape: fine as half of a pair, not alone (it could not be encoded to send upstream)."""


def parse(body: bytes | str, max_depth: int | None = None) -> Any:
    """Strict JSON: UTF-8 without a BOM, no NaN or Infinity, no lone surrogates, nested at most `max_depth`
    arrays and objects deep (or what the parser can handle). Raises ParseError saying what is wrong.

    Upstream answers go through here too: what an upstream sends must be something a client can be sent."""
    if isinstance(body, str):
        text = body
    else:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(f"the body is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    if text.startswith("\ufeff"):
        raise ParseError("a UTF-8 byte order mark is not allowed")
    try:
        message = _DECODER.decode(text)
    except RecursionError:
        if max_depth is not None:
            raise TooDeepError(f"JSON nested too deeply; the limit is {max_depth} (limits.json_depth)") from None
        raise ParseError("JSON nested too deeply") from None
    except ValueError as exc:
        raise ParseError(str(exc)) from None
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(message, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            raise ParseError("a lone UTF-16 surrogate (\\ud800-\\udfff) is not a character") from None
        except RecursionError:
            raise ParseError("JSON nested too deeply") from None
    if max_depth is not None and text.count("[") + text.count("{") > max_depth:
        depth = nesting_depth(message)
        if depth > max_depth:
            raise TooDeepError(f"JSON nested {depth} deep; the limit is {max_depth} (limits.json_depth)")
    return message


def nesting_depth(value: Any) -> int:
    """How many arrays and objects deep `value` goes, walked without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children if isinstance(child, (dict, list)))
    return deepest


def encode(message: Any) -> bytes:
    """Compact UTF-8 JSON, the form every transport sends. orjson encodes in a twentieth of the time json
    takes (0.4 against 7-11 µs for a tools/call and its answer); what it refuses (an integer past 64 bits,
    a key that is not a string, nesting past 254, a lone surrogate) goes through json as before, which
    encodes all but the lone surrogate."""
    try:
        return orjson.dumps(message)
    except orjson.JSONEncodeError:
        return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


def is_request(message: dict[str, Any]) -> bool:
    return "method" in message and "id" in message


def is_notification(message: dict[str, Any]) -> bool:
    return "method" in message and "id" not in message


def is_response(message: dict[str, Any]) -> bool:
    return "method" not in message and "id" in message and ("result" in message or "error" in message)


def validation_error(message: Any) -> str | None:
    """Why `message` is not a JSON-RPC 2.0 message, or None when it is one."""
    if not isinstance(message, dict):
        return "request must be an object"
    if message.get("jsonrpc") != "2.0":
        return "jsonrpc must be '2.0'"
    if "method" in message:
        if not isinstance(message["method"], str):
            return "method must be a string"
        msg_id = message.get("id", 0)
        if msg_id is None or isinstance(msg_id, bool) or not isinstance(msg_id, (str, int)):
            return "id must be a string or an integer"
        params = message.get("params")
        if params is not None and not isinstance(params, (dict, list)):
            return "params must be an object or an array"
        return None
    if is_response(message):
        return None
    return "method is required"
