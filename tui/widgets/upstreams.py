"""The upstream table: one row per upstream server, keyed by its name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual.binding import Binding

from mcpstead.state import UpstreamView
from tui import formatting
from tui.widgets.keyed_table import Cells, ColumnSpec, KeyedTable

LAST_ERROR_LIMIT = 60


class UpstreamTable(KeyedTable):
    """Health at a glance; the row under the cursor is the upstream the other panels and keys act on."""

    BINDINGS = [Binding("enter", "select_cursor", "Its tools (or the list shown)", show=False)]

    # Short headers so every column up to Retry fits in 80 columns; the last error is clipped first.
    COLUMNS = (
        ColumnSpec("name", "Upstream"),
        ColumnSpec("transport", "Via"),
        ColumnSpec("era", "Era"),
        ColumnSpec("status", "Status"),
        ColumnSpec("tools", "Tools", right=True),
        ColumnSpec("calls", "Calls", right=True),
        ColumnSpec("errors", "Err", right=True),
        ColumnSpec("p50", "p50 ms", right=True),
        ColumnSpec("last_seen", "Seen"),
        ColumnSpec("reconnects", "Rec", right=True),
        ColumnSpec("retry", "Retry"),
        ColumnSpec("last_error", "Last error"),
    )

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Upstreams"

    def apply(self, upstreams: Iterable[UpstreamView], now: float, p50: Mapping[str, float]) -> None:
        shown = list(upstreams)
        self.sync((upstream.name, self.cells(upstream, now, p50.get(upstream.name))) for upstream in shown)
        ready = sum(1 for upstream in shown if upstream.connected)
        title = f"Upstreams ({ready}/{len(shown)} ready)" if shown else "Upstreams (none configured)"
        if self.border_title != title:
            self.border_title = title

    @staticmethod
    def cells(upstream: UpstreamView, now: float, p50: float | None) -> Cells:
        return (
            formatting.plain(upstream.name, style="bold"),
            formatting.transport(upstream.transport),
            formatting.era(upstream.era),
            formatting.status(upstream.status),
            formatting.number(len(upstream.tools)),
            formatting.number(upstream.calls),
            formatting.number(upstream.errors, style="red" if upstream.errors else ""),
            formatting.number(p50, decimals=1),
            formatting.ago(upstream.last_seen, now),
            formatting.number(upstream.reconnects),
            formatting.next_retry(upstream.status, upstream.next_retry_at, now),
            formatting.plain(upstream.last_error or "", LAST_ERROR_LIMIT, style="red"),
        )

    @property
    def selected(self) -> str | None:
        """Name of the upstream under the cursor."""
        return self.cursor_key
