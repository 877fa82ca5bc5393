"""Downstream sessions: who is connected, with which protocol version, and since when."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from mcpstead.state import SessionView


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
