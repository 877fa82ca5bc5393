"""Connected downstream sessions, keyed by session id."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.binding import Binding

from mcpstead.state import SessionView
from tui import formatting
from tui.widgets.keyed_table import Cells, ColumnSpec, KeyedTable

CLIENT_LIMIT = 40


class SessionTable(KeyedTable):
    """Who is connected, with what, for how long; x ends the session under the cursor."""

    BINDINGS = [
        Binding("x", "screen.end_session", "End session"),
        Binding("delete", "screen.end_session", "End session", show=False),
    ]

    COLUMNS = (
        ColumnSpec("id", "Session"),
        ColumnSpec("client", "Client"),
        ColumnSpec("protocol", "Protocol"),
        ColumnSpec("age", "Age", right=True),
        ColumnSpec("idle", "Idle", right=True),
        ColumnSpec("calls", "Calls", right=True),
    )

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Sessions"
        self._sessions: dict[str, SessionView] = {}

    def apply(self, sessions: Iterable[SessionView], now: float, query: str = "") -> None:
        """Show the sessions whose id or client contains `query`."""
        self._sessions = {session.session_id: session for session in sessions}
        needle = query.casefold()
        matching = [s for s in self._sessions.values() if not needle or needle in _haystack(s)]
        self.sync((session.session_id, self.cells(session, now)) for session in matching)
        total = len(self._sessions)
        title = f"Sessions ({len(matching)} of {total} match)" if needle else f"Sessions ({total})"
        if self.border_title != title:
            self.border_title = title

    @staticmethod
    def cells(session: SessionView, now: float) -> Cells:
        client = Text(session.client_name, style="bold", no_wrap=True, end="")
        if session.client_version:
            client.append(f" {session.client_version}", style="dim")
        client.truncate(CLIENT_LIMIT, overflow="ellipsis")
        return (
            formatting.plain(formatting.short_id(session.session_id), style="dim"),
            client,
            _protocol(session),
            Text(formatting.duration(now - session.created_at), justify="right", end=""),
            Text(formatting.duration(now - session.last_activity), justify="right", end=""),
            formatting.number(session.calls),
        )

    @property
    def selected(self) -> SessionView | None:
        """The session under the cursor."""
        key = self.cursor_key
        return self._sessions.get(key) if key is not None else None


def _protocol(session: SessionView) -> Text:
    """The version, and for a 2026-07-28 client that it holds no session (its requests stand alone)."""
    text = Text(session.protocol_version, no_wrap=True, end="")
    if session.era == "modern":
        text.append(" stateless", style="dim")
    return text


def _haystack(session: SessionView) -> str:
    return f"{session.session_id} {session.client_name} {session.client_version}".casefold()
