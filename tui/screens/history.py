"""The runs made from the dashboard in this process: a list, the chosen run's request and answer, and a
key that opens it again, pre-filled, in the tool runner or the raw JSON-RPC screen."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import tzinfo

from rich.console import Group, RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from tui import formatting
from tui.commands import PaletteCommand
from tui.forms import to_json
from tui.messages import ReplayRequest
from tui.rendering import json_syntax, result_renderable, section
from tui.runs import RunHistory, RunOutcome
from tui.screens.raw_request import answer_renderable
from tui.widgets.document import Document

TITLE_LIMIT = 40


class HistoryScreen(Screen[None]):
    """Newest first; moving the cursor shows that run below, enter (or c) opens it again."""

    BINDINGS = [
        Binding("escape,q,h", "close", "Back"),
        Binding("enter,c", "open_again", "Open again"),
        Binding("y", "copy", "Copy JSON"),
    ]
    AUTO_FOCUS = "#history-table"

    def __init__(self, history: RunHistory, *, tz: tzinfo | None = None) -> None:
        super().__init__(classes="page")
        self.runs = list(history)
        self._tz = tz
        self.table: DataTable[RenderableType] = DataTable(cursor_type="row", id="history-table")
        self.detail = Document(id="history-detail")

    def compose(self) -> ComposeResult:
        count = len(self.runs)
        yield Static(
            Text.assemble(
                ("Run history  ", "bold"), (f"{count} run{'s' if count != 1 else ''} in this process", "dim")
            ),
            classes="page-title",
        )
        yield self.table
        yield self.detail
        yield Footer()

    def on_mount(self) -> None:
        self.table.add_columns("#", "Time", "Method / tool", "Took", "Outcome")
        for run in self.runs:
            self.table.add_row(
                str(run.seq),
                formatting.clock_time(run.started_at, self._tz),
                formatting.qualified(run.title, TITLE_LIMIT),
                Text(f"{run.duration_ms:.0f} ms", justify="right"),
                formatting.run_outcome(run.kind),
                key=str(run.seq),
            )
        if not self.runs:
            self.detail.update(
                Text("No runs yet: call a tool (c on a tool) or send a request (j), then come back.", style="dim")
            )

    @property
    def selected(self) -> RunOutcome | None:
        if not self.runs or not self.table.is_valid_row_index(self.table.cursor_row):
            return None
        return self.runs[self.table.cursor_row]

    @on(DataTable.RowHighlighted, "#history-table")
    def _highlighted(self) -> None:
        run = self.selected
        if run is not None:
            self.detail.update(run_renderable(run, dark=self.app.current_theme.dark))

    @on(DataTable.RowSelected, "#history-table")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_again()

    def action_open_again(self) -> None:
        """Back to the runner (tools/call) or the raw screen (any other method), filled in as it was sent."""
        run = self.selected
        if run is None:
            self.notify("No run selected", severity="warning")
            return
        self.dismiss(None)
        self.app.post_message(ReplayRequest(run.method, run.replay_params()))

    def palette_commands(self) -> Iterator[PaletteCommand]:
        yield PaletteCommand(
            "Open the run again", "In the runner or the JSON-RPC screen, filled in", self.action_open_again
        )
        yield PaletteCommand("Copy the run", "Its request and answer as JSON", self.action_copy)

    def action_copy(self) -> None:
        run = self.selected
        if run is not None:
            self.app.copy_to_clipboard(to_json({"method": run.method, "params": run.params, "answer": run.answer}))
            self.notify("Request and answer copied to the clipboard")

    def action_close(self) -> None:
        self.dismiss(None)


def run_renderable(run: RunOutcome, *, dark: bool = True) -> RenderableType:
    """The request as sent, then its result (a tool's content readably, anything else as the whole answer)."""
    request = Group(section(f"Request  {run.method}"), json_syntax(run.params, dark=dark))
    if run.method == "tools/call" and run.kind != "cancelled":
        answer = result_renderable(run.result, run.error_text, dark=dark)
    else:
        answer = answer_renderable(run, dark=dark)
    return Group(request, Text(""), answer)
