"""The Traffic tab: every JSON-RPC message on both hops, grouped under the call that caused it."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import datetime, tzinfo

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from mcpstead.state import TrafficRecord
from tui import formatting
from tui.messages import TrafficShown
from tui.traffic_model import TrafficFilter, TrafficModel, TrafficRow
from tui.widgets.keyed_table import Cells, ColumnSpec, KeyedTable

MAX_ROWS = 500
"""Rows on screen at most: the newest matching the filter (the model keeps more; filter to find them)."""
CATCH_UP_SECONDS = 0.5
"""How often a shown panel checks for records that arrived while it could not draw them."""
MODEL_ROWS = 20_000
"""Messages the tab remembers (the oldest calls are forgotten whole); the core's ring bounds what it is sent."""
HOP_STYLES = {"client→gw": "cyan", "gw→client": "cyan", "gw→up": "magenta", "up→gw": "magenta"}


class TrafficTable(KeyedTable):
    BINDINGS = [
        Binding("enter", "select_cursor", "Message"),
        Binding("e", "screen.traffic_errors", "Errors only"),
        Binding("p", "screen.replay", "Replay"),
        Binding("G", "screen.traffic_follow", "Follow newest", show=False),
    ]

    COLUMNS = (
        ColumnSpec("time", "Time"),
        ColumnSpec("hop", "Hop"),
        ColumnSpec("message", "Message"),
        ColumnSpec("id", "Id"),
        ColumnSpec("ms", "ms", right=True),
        ColumnSpec("size", "Size", right=True),
        ColumnSpec("session", "Session"),
        ColumnSpec("upstream", "Upstream"),
    )


class TrafficPanel(Vertical):
    """Takes in records as they come; reads and draws them only while it is on screen."""

    def __init__(self, *, tz: tzinfo | None = None, keep: int = MODEL_ROWS, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = TrafficModel(keep)
        self.table = TrafficTable(id="traffic-table")
        self.status = Static(id="traffic-status")
        self._tz = tz
        self._query = ""
        self.errors_only = False
        self._dirty = True
        self._waiting: deque[TrafficRecord] = deque(maxlen=keep)
        self.missed = 0
        """Messages that left the gateway's memory (its ring, dashboard.capture) before the tab read them:
        records are numbered without gaps, so a gap is what was not kept."""
        self._empty_text = "No messages yet: they appear here as clients and upstreams talk through the gateway."

    def compose(self) -> ComposeResult:
        yield self.status
        yield self.table

    def on_mount(self) -> None:
        self.table.border_title = "Traffic"
        self.refresh_rows()
        self.set_interval(CATCH_UP_SECONDS, self._catch_up)

    def _catch_up(self) -> None:
        """Draw what came while the panel was being laid out (neither hidden nor measurable yet)."""
        if (self._waiting or self._dirty) and self.display_now():
            self.refresh_rows()

    def on_show(self) -> None:
        """Shown again: once laid out, draw what changed meanwhile (the filter) and have the app read the
        records it did not read while the panel was hidden."""
        self.call_after_refresh(self._shown)

    def _shown(self) -> None:
        self.refresh_rows()
        self.post_message(TrafficShown())

    def add(self, records: Iterable[TrafficRecord]) -> None:
        """Take records in (oldest first); until the panel can be drawn they wait unread, bounded like the
        model."""
        for record in records:
            newest = self._waiting[-1].seq if self._waiting else self.model.last_seq
            if record.seq > newest + 1:
                self.missed += record.seq - newest - 1
            self._waiting.append(record)
        if self.display_now():
            self.refresh_rows()

    def display_now(self) -> bool:
        return self.is_mounted and self.table.is_mounted and self.table.region.height > 0

    def set_empty_text(self, text: str) -> None:
        self._empty_text = text

    def filter(self, query: str) -> None:
        if query != self._query:
            self._query = query
            self._dirty = True
            if self.display_now():
                self.refresh_rows()

    def toggle_errors(self) -> None:
        self.errors_only = not self.errors_only
        self._dirty = True
        self.refresh_rows()

    def refresh_rows(self) -> None:
        """Bring the table up to the model (cheap when nothing changed)."""
        if self._waiting:
            self.model.add(self._waiting)
            self._waiting.clear()
            self._dirty = True
        if not self._dirty or not self.is_mounted:
            return
        self._dirty = False
        wanted = TrafficFilter.parse(self._query, self.errors_only)
        shown: deque[TrafficRow] = deque(maxlen=MAX_ROWS)
        total = 0
        for row in self.model.rows():
            total += 1
            if wanted.admits(row, self.model):
                shown.append(row)
        table = self.table
        following = table.row_count == 0 or table.cursor_row >= table.row_count - 1  # unless moved up
        table.sync((str(row.seq), self._cells(row)) for row in shown)
        if following:
            self.follow_newest()
        self.table.border_title = f"Traffic ({len(shown)}{'' if len(shown) == total else f' of {total}'})"
        self.status.update(self._status(len(shown), total))

    def _status(self, shown: int, total: int) -> Text:
        if not total:
            return Text(self._empty_text, style="dim")
        text = Text()
        if self.missed:  # first: on a narrow terminal the key hints are what gets cut
            plural = "s" if self.missed != 1 else ""
            text.append(f"{self.missed} older message{plural} not kept (dashboard.capture.messages)  ", style="yellow")
        for key, label in (
            ("enter", "message"),
            ("p", "replay"),
            ("e", "errors only"),
            ("/", "filter session:ID upstream:NAME method:TEXT"),
        ):
            text.append(key, style="bold").append(f" {label}  ", style="dim")
        if self.errors_only:
            text.append("errors only  ", style="bold red")
        if shown == MAX_ROWS and total > shown:
            text.append(f"the newest {MAX_ROWS} shown", style="yellow")
        return text

    def follow_newest(self) -> None:
        """The cursor on the newest row, scrolled into view once the table is laid out."""
        if self.table.row_count:
            self.table.move_cursor(row=self.table.row_count - 1, animate=False)
            self.call_after_refresh(self.table.scroll_end, animate=False)

    def selected(self) -> TrafficRow | None:
        key = self.table.cursor_key
        return self.model.row(int(key)) if key is not None else None

    def _cells(self, row: TrafficRow) -> Cells:
        record, summary = row.record, row.summary
        stamp = datetime.fromtimestamp(record.at, self._tz).strftime("%H:%M:%S.%f")[:-3]
        indent = "  ↳ " if row.child else ""
        if summary.kind == "error":
            label = Text.assemble(indent, (f"error {summary.error_code}", "bold red"), " ", (row.method or "", "dim"))
        elif summary.kind == "result":
            style = "yellow" if row.is_error else "green"
            label = Text.assemble(indent, ("result", style), " ", (row.method or "", "dim"))
        elif summary.kind == "request":
            label = Text.assemble(indent, (summary.method or "", "bold"))
        elif summary.kind == "notification":
            label = Text.assemble(indent, (summary.method or "", "cyan"))
        else:
            label = Text.assemble(indent, (summary.kind, "red" if summary.kind == "invalid" else ""))
        if record.cut:
            label.append(" (cut)", style="yellow")
        latency = row.latency_ms
        message_id = "" if summary.message_id is None else str(summary.message_id)
        return (
            Text(stamp, style="dim"),
            Text(row.hop_label, style=HOP_STYLES[row.hop_label]),
            label,
            Text(formatting.one_line(message_id, 14)),
            Text(f"{latency:.1f}" if latency is not None else ""),
            Text(_size(record.size), style="dim"),
            Text(self.model.session_of(row) or "", style="dim"),
            Text(self.model.upstream_of(row) or ""),
        )


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"
