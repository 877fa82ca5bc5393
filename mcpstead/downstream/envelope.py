"""The 2026-07-28 request envelope: the headers and `_meta` every modern request carries, checked in order.

The ladder (brief §4.2, in the order the mcp SDK's server checks it, so clients get the same answer from
mcpstead as from a server behind it): a routing header given twice, then `_meta` with the protocol version
and client capabilities (-32602), then `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` against the body
(-32020), then the version itself (-32022 naming the supported ones), then the log level (-32602). The
`Mcp-Param-*` headers of a `tools/call` are checked against the tool's schema by `param_header_problem`.
Header values may carry the `=?base64?…?=` sentinel, which is decoded before comparing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mcpstead import jsonrpc
from mcpstead.headers import decode_header_value, header_annotations, header_text, value_at
from mcpstead.protocol import (
    CLIENT_CAPABILITIES_KEY,
    CLIENT_INFO_KEY,
    LOG_LEVEL_KEY,
    MODERN_VERSIONS,
    NAME_PARAMS,
    PROTOCOL_VERSION_KEY,
)
from mcpstead.sessions import LOG_LEVELS

VERSION_HEADER = "mcp-protocol-version"
METHOD_HEADER = "mcp-method"
NAME_HEADER = "mcp-name"
PARAM_HEADER_PREFIX = "mcp-param-"
_ROUTING_HEADERS = frozenset({VERSION_HEADER, METHOD_HEADER, NAME_HEADER})


@dataclass(frozen=True, slots=True)
class Envelope:
    """What a modern request says about its client, taken from `params._meta`."""

    protocol_version: str
    client_capabilities: dict[str, Any]
    client_info: dict[str, Any]
    log_level: str | None


@dataclass(frozen=True, slots=True)
class Rejection:
    code: int
    message: str
    data: Any = None


def duplicated_routing_header(raw_headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    seen: set[str] = set()
    for name, _value in raw_headers:
        key = name.decode("latin-1").lower()
        if key in _ROUTING_HEADERS:
            if key in seen:
                return key
            seen.add(key)
    return None


def unsupported(requested: str) -> Rejection:
    return Rejection(
        jsonrpc.UNSUPPORTED_VERSION,
        "Unsupported protocol version",
        {"supported": list(MODERN_VERSIONS), "requested": requested},
    )


def read_envelope(message: Mapping[str, Any], headers: Mapping[str, str]) -> Envelope | Rejection:
    """The request's envelope, or the first rung of the ladder it fails."""
    params = message.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    if not isinstance(meta, dict):
        return Rejection(
            jsonrpc.INVALID_PARAMS,
            f"params._meta must be an object carrying '{PROTOCOL_VERSION_KEY}' and '{CLIENT_CAPABILITIES_KEY}'",
        )
    missing = [key for key in (PROTOCOL_VERSION_KEY, CLIENT_CAPABILITIES_KEY) if key not in meta]
    if missing:
        return Rejection(jsonrpc.INVALID_PARAMS, f"params._meta is missing {', '.join(repr(k) for k in missing)}")
    version = meta[PROTOCOL_VERSION_KEY]
    header_version = headers.get(VERSION_HEADER)
    if header_version is None or header_version.strip() != version:
        return Rejection(
            jsonrpc.HEADER_MISMATCH, "MCP-Protocol-Version header does not match params._meta's protocol version"
        )
    method = message.get("method")
    if (headers.get(METHOD_HEADER) or "").strip() != method:
        return Rejection(jsonrpc.HEADER_MISMATCH, "Mcp-Method header does not match the request's method")
    name_key = NAME_PARAMS.get(str(method))
    if name_key is not None and isinstance(params, dict):
        body_value = params.get(name_key)
        if body_value is not None and decode_header_value(headers.get(NAME_HEADER)) != body_value:
            return Rejection(jsonrpc.HEADER_MISMATCH, f"Mcp-Name header does not match params.{name_key}")
    if not isinstance(version, str):
        return Rejection(jsonrpc.INVALID_PARAMS, f"params._meta['{PROTOCOL_VERSION_KEY}'] must be a string")
    if version not in MODERN_VERSIONS:
        return unsupported(version)
    capabilities = meta[CLIENT_CAPABILITIES_KEY]
    if not isinstance(capabilities, dict):
        return Rejection(jsonrpc.INVALID_PARAMS, f"params._meta['{CLIENT_CAPABILITIES_KEY}'] must be an object")
    level = meta.get(LOG_LEVEL_KEY)
    if level is not None and level not in LOG_LEVELS:
        return Rejection(
            jsonrpc.INVALID_PARAMS, f"params._meta['{LOG_LEVEL_KEY}'] must be one of {', '.join(LOG_LEVELS)}"
        )
    info = meta.get(CLIENT_INFO_KEY)
    return Envelope(version, capabilities, info if isinstance(info, dict) else {}, level)


def param_header_problem(schema: Any, arguments: Any, raw_headers: Iterable[tuple[bytes, bytes]]) -> Rejection | None:
    """Whether the request's `Mcp-Param-*` headers agree with its arguments: present together, and equal
    once decoded (integers compared as numbers)."""
    annotations = header_annotations(schema)
    if not annotations:
        return None
    given: dict[str, list[str]] = {}
    for name, value in raw_headers:
        key = name.decode("latin-1").lower()
        if key.startswith(PARAM_HEADER_PREFIX):
            given.setdefault(key, []).append(value.decode("latin-1"))
    for path, token in annotations.items():
        header = f"Mcp-Param-{token}"
        values = given.get(header.lower(), [])
        argument = ".".join(path)
        if len(values) > 1:
            return Rejection(jsonrpc.HEADER_MISMATCH, f"{header} header appears more than once")
        value = value_at(arguments, path)
        text = header_text(value) if value is not None else None
        if text is None:
            if values:
                return Rejection(
                    jsonrpc.HEADER_MISMATCH, f"{header} header is present but argument '{argument}' is not"
                )
            continue
        if not values:
            return Rejection(jsonrpc.HEADER_MISMATCH, f"{header} header is missing for argument '{argument}'")
        decoded = decode_header_value(values[0])
        if decoded is None or not _same(value, text, decoded):
            return Rejection(jsonrpc.HEADER_MISMATCH, f"{header} header does not match argument '{argument}'")
    return None


_DECIMAL = re.compile(r"^-?[0-9]+(\.0+)?$")


def _same(value: Any, text: str, decoded: str) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and _DECIMAL.fullmatch(decoded):
        return float(value).is_integer() and int(decoded.split(".")[0]) == int(value)
    return decoded == text
