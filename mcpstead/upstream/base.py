"""What every upstream connection offers, whatever its transport, and the handshake they share."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from mcpstead.errors import UpstreamError
from mcpstead.protocol import IMPLEMENTATION, LATEST_VERSION, MODERN_VERSIONS, SERVER_INFO_KEY

if TYPE_CHECKING:
    from mcpstead.relay import InFlightCall

WireHook = Callable[[Literal["sent", "received"], bytes | str], None]
"""Told every message sent ("sent") and received ("received") as it crossed the wire (an SSE event's data as
text): for the bytes metric, and for the traffic tap when something listens."""
DEFAULT_MESSAGE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class MessageLimit:
    """The largest message an upstream may send (an HTTP body, an SSE event, a stdio line), and whom to tell
    when one is refused (`limits.upstream_message_bytes`, the metric)."""

    max_bytes: int = DEFAULT_MESSAGE_BYTES
    hit: Callable[[str], None] = lambda limit: None


DEFAULT_LIMIT = MessageLimit()


GATEWAY_CAPABILITIES: dict[str, Any] = {
    "sampling": {},
    "elicitation": {"form": {}, "url": {}},
    "roots": {"listChanged": True},
}
"""What a shared upstream session is told the client can do, so servers offer the tools that need it; a
request for a capability the calling client lacks is refused at once (relay.missing_capability)."""
MAX_LIST_PAGES = 1000
"""A bound on list pages, so an upstream that repeats a cursor cannot loop the gateway forever."""

_request_ids = itertools.count(1)


def next_request_id() -> int:
    """Gateway-unique upstream request ids: no two requests in flight anywhere share one."""
    return next(_request_ids)


@dataclass(frozen=True, slots=True)
class UpstreamIdentity:
    """What the upstream told us about itself in `initialize` or `server/discover`."""

    protocol_version: str
    server_name: str
    server_version: str
    capabilities: dict[str, Any]
    instructions: str | None = None


class Connection(Protocol):
    """A live, initialized (or initializing) link to one upstream."""

    closed: asyncio.Event
    """Set when the link is gone for good (child exited, stream ended); `close_reason` says why."""
    close_reason: str | None

    async def open(self) -> None: ...

    async def request(
        self, method: str, params: dict[str, Any] | None, timeout: float, call: InFlightCall | None = None
    ) -> Any:
        """Send a request, return its `result`. Raises UpstreamRpcError for a JSON-RPC error answer and
        UpstreamError (or a subclass) for anything else that went wrong. What arrives on the request's own
        stream before the answer goes to the connection's inbound, tied to `call`."""
        ...

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None: ...

    async def respond(self, message: dict[str, Any]) -> None:
        """Send the answer to one of the upstream's own requests."""
        ...

    def initialized(self) -> None:
        """The handshake is done: start what the transport does next (the HTTP GET stream)."""
        ...

    async def close(self) -> None: ...


async def initialize(
    connection: Connection,
    upstream: str,
    timeout: float,
    capabilities: dict[str, Any] | None = None,
    client_info: dict[str, Any] | None = None,
) -> UpstreamIdentity:
    """The legacy handshake, declaring `capabilities` (the gateway's, or one client's in per-client mode)."""
    result = await connection.request(
        "initialize",
        {
            "protocolVersion": LATEST_VERSION,
            "capabilities": GATEWAY_CAPABILITIES if capabilities is None else capabilities,
            "clientInfo": client_info or IMPLEMENTATION,
        },
        timeout,
    )
    if not isinstance(result, dict):
        raise UpstreamError(upstream, f"upstream '{upstream}' initialize returned no result object")
    info = _mapping(result.get("serverInfo"))
    capabilities = _mapping(result.get("capabilities"))
    version = str(result.get("protocolVersion", LATEST_VERSION))
    identity = UpstreamIdentity(
        protocol_version=version,
        server_name=str(info.get("name", "")),
        server_version=str(info.get("version", "")),
        capabilities=capabilities,
        instructions=result["instructions"] if isinstance(result.get("instructions"), str) else None,
    )
    await connection.notify("notifications/initialized")
    connection.initialized()
    return identity


async def discover(connection: Connection, upstream: str, timeout: float) -> UpstreamIdentity:
    """The 2026-07-28 way to learn what an upstream is: `server/discover` (no handshake, no session). The
    caller says `connection.initialized()` once it speaks this era to it (detection may not)."""
    result = await connection.request("server/discover", {}, timeout)
    if not isinstance(result, dict):
        raise UpstreamError(upstream, f"upstream '{upstream}' server/discover returned no result object")
    offered = result.get("supportedVersions")
    versions = tuple(version for version in offered if isinstance(version, str)) if isinstance(offered, list) else ()
    served = [v for v in MODERN_VERSIONS if v in versions]
    if not served:
        raise UpstreamError(upstream, f"upstream '{upstream}' serves none of {', '.join(MODERN_VERSIONS)} ({versions})")
    meta = _mapping(result.get("_meta"))
    info = _mapping(meta.get(SERVER_INFO_KEY))
    return UpstreamIdentity(
        protocol_version=served[0],
        server_name=str(info.get("name", "")),
        server_version=str(info.get("version", "")),
        capabilities=_mapping(result.get("capabilities")),
        instructions=result["instructions"] if isinstance(result.get("instructions"), str) else None,
    )


LIST_METHODS = {
    "tools": "tools/list",
    "prompts": "prompts/list",
    "resources": "resources/list",
    "resourceTemplates": "resources/templates/list",
}
"""List kind (the key its items come under) -> the method that lists it."""
ITEM_KEYS = {"tools": "name", "prompts": "name", "resources": "uri", "resourceTemplates": "uriTemplate"}
"""The field every item of a kind must have as a string; items without it are skipped."""


async def list_all(
    connection: Connection, upstream: str, kind: str, timeout: float, max_items: int = 10_000
) -> list[dict[str, Any]]:
    """Every item of one kind, following `nextCursor` to the end (an empty string is a valid cursor), but
    no more than `max_items` + 1: the caller sees the list was longer, and memory stays bounded."""
    method, key = LIST_METHODS[kind], ITEM_KEYS[kind]
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(MAX_LIST_PAGES):
        params = {"cursor": cursor} if cursor is not None else {}
        result = await connection.request(method, params, timeout)
        page = result.get(kind) if isinstance(result, dict) else None
        if not isinstance(page, list):
            raise UpstreamError(upstream, f"upstream '{upstream}' {method} returned no {kind} array")
        items.extend(item for item in page if isinstance(item, dict) and isinstance(item.get(key), str))
        next_cursor = result.get("nextCursor")
        if not isinstance(next_cursor, str) or len(items) > max_items:
            return items[: max_items + 1]
        cursor = next_cursor
    raise UpstreamError(upstream, f"upstream '{upstream}' {method} did not end after {MAX_LIST_PAGES} pages")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def request_message(method: str, params: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
    """A JSON-RPC request with a fresh gateway-unique id, and that id."""
    request_id = next_request_id()
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return request_id, message


def notification_message(method: str, params: dict[str, Any] | None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    return message
