"""Recent tool calls, newest first, keyed by the call's sequence number and bounded in size."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from datetime import tzinfo

from mcpstead.state import CallView
from tui import formatting
from tui.widgets.keyed_table import Cells, ColumnSpec, KeyedTable, Ordered

MAX_ROWS = 200
TOOL_LIMIT = 32
"""Long enough for most qualified names, short enough that the timings still fit in 80 columns."""
CLIENT_LIMIT = 24


class CallTable(KeyedTable):
    """Accumulates finished calls as they appear in snapshots.

    Calls are immutable once finished, so rows are only ever added (and the oldest dropped past
    `max_rows`); a call that has left the core's ring stays visible here. New rows are appended and the
    table is re-sorted by sequence number, which keeps newest first without rebuilding anything.
    """

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
        self.border_title = "Recent calls"
        self._tz = tz
        self._max_rows = max_rows
        self._seqs: set[int] = set()

    def apply(self, calls: Iterable[CallView]) -> None:
        shown = self._seqs
        floor = min(shown) if len(shown) >= self._max_rows else None
        # A call older than everything in a full table would be evicted at once: skip it.
        fresh = {call.seq: call for call in calls if call.seq not in shown and (floor is None or call.seq > floor)}
        if not fresh:
            return
        keep = set(heapq.nlargest(self._max_rows, shown | fresh.keys()))
        following = self.cursor_row == 0
        selected = self.cursor_key
        evicted = shown - keep
        self.drop_many([str(seq) for seq in evicted])
        shown -= evicted
        for seq in sorted(fresh.keys() & keep):
            self.put(str(seq), self.cells(fresh[seq]))
            shown.add(seq)
        self.sort("time", key=_order, reverse=True)
        if following or selected not in self._shown:
            self.move_cursor(row=0, animate=False)
        else:
            self.keep_cursor_on(selected)
        self.border_title = f"Recent calls ({len(shown)})"

    def cells(self, call: CallView) -> Cells:
        when = formatting.plain(formatting.clock_time(call.started_at, self._tz), style="dim")
        client = call.client if call.source == "client" else "dashboard"
        return (
            Ordered(call.seq, when),
            formatting.qualified(call.tool, TOOL_LIMIT),
            formatting.outcome(call.outcome),
            formatting.number(call.total_ms, decimals=1),
            formatting.number(call.upstream_ms, decimals=1),
            formatting.plain(client, CLIENT_LIMIT),
        )


def _order(cell: object) -> int:
    """Sort key for the time column: the call's sequence number, not its displayed text."""
    return cell.order if isinstance(cell, Ordered) else -1
