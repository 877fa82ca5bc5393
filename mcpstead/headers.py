"""The 2026-07-28 header codec: values that cannot be header text ride in a base64 sentinel, and tool
arguments a schema marks with `x-mcp-header` are mirrored into `Mcp-Param-*` headers. Both the modern
downstream path (to check them) and the modern upstream client (to send them) use it."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

from mcpstead.protocol import NAME_PARAMS

_SENTINEL = re.compile(r"^=\?base64\?(?P<payload>.*)\?=$")
_HEADER_SAFE = re.compile(r"^[\x20-\x7e]*$")
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
HEADER_TYPES = frozenset({"string", "integer", "boolean"})
"""The property types an `x-mcp-header` annotation may sit on."""


def decode_header_value(value: str | None) -> str | None:
    """The value, or what its base64 sentinel wraps; None for a malformed sentinel (it matches nothing)."""
    if value is None:
        return None
    value = value.strip()
    match = _SENTINEL.fullmatch(value)
    if match is None:
        return value
    payload = match.group("payload")
    try:
        decoded = base64.b64decode(payload, validate=True)
        if base64.b64encode(decoded).decode("ascii") != payload:
            return None  # not the canonical form an encoder writes
        return decoded.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def encode_header_value(value: str) -> str:
    """Plain when it survives as a header value, else wrapped in the base64 sentinel."""
    if _HEADER_SAFE.fullmatch(value) and value == value.strip() and not _SENTINEL.fullmatch(value):
        return value
    return f"=?base64?{base64.b64encode(value.encode('utf-8')).decode('ascii')}?="


def header_annotations(schema: Any) -> dict[tuple[str, ...], str]:
    """`x-mcp-header` annotations of a tool's input schema, by property path; {} when any is invalid (a
    conforming client then drops the tool and sends no headers for it, so none can be checked)."""
    found: dict[tuple[str, ...], str] = {}
    seen: set[str] = set()
    stack: list[tuple[tuple[str, ...], Any]] = [((), schema)]
    while stack:
        path, node = stack.pop()
        if not isinstance(node, dict):
            continue
        token = node.get("x-mcp-header")
        if token is not None:
            valid = (
                bool(path)
                and isinstance(token, str)
                and _TOKEN.fullmatch(token) is not None
                and node.get("type") in HEADER_TYPES
                and token.lower() not in seen
            )
            if not valid:
                return {}
            seen.add(str(token).lower())
            found[path] = str(token)
        properties = node.get("properties")
        if isinstance(properties, dict):
            stack.extend(((*path, str(key)), sub) for key, sub in properties.items())
    return found


def header_text(value: Any) -> str | None:
    """How a client mirrors an argument into its header (None: it sends none)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        try:
            return str(value)
        except ValueError:  # an int past Python's digit limit
            return None
    return None


def value_at(arguments: Any, path: tuple[str, ...]) -> Any:
    node = arguments
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def param_headers(schema: Any, arguments: Any) -> dict[str, str]:
    """The `Mcp-Param-*` headers a `tools/call` with `arguments` carries (what the gateway sends upstream)."""
    headers: dict[str, str] = {}
    for path, token in header_annotations(schema).items():
        text = header_text(value_at(arguments, path))
        if text is not None:
            headers[f"Mcp-Param-{token}"] = encode_header_value(text)
    return headers


def modern_request_headers(version: str, method: str, params: Any, tool_schema: Callable[[str], Any]) -> dict[str, str]:
    """The routing headers a 2026-07-28 request carries: its version, method, name (tools/call, prompts/get,
    resources/read) and, for a tools/call, the `Mcp-Param-*` mirrors of its annotated arguments."""
    headers = {"mcp-protocol-version": version, "mcp-method": method}
    key = NAME_PARAMS.get(method)
    value = params.get(key) if key is not None and isinstance(params, dict) else None
    if isinstance(value, str):
        headers["mcp-name"] = encode_header_value(value)
        if method == "tools/call":
            headers.update(param_headers(tool_schema(value), params.get("arguments")))
    return headers
