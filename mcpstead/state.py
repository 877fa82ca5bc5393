"""The read model: frozen views of the gateway that the dashboard (or any observer) can hold safely.

The core never waits on an observer. It bumps a version counter on every change; observers call
`wait_for_change(seen)` and then take a `snapshot()`, which only assembles tuples the core already keeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

UpstreamStatus = Literal["connecting", "ready", "backoff", "failed", "stopped"]
TransportKind = Literal["streamable-http", "sse", "stdio"]
TransportShown = Literal["streamable-http", "sse", "stdio", "auto"]
"""What the read model shows: `auto` while an HTTP upstream's transport is not yet detected."""
Hop = Literal["client", "upstream"]
Direction = Literal["in", "out"]
"""Seen from the gateway: "in" arrives at it (client->gateway, upstream->gateway), "out" leaves it."""
CallOutcome = Literal["ok", "tool_error", "error"]
CallSource = Literal["client", "dashboard"]


@dataclass(frozen=True, slots=True)
class ToolView:
    """One upstream tool as clients see it: qualified name plus the upstream's own definition."""

    qualified_name: str
    upstream: str
    name: str
    description: str
    definition: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class OfferedView:
    """A prompt, resource or resource template as clients see it, and the upstream that serves it."""

    kind: Literal["prompt", "resource", "template"]
    upstream: str
    key: str
    """The name (prompt), URI (resource) or URI template clients use."""
    definition: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class UpstreamView:
    name: str
    transport: TransportShown
    target: str
    status: UpstreamStatus
    required: bool
    tools: tuple[ToolView, ...]
    last_seen: float | None
    reconnects: int
    last_error: str | None
    next_retry_at: float | None
    pid: int | None
    exit_code: int | None
    calls: int
    errors: int
    stderr_tail: tuple[str, ...]
    stderr_seq: int
    """How many stderr lines this upstream has written in all; the newest `stderr_seq - seen` of
    `stderr_tail` are the ones a reader has not seen (the tail is a sliding window)."""

    session_resets: Mapping[str, int]
    """Upstream session re-initializations by reason (unknown_session, expired, terminated)."""
    prompts: int = 0
    resources: int = 0
    resource_templates: int = 0
    """How many of each the upstream lists (the tools are in `tools`)."""
    client_sessions: int = 0
    """Per-client upstream sessions open (`session: per_client`)."""
    era: str | None = None
    """The protocol era it speaks ("legacy": the 2025 handshake; "modern": 2026-07-28); None until known."""

    @property
    def connected(self) -> bool:
        return self.status == "ready"


@dataclass(frozen=True, slots=True)
class SessionView:
    session_id: str
    client_name: str
    client_version: str
    protocol_version: str
    created_at: float
    last_activity: float
    calls: int
    era: str = "legacy"
    """"modern": a 2026-07-28 client, known by the clientInfo its requests carry (it holds no session; a
    `subscriptions/listen` stream shows as a session of this era while it is open)."""


@dataclass(frozen=True, slots=True)
class CallView:
    """A finished tool call. Times are wall-clock seconds; durations are milliseconds."""

    seq: int
    started_at: float
    session_id: str | None
    client: str
    source: CallSource
    tool: str
    upstream: str
    arguments: Any
    outcome: CallOutcome
    result: Any
    error: str | None
    total_ms: float
    upstream_ms: float | None


@dataclass(frozen=True, slots=True)
class LogLineView:
    """One gateway log line; `seq` grows by one per line so readers can ask for what is new."""

    seq: int
    created: float
    level: str
    logger: str
    message: str


@dataclass(frozen=True, slots=True)
class ReloadView:
    """The outcome of one config reload: what changed, or every error that kept the old config."""

    at: float
    ok: bool
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    restarted: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    """Changed settings that need a process restart to take effect (host, port, logging, mcp.session)."""
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GatewaySnapshot:
    version: int
    listen_url: str
    auth_mode: str
    config_path: str
    started_at: float
    upstreams: tuple[UpstreamView, ...]
    sessions: tuple[SessionView, ...]
    calls: tuple[CallView, ...]
    """Newest first, bounded."""
    last_reload: ReloadView | None = None
    catalog_problems: tuple[str, ...] = ()
    """Names or URIs two upstreams both offer, and items that cannot be offered: one line each."""
    offered: tuple[OfferedView, ...] = ()
    """Every prompt, resource and template the gateway offers, in catalog order."""
    client_seen: bool = False
    """Whether a client has come since start: a session opened, or a 2026-07-28 request (those hold no
    session). The dashboard's own requests do not count."""
    warnings: tuple[str, ...] = ()
    """What the user must not miss while it holds (listening beyond loopback without auth)."""


@dataclass(frozen=True, slots=True)
class TrafficRecord:
    """One JSON-RPC message on one hop (mcpstead/traffic.py). `data` is its JSON as it crossed the wire,
    cut to a limit in the dashboard's memory (`cut`); no header is ever part of it."""

    seq: int
    at: float
    """Wall clock."""
    hop: Hop
    direction: Direction
    session: str | None
    """The downstream session (its short id, or "dashboard"), where known."""
    upstream: str | None
    """The upstream's name, on the upstream hop."""
    call: int | None
    """The downstream request this message belongs to (one per POST; None for GET streams and for what a
    connection's reader receives outside any request)."""
    size: int
    """The message's size in bytes (an SSE event's data, UTF-8)."""
    data: bytes
    cut: bool = False


class ClientHandler(Protocol):
    """Whoever started a dashboard request: told what rides on it, and asked what the server asks."""

    def notified(self, message: dict[str, Any]) -> None:
        """A notification on the request's stream (progress, a log message)."""
        ...

    async def asked(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """A server-to-client request (sampling/createMessage, elicitation/create): the answer's body,
        `{"result": ...}` or `{"error": {...}}`."""
        ...


@dataclass(eq=False)
class RunningRequest:
    """One dashboard request in flight: its id, its answer (the JSON-RPC response), and a way to cancel."""

    request_id: str
    method: str
    params: dict[str, Any]
    answer: asyncio.Task[dict[str, Any]]
    send_cancel: Callable[[str], Awaitable[None]] = field(repr=False)

    async def cancel(self, reason: str = "cancelled from the dashboard") -> None:
        """Send notifications/cancelled for it, as a client would."""
        if not self.answer.done():
            await self.send_cancel(reason)


class GatewayView(Protocol):
    """All the dashboard may see of, and do to, the gateway."""

    @property
    def version(self) -> int: ...

    def snapshot(self) -> GatewaySnapshot: ...

    async def wait_for_change(self, seen: int, timeout: float | None = None) -> int: ...

    async def reconnect(self, upstream: str) -> None: ...

    async def reload(self) -> ReloadView:
        """Re-read the config file and apply it; a bad file leaves the running config in place."""
        ...

    async def end_session(self, session_id: str) -> bool: ...

    def log_lines(self, after_seq: int = 0) -> tuple[LogLineView, ...]:
        """Gateway log lines with `seq > after_seq`, oldest first (bounded by the log ring)."""
        ...

    def traffic_since(self, after_seq: int = 0) -> tuple[TrafficRecord, ...]:
        """Messages on both hops with `seq > after_seq`, oldest first (bounded by dashboard.capture)."""
        ...

    def start_request(
        self, method: str, params: Mapping[str, Any], handler: ClientHandler | None = None
    ) -> RunningRequest:
        """Send any request through the gateway as the dashboard's own client; servers may ask `handler`."""
        ...

    def on_notification(self, listener: Callable[[dict[str, Any]], None]) -> None:
        """Be told what reaches the dashboard's session outside its requests (resource updates)."""
        ...


SHORT_SESSION_CHARS = 8
INSTANCE_SEPARATOR = "."
"""Between the instance id and the random part of a session id: never in either (token_urlsafe's alphabet is
[A-Za-z0-9_-]), so a proxy routes on everything before the first '.' (deploy/nginx/mcpstead.conf)."""


def short_session_id(session_id: str) -> str:
    """A session as logs, records and the dashboard show it: its instance prefix (`a.`, see instance_id)
    kept whole, then the first 8 characters of its random part; enough to tell sessions apart, too few to
    use one."""
    prefix, dot, rest = session_id.partition(INSTANCE_SEPARATOR)
    if dot and rest:
        return f"{prefix}{dot}{rest[:SHORT_SESSION_CHARS]}"
    return session_id[:SHORT_SESSION_CHARS]
