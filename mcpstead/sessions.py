"""Downstream sessions: who is connected, with which protocol version, and since when."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from mcpstead.state import SessionView

STREAM_BACKLOG = 100
"""Messages waiting for a slow GET-stream reader; beyond this, new ones are dropped (list_changed is idempotent)."""


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

    def open_stream(self) -> asyncio.Queue[dict[str, Any] | None] | None:
        """A new outbox for a GET stream, or None when one is already open (one stream per session)."""
        if self.stream is not None:
            return None
        self.stream = asyncio.Queue()
        return self.stream

    def notify(self, message: dict[str, Any]) -> None:
        """Queue a server-to-client message on the GET stream; dropped when no stream is open or it is full."""
        if self.stream is not None and self.stream.qsize() < STREAM_BACKLOG:
            self.stream.put_nowait(message)

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
        )


class SessionStore:
    def __init__(self) -> None:
        self._sessions: dict[str, DownstreamSession] = {}

    def create(
        self, *, protocol_version: str, client_name: str, client_version: str, wall: float, monotonic: float
    ) -> DownstreamSession:
        # uuid4 comes from os.urandom: unguessable, and visible ASCII as the spec requires.
        session = DownstreamSession(
            session_id=str(uuid.uuid4()),
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

    def __iter__(self) -> Iterator[DownstreamSession]:
        return iter(list(self._sessions.values()))
