"""Recent tool calls, newest first, keyed by the call's sequence number, bounded and filterable."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from datetime import tzinfo

from textual.binding import Binding

from mcpstead.state import CallView
from tui import formatting
from tui.widgets.keyed_table import Cells, ColumnSpec, KeyedTable, Ordered

MAX_ROWS = 200
TOOL_LIMIT = 32
"""Long enough for most qualified names, short enough that the timings still fit in 80 columns."""
CLIENT_LIMIT = 24
DASHBOARD = "dashboard"


class CallTable(KeyedTable):
    """Accumulates finished calls as they appear in snapshots and shows those matching the filter.

    Calls are immutable once finished, so rows are only ever added (and the oldest dropped past
    `max_rows`); a call that has left the core's ring stays visible here. New rows are appended and the
    table is re-sorted by sequence number, which keeps newest first without rebuilding anything.
    """

    BINDINGS = [
        Binding("enter", "select_cursor", "Details"),
        Binding("c", "screen.call_again", "Call again"),
    ]

    COLUMNS = (
        ColumnSpec("time", "Time"),
        ColumnSpec("tool", "Tool"),
        ColumnSpec("outcome", "Outcome"),
        ColumnSpec("total_ms", "Total ms", right=True),
        ColumnSpec("upstream_ms", "Upstream ms", right=True),
        ColumnSpec("client", "Client"),
    )
    # Client is last: at 80 columns the table is clipped on the right, and it matters least.

    def __init__(self, *, tz: tzinfo | None = None, max_rows: int = MAX_ROWS, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Recent calls (0)"
        self._tz = tz
        self._max_rows = max_rows
        self._calls: dict[int, CallView] = {}
        self._query = ""

    def apply(self, calls: Iterable[CallView]) -> None:
        """Take in the calls of a snapshot (newest first); only unseen ones cost anything."""
        known = self._calls
        floor = min(known) if len(known) >= self._max_rows else None
        # A call older than everything in a full table would be evicted at once: skip it.
        fresh = {c.seq: c for c in calls if c.seq not in known and (floor is None or c.seq > floor)}
        if not fresh:
            return
        known.update(fresh)
        evicted: set[int] = set()
        if len(known) > self._max_rows:
            keep = set(heapq.nlargest(self._max_rows, known))
            evicted = known.keys() - keep
            for seq in evicted:
                del known[seq]
        self._show(add=[seq for seq in fresh if seq in known and self._matches(known[seq])], drop=evicted)

    def filter(self, query: str) -> None:
        """Show only calls whose tool, client, upstream, outcome or error contains `query`."""
        query = query.casefold()
        if query == self._query:
            return
        self._query = query
        wanted = {seq for seq, call in self._calls.items() if self._matches(call)}
        shown = {int(key) for key in self._shown}
        self._show(add=list(wanted - shown), drop=shown - wanted)

    def call(self, seq: int) -> CallView | None:
        return self._calls.get(seq)

    @property
    def selected(self) -> CallView | None:
        """The call under the cursor."""
        key = self.cursor_key
        return self._calls.get(int(key)) if key is not None else None

    def _show(self, *, add: list[int], drop: Iterable[int]) -> None:
        following = self.cursor_row == 0
        selected = self.cursor_key
        self.drop_many([str(seq) for seq in drop])
        for seq in sorted(add):
            self.put(str(seq), self.cells(self._calls[seq]))
        if add:
            self.sort("time", key=_order, reverse=True)
        if following or selected not in self._shown:
            self.move_cursor(row=0, animate=False)
        else:
            self.keep_cursor_on(selected)
        count = len(self._shown)
        title = f"Recent calls ({count})" if not self._query else f"Recent calls ({count} of {len(self._calls)} match)"
        if self.border_title != title:
            self.border_title = title

    def _matches(self, call: CallView) -> bool:
        needle = self._query
        if not needle:
            return True
        haystack = (call.tool, client_label(call), call.upstream, formatting.OUTCOME_LABELS[call.outcome])
        return any(needle in text.casefold() for text in haystack) or needle in (call.error or "").casefold()

    def cells(self, call: CallView) -> Cells:
        when = formatting.plain(formatting.clock_time(call.started_at, self._tz), style="dim")
        from_dashboard = call.source == "dashboard"
        return (
            Ordered(call.seq, when),
            formatting.qualified(call.tool, TOOL_LIMIT),
            formatting.outcome(call.outcome),
            formatting.number(call.total_ms, decimals=1),
            formatting.number(call.upstream_ms, decimals=1),
            formatting.plain(client_label(call), CLIENT_LIMIT, style="italic magenta" if from_dashboard else ""),
        )


def client_label(call: CallView) -> str:
    """Who made the call: the client's name, or "dashboard" for the tool runner's own calls."""
    return DASHBOARD if call.source == "dashboard" else call.client


def _order(cell: object) -> int:
    """Sort key for the time column: the call's sequence number, not its displayed text."""
    return cell.order if isinstance(cell, Ordered) else -1
