"""The upstream table: one row per upstream server, keyed by its name."""

from __future__ import annotations

from collections.abc import Iterable

from mcpstead.state import UpstreamView
from tui import formatting
from tui.widgets.keyed_table import Cells, ColumnSpec, KeyedTable

LAST_ERROR_LIMIT = 60


class UpstreamTable(KeyedTable):
    """Health at a glance; the row under the cursor is the upstream the other panels and keys act on."""

    COLUMNS = (
        ColumnSpec("name", "Upstream"),
        ColumnSpec("transport", "Via"),
        ColumnSpec("status", "Status"),
        ColumnSpec("tools", "Tools", right=True),
        ColumnSpec("calls", "Calls", right=True),
        ColumnSpec("errors", "Errors", right=True),
        ColumnSpec("last_seen", "Last seen"),
        ColumnSpec("reconnects", "Reconn", right=True),
        ColumnSpec("last_error", "Last error"),
    )

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Upstreams"

    def apply(self, upstreams: Iterable[UpstreamView], now: float) -> None:
        self.sync((upstream.name, self.cells(upstream, now)) for upstream in upstreams)

    @staticmethod
    def cells(upstream: UpstreamView, now: float) -> Cells:
        return (
            formatting.plain(upstream.name, style="bold"),
            formatting.transport(upstream.transport),
            formatting.status(upstream.status, upstream.next_retry_at, now),
            formatting.number(len(upstream.tools)),
            formatting.number(upstream.calls),
            formatting.number(upstream.errors, style="red" if upstream.errors else ""),
            formatting.ago(upstream.last_seen, now),
            formatting.number(upstream.reconnects),
            formatting.plain(upstream.last_error or "", LAST_ERROR_LIMIT, style="red"),
        )

    @property
    def selected(self) -> str | None:
        """Name of the upstream under the cursor."""
        return self.cursor_key
