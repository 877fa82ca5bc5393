"""MCP protocol facts the gateway relies on: versions and eras, negotiation and qualified tool names."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from mcpstead import __version__

IMPLEMENTATION = {"name": "mcpstead", "version": __version__}
"""What mcpstead calls itself: serverInfo to clients, clientInfo to upstreams."""

SUPPORTED_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
"""Legacy-era versions served downstream, newest first."""
LATEST_VERSION = SUPPORTED_VERSIONS[0]
DEFAULT_HEADERLESS_VERSION = "2025-03-26"
"""What the spec says to assume when a request carries no MCP-Protocol-Version header."""
BATCH_VERSION = "2025-03-26"
"""The only version whose POST bodies may be JSON-RPC batches."""
MODERN_VERSIONS = ("2026-07-28",)
"""Versions of the modern era: no handshake, no session, every request carries its envelope in `_meta`."""

PROTOCOL_VERSION_KEY = "io.modelcontextprotocol/protocolVersion"
CLIENT_CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities"
CLIENT_INFO_KEY = "io.modelcontextprotocol/clientInfo"
LOG_LEVEL_KEY = "io.modelcontextprotocol/logLevel"
SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo"
SUBSCRIPTION_ID_KEY = "io.modelcontextprotocol/subscriptionId"
ENVELOPE_KEYS = frozenset({PROTOCOL_VERSION_KEY, CLIENT_CAPABILITIES_KEY, CLIENT_INFO_KEY, LOG_LEVEL_KEY})
"""The `_meta` keys of a modern request's envelope (the gateway writes its own for each upstream)."""
MODERN_METHODS = frozenset(
    {
        "server/discover",
        "subscriptions/listen",
        "tools/list",
        "tools/call",
        "prompts/list",
        "prompts/get",
        "resources/list",
        "resources/templates/list",
        "resources/read",
        "completion/complete",
    }
)
"""Requests that exist in 2026-07-28; any other (initialize, ping, logging/setLevel, resources/subscribe,
tasks/*) is answered 404 with -32601 on the modern wire."""

RELAYED_CAPABILITIES = frozenset({"tools", "prompts", "resources", "completions", "logging", "tasks"})
"""The server capabilities mcpstead passes on (those of its method table, router.py); an upstream's others
(`experimental`, extensions, ...) are named as not passed on, never dropped silently."""

NAME_PARAMS = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}
"""2026-07-28: methods whose `Mcp-Name` header mirrors a param, and which param."""

Era = Literal["legacy", "modern"]


def classify_era(header_version: str | None, has_session: bool, message: Any) -> Era:
    """Which era a POST speaks (brief §2). A version header decides when it names a version of either era.
    An unknown one is modern (whose path answers -32022 naming what is served) unless the request carries a
    session, which only the legacy handshake hands out. With no header and no session, the envelope's
    version key in `_meta` means modern (legacy clients send `_meta` too, so only that key counts)."""
    if header_version is not None:
        version = header_version.strip()
        if version in SUPPORTED_VERSIONS:
            return "legacy"
        return "modern" if version in MODERN_VERSIONS or not has_session else "legacy"
    if has_session or not isinstance(message, dict):
        return "legacy"
    params = message.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    return "modern" if isinstance(meta, dict) and PROTOCOL_VERSION_KEY in meta else "legacy"


def without_envelope(params: Mapping[str, Any]) -> dict[str, Any]:
    """`params` with the modern envelope keys taken out of `_meta` (a legacy upstream must not see them)."""
    return without_meta(params, ENVELOPE_KEYS)


def without_meta(params: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """`params` with `keys` taken out of its `_meta` (and `_meta` gone if nothing else was in it)."""
    meta = params.get("_meta")
    dropped = frozenset(keys)
    if not isinstance(meta, dict) or not dropped & meta.keys():
        return dict(params)
    kept = {key: value for key, value in meta.items() if key not in dropped}
    stripped = {key: value for key, value in params.items() if key != "_meta"}
    if kept:
        stripped["_meta"] = kept
    return stripped


SEPARATOR = "__"
MAX_QUALIFIED_NAME = 64
"""Many clients and LLM APIs cap tool names at 64 characters; the conformance suite checks it too."""
_HASH_LENGTH = 8


def negotiate_version(requested: object) -> str:
    """The client's version when we speak it, else our latest (the client then decides to go on or not)."""
    if isinstance(requested, str) and requested in SUPPORTED_VERSIONS:
        return requested
    return LATEST_VERSION


def qualify(upstream: str, tool: str) -> tuple[str, bool]:
    """`<upstream>__<tool>`, shortened deterministically past 64 characters.

    Returns the name and whether it was shortened. A shortened name keeps a readable prefix and ends in a
    hash of the full name, so two long names never collide silently and the same tool always gets the same name.
    """
    full = f"{upstream}{SEPARATOR}{tool}"
    if len(full) <= MAX_QUALIFIED_NAME:
        return full, False
    digest = hashlib.sha256(full.encode()).hexdigest()[:_HASH_LENGTH]
    return f"{full[: MAX_QUALIFIED_NAME - _HASH_LENGTH - 1]}_{digest}", True


def split_qualified(name: str) -> tuple[str, str] | None:
    """Split on the first `__` (server names never contain it; tool names may)."""
    upstream, separator, tool = name.partition(SEPARATOR)
    if not separator or not upstream or not tool:
        return None
    return upstream, tool
