"""One message in full, beside the same message on the other hop, and what the gateway changed between them."""

from __future__ import annotations

import json
from datetime import datetime, tzinfo
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.messages import ReplayRequest
from tui.runs import params_to_replay
from tui.traffic_model import TrafficModel, TrafficRow, changes
from tui.widgets.json_tree import JsonTree

CHANGES_SHOWN = 6


def replayable(row: TrafficRow) -> bool:
    """A client's own request can be sent again (a request the gateway relayed to a client cannot)."""
    return row.record.hop == "client" and row.record.direction == "in" and row.summary.kind == "request"


class TrafficDetailScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "close", "Back"),
        Binding("y", "copy", "Copy JSON"),
        Binding("o", "copy_other", "Copy other hop"),
        Binding("p", "replay", "Replay"),
    ]
    AUTO_FOCUS = "#traffic-this"

    def __init__(self, row: TrafficRow, model: TrafficModel, *, tz: tzinfo | None = None, can_send: bool = True):
        super().__init__(classes="page")
        self.row = row
        self.other = model.counterpart(row)
        self._model = model
        self._tz = tz
        self._can_send = can_send

    def compose(self) -> ComposeResult:
        row = self.row
        yield Static(self._title(), id="traffic-detail-title", classes="page-title")
        yield Static(self._meta(), classes="page-meta")
        yield Static(self._changes(), id="traffic-changes")
        client, upstream = (row, self.other) if row.record.hop == "client" else (self.other, row)
        with Horizontal(id="traffic-hops"):
            for side, label in ((client, "Client hop"), (upstream, "Upstream hop")):
                with Vertical(classes="traffic-hop"):
                    tree_id = "traffic-this" if side is row else "traffic-other"
                    tree = JsonTree(label, id=tree_id)
                    tree.border_title = f"{label}: {side.hop_label}" if side is not None else label
                    yield tree
        yield Footer()

    def on_mount(self) -> None:
        for side in (self.row, self.other):
            if side is None:
                continue
            tree = self.query_one("#traffic-this" if side is self.row else "#traffic-other", JsonTree)
            parsed = side.summary.parsed
            if parsed is None:
                text = side.record.data.decode(errors="replace")
                note = (
                    f"cut at {len(side.record.data):,} of {side.record.size:,} bytes" if side.record.cut else "not JSON"
                )
                tree.show(text, f"({note})")
            else:
                tree.show(parsed, _describe(side))
        if self.other is None:
            hop = "upstream" if self.row.record.hop == "client" else "client"
            missing = self.query(JsonTree).last() if self.row.record.hop == "client" else self.query(JsonTree).first()
            missing.show(f"no matching message on the {hop} hop", "(none)")

    def _title(self) -> Text:
        row = self.row
        name = row.method or row.summary.kind
        kind = {"result": "result of ", "error": "error of "}.get(row.summary.kind, "")
        return Text.assemble(
            (f"#{row.seq}  ", "dim"),
            (row.hop_label, "bold"),
            "  ",
            f"{kind}{name}",
            ("  id ", "dim"),
            str(row.summary.message_id) if row.summary.message_id is not None else "-",
            no_wrap=True,
            overflow="ellipsis",
        )

    def _meta(self) -> Text:
        row, record = self.row, self.row.record
        meta = Text.assemble(
            (datetime.fromtimestamp(record.at, self._tz).strftime("%H:%M:%S.%f")[:-3], "bold"),
            ("  session ", "dim"),
            self._model.session_of(row) or "-",
            ("  upstream ", "dim"),
            self._model.upstream_of(row) or "-",
            ("  size ", "dim"),
            f"{record.size:,} B",
            no_wrap=True,
            overflow="ellipsis",
        )
        if row.latency_ms is not None:
            meta.append("  latency ", style="dim").append(f"{row.latency_ms:.1f} ms")
        if record.cut:
            meta.append(f"  cut at {len(record.data):,} bytes (dashboard.capture.message_bytes)", style="yellow")
        return meta

    def _changes(self) -> Text:
        other = self.other
        if other is None or other.summary.parsed is None or self.row.summary.parsed is None:
            return Text("")
        client, upstream = (self.row, other) if self.row.record.hop == "client" else (other, self.row)
        # In the direction the message travelled: a request from the client hop to the upstream hop, an
        # answer or a notification from the upstream hop to the client hop.
        before, after = (client, upstream) if self.row.toward_server else (upstream, client)
        found = changes(before.summary.parsed, after.summary.parsed)
        if not found:
            return Text("The gateway passed this message on unchanged.", style="dim")
        text = Text(f"Changed by the gateway ({before.record.hop} hop → {after.record.hop} hop):", style="bold")
        for line in found[:CHANGES_SHOWN]:
            text.append(f"\n  {line}")
        if len(found) > CHANGES_SHOWN:
            text.append(f"\n  … {len(found) - CHANGES_SHOWN} more", style="dim")
        return text

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy(self) -> None:
        self._copy(self.row, "This message")

    def action_copy_other(self) -> None:
        if self.other is None:
            self.notify("There is no matching message on the other hop", severity="warning")
            return
        self._copy(self.other, "The other hop's message")

    def _copy(self, row: TrafficRow, what: str) -> None:
        parsed = row.summary.parsed
        text = (
            json.dumps(parsed, indent=2, ensure_ascii=False)
            if parsed is not None
            else row.record.data.decode(errors="replace")
        )
        self.app.copy_to_clipboard(text)
        self.notify(f"{what} copied to the clipboard")

    def action_replay(self) -> None:
        replay(self, self.row, self._can_send)


def replay(screen: Screen[Any], row: TrafficRow | None, can_send: bool) -> None:
    """Open a captured client request in the runner, or say why it cannot be."""
    if row is None:
        screen.notify("No message selected", severity="warning")
        return
    if not can_send:
        screen.notify("Replay needs a running gateway: this is a capture file", severity="warning")
        return
    parsed = row.summary.parsed
    if not replayable(row) or not isinstance(parsed, dict):
        screen.notify("Only a client's request can be replayed (choose a client→gw request)", severity="warning")
        return
    params = params_to_replay(parsed["params"]) if isinstance(parsed.get("params"), dict) else {}
    screen.app.post_message(ReplayRequest(str(parsed["method"]), params))


def _describe(row: TrafficRow) -> str:
    return f"{row.method or row.summary.kind}  #{row.seq}"
