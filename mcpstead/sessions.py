"""Downstream sessions: who is connected, with which protocol version, and since when."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeGuard

from mcpstead.state import INSTANCE_SEPARATOR, CallSource, SessionView


class Cancellable(Protocol):
    """A forwarded request in flight (mcpstead/relay.py's InFlightCall), as a session sees it."""

    def cancel(self) -> None: ...


STREAM_BACKLOG = 100
"""Messages waiting for a slow GET-stream reader; beyond this, new ones are dropped (list_changed is idempotent)."""
SESSION_ID_BYTES = 24
"""Random bytes in a session id: 192 bits, unguessable."""
LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")
"""RFC 5424 severities as MCP names them, least severe first."""
SESSION_ENDED = {"code": -32603, "message": "the client's session ended before it answered"}
EARLY_CANCEL_SECONDS = 5.0
"""How long a cancellation that came before its request waits for it."""
CANCELS_KEPT = 64
"""Early cancellations, and lately answered ids, kept per session (the oldest go first)."""


def level_admits(wanted: str | None, level: Any) -> bool:
    """Whether a log message at `level` reaches a session that asked for `wanted` (None: it never asked,
    so it gets what the server sends, as it would connected directly)."""
    if wanted is None or level not in LOG_LEVELS:
        return True
    return LOG_LEVELS.index(level) >= LOG_LEVELS.index(wanted)


@dataclass(slots=True)
class CancelMemory:
    """Cancellations that overtook their requests. Over HTTP a request and the notification that cancels
    it travel on separate connections, so the gateway can read the notification first; it is kept a
    while, and the request is cancelled as it arrives. The ids lately answered are kept too: a
    cancellation of one of those came late, not early, and must not cancel a new request reusing its id."""

    early: dict[str | int, float] = field(default_factory=dict)
    answered: dict[str | int, None] = field(default_factory=dict)

    def cancel_unseen(self, request_id: str | int, now: float) -> None:
        """`request_id` was cancelled before any request of that id arrived (or after it was answered)."""
        if request_id not in self.answered:
            self.early[request_id] = now
            _keep_newest(self.early)

    def take(self, request_id: str | int, now: float) -> bool:
        """Whether the request arriving as `request_id` was cancelled already (lately enough)."""
        at = self.early.pop(request_id, None)
        return at is not None and now - at <= EARLY_CANCEL_SECONDS

    def done(self, request_id: str | int) -> None:
        self.answered.pop(request_id, None)
        self.answered[request_id] = None
        _keep_newest(self.answered)


def _keep_newest(entries: dict[Any, Any]) -> None:
    while len(entries) > CANCELS_KEPT:
        del entries[next(iter(entries))]


def is_request_id(value: Any) -> TypeGuard[str | int]:
    """A JSON-RPC id a request can carry (what a cancellation's requestId must be to name one)."""
    return isinstance(value, (str, int)) and not isinstance(value, bool)


@dataclass(slots=True)
class DownstreamSession:
    session_id: str
    protocol_version: str
    client_name: str
    client_version: str
    created_at: float
    """Wall clock, for display."""
    started: float
    """Monotonic, for durations."""
    last_activity: float
    """Monotonic."""
    calls: int = 0
    stream: asyncio.Queue[dict[str, Any] | None] | None = None
    """The open GET stream's outbox, if the client keeps one open; None ends the stream."""
    capabilities: dict[str, Any] = field(default_factory=dict)
    """What the client declared in initialize (sampling, elicitation, roots, ...)."""
    log_level: str | None = None
    """Set by logging/setLevel; None until the client asks."""
    subscriptions: set[tuple[str, str]] = field(default_factory=set)
    """(upstream, uri) of every resources/subscribe still in force."""
    in_flight: dict[Any, Cancellable] = field(default_factory=dict)
    """Forwarded requests awaiting their answer, by the client's request id (for notifications/cancelled)."""
    cancels: CancelMemory = field(default_factory=CancelMemory)
    """notifications/cancelled that came before their request."""
    client_address: str | None = None
    """Where the client connected from (for limits.sessions_per_client)."""
    elicitations: set[str] = field(default_factory=set)
    """elicitationId of every URL-mode elicitation relayed to this client (for notifications/elicitation/complete)."""
    era: Literal["legacy", "modern"] = "legacy"
    """"modern": the client of one 2026-07-28 request, never stored (the request is its whole life)."""
    source: CallSource = "client"
    """"dashboard": the dashboard's own client session (mcpstead/dashboard_client.py)."""
    closed: bool = False
    _awaiting: dict[str, asyncio.Future[dict[str, Any] | None]] = field(default_factory=dict)
    _server_request_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def admits_log(self, level: Any) -> bool:
        """Whether a log message at `level` reaches this client. A modern request gets none unless its
        envelope asked for a level; a legacy session that never asked gets all, as it would directly."""
        if self.log_level is None and self.era == "modern":
            return False
        return level_admits(self.log_level, level)

    def open_stream(self) -> asyncio.Queue[dict[str, Any] | None] | None:
        """A new outbox for a GET stream, or None when one is already open (one stream per session)."""
        if self.stream is not None:
            return None
        self.stream = asyncio.Queue()
        return self.stream

    def notify(self, message: dict[str, Any]) -> bool:
        """Queue a server-to-client message on the GET stream. False (dropped) when no stream is open or it
        is full."""
        if self.stream is not None and self.stream.qsize() < STREAM_BACKLOG:
            self.stream.put_nowait(message)
            return True
        return False

    def expect_client_answer(self) -> tuple[str, asyncio.Future[dict[str, Any] | None]]:
        """A fresh id for a request relayed to this client, and the future its answer will resolve."""
        request_id = f"mcpstead-{next(self._server_request_ids)}"
        future: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        self._awaiting[request_id] = future
        return request_id, future

    def resolve_client_answer(self, message: dict[str, Any]) -> bool:
        """The client answered a relayed request. False when nothing waits for that id."""
        future = self._awaiting.pop(message.get("id"), None)  # type: ignore[arg-type]
        if future is None or future.done():
            return False
        future.set_result(message)
        return True

    def drop_client_answer(self, request_id: str) -> None:
        """Nobody waits for this answer any more (the upstream cancelled, or the wait ended)."""
        future = self._awaiting.pop(request_id, None)
        if future is not None and not future.done():
            future.set_result(None)

    def end(self) -> None:
        """The session is over: its stream ends and every relayed request still waiting gets an error.
        Calls in flight run to their end (on shutdown their upstream connections close under them)."""
        self.closed = True
        self.close_stream()
        awaiting, self._awaiting = self._awaiting, {}
        for future in awaiting.values():
            if not future.done():
                future.set_result({"jsonrpc": "2.0", "error": SESSION_ENDED})

    def close_stream(self) -> None:
        if self.stream is not None:
            stream, self.stream = self.stream, None
            stream.put_nowait(None)

    def view(self, wall_now: float, monotonic_now: float) -> SessionView:
        return SessionView(
            session_id=self.session_id,
            client_name=self.client_name,
            client_version=self.client_version,
            protocol_version=self.protocol_version,
            created_at=self.created_at,
            last_activity=wall_now - (monotonic_now - self.last_activity),
            calls=self.calls,
            era=self.era,
        )


MODERN_CLIENTS_KEPT = 100
"""2026-07-28 clients remembered for the dashboard; the one least recently heard from goes first."""


@dataclass(slots=True)
class ModernClient:
    """A 2026-07-28 client as the dashboard knows it: by the clientInfo its requests carry."""

    client_id: str
    client_name: str
    client_version: str
    protocol_version: str
    first_seen: float
    """Wall clock."""
    last_activity: float
    """Monotonic."""
    calls: int = 0

    def view(self, wall_now: float, monotonic_now: float) -> SessionView:
        return SessionView(
            session_id=self.client_id,
            client_name=self.client_name,
            client_version=self.client_version,
            protocol_version=self.protocol_version,
            created_at=self.first_seen,
            last_activity=wall_now - (monotonic_now - self.last_activity),
            calls=self.calls,
            era="modern",
        )


class ModernClients:
    """The 2026-07-28 clients heard from lately, bounded, each under an id made from its clientInfo."""

    def __init__(self, kept: int = MODERN_CLIENTS_KEPT) -> None:
        self._clients: dict[str, ModernClient] = {}
        self._kept = kept

    def seen(
        self, name: str, version: str, protocol_version: str, wall: float, monotonic: float
    ) -> tuple[ModernClient, bool]:
        """Note a request from this client; a client heard from for the first time is added (True)."""
        client_id = f"2026:{name or 'unknown'}/{version}"
        client = self._clients.pop(client_id, None)
        new = client is None
        if client is None:
            client = ModernClient(client_id, name, version, protocol_version, wall, monotonic)
            while len(self._clients) >= self._kept:
                del self._clients[next(iter(self._clients))]
        client.last_activity = monotonic
        self._clients[client_id] = client  # the most recent last, so the oldest is first to go
        return client, new

    def views(self, wall_now: float, monotonic_now: float) -> tuple[SessionView, ...]:
        return tuple(client.view(wall_now, monotonic_now) for client in self._clients.values())


class SessionStore:
    def __init__(self, instance_id: str | None = None) -> None:
        self.instance_id = instance_id
        """The prefix of every session id this store issues (`<instance_id>.<random>`); None: the random part
        alone. Fixed for the life of the process (a reload that changes it is ignored until a restart)."""
        self._prefix = f"{instance_id}{INSTANCE_SEPARATOR}" if instance_id else ""
        self._sessions: dict[str, DownstreamSession] = {}
        self.dashboard: DownstreamSession | None = None
        """The dashboard's own session: outside the store (no limit, no idle end, not listed), but among
        `everyone()`, so its subscriptions hold and resource updates and log messages reach it."""

    def everyone(self) -> Iterator[DownstreamSession]:
        """Every session messages may be fanned out to: the clients', and the dashboard's."""
        yield from list(self._sessions.values())
        if self.dashboard is not None:
            yield self.dashboard

    def create(
        self, *, protocol_version: str, client_name: str, client_version: str, wall: float, monotonic: float
    ) -> DownstreamSession:
        # 192 bits from the OS's CSPRNG (a uuid4 has only 122), URL-safe base64: visible ASCII as the spec requires.
        # Behind a load balancer the instance id goes first, so the balancer can route the session home.
        session = DownstreamSession(
            session_id=self._prefix + secrets.token_urlsafe(SESSION_ID_BYTES),
            protocol_version=protocol_version,
            client_name=client_name,
            client_version=client_version,
            created_at=wall,
            started=monotonic,
            last_activity=monotonic,
        )
        self._sessions[session.session_id] = session
        return session

    def get(self, session_id: str) -> DownstreamSession | None:
        return self._sessions.get(session_id)

    def remove(self, session_id: str) -> DownstreamSession | None:
        return self._sessions.pop(session_id, None)

    def idle_since(self, cutoff: float) -> list[DownstreamSession]:
        """Sessions whose last activity is strictly older than `cutoff` (monotonic)."""
        return [session for session in self._sessions.values() if session.last_activity < cutoff]

    def __len__(self) -> int:
        return len(self._sessions)

    def from_address(self, address: str | None) -> int:
        return sum(1 for session in self._sessions.values() if session.client_address == address)

    def open_streams(self) -> int:
        return sum(1 for session in self._sessions.values() if session.stream is not None)

    def __iter__(self) -> Iterator[DownstreamSession]:
        return iter(list(self._sessions.values()))
