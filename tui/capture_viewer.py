"""`mcpstead view FILE.jsonl`: a capture in the same traffic view as the dashboard's, without a gateway."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label, Static

from mcpstead.state import TrafficRecord
from tui.screens.help import HelpScreen
from tui.screens.traffic_detail import TrafficDetailScreen, replay
from tui.widgets.traffic import TrafficPanel, TrafficTable


class CaptureScreen(Screen[None]):
    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]
    AUTO_FOCUS = "#traffic-table"

    def __init__(self, records: Sequence[TrafficRecord], title: str, tz: tzinfo | None) -> None:
        super().__init__()
        self._records = records
        self._title = title
        self._tz = tz
        self.traffic = TrafficPanel(tz=tz, keep=max(len(records), 1), id="traffic-panel")  # all of the file
        self.traffic.set_empty_text("This capture holds no messages.")
        self.filter_input = Input(placeholder="session:ID upstream:NAME method:TEXT errors, or any text", id="filter")

    def compose(self) -> ComposeResult:
        count = len(self._records)
        yield Static(
            Text.assemble(("mcpstead view  ", "bold"), self._title, (f"  {count:,} messages", "dim")),
            id="header",
        )
        yield self.traffic
        with Horizontal(id="filter-bar"):
            yield Label("/", id="filter-label")
            yield self.filter_input
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#filter-bar").display = False
        self.traffic.add(self._records)
        self.traffic.follow_newest()

    @on(DataTable.RowSelected, "#traffic-table")
    def _selected(self) -> None:
        row = self.traffic.selected()
        if row is not None:
            self.app.push_screen(TrafficDetailScreen(row, self.traffic.model, tz=self._tz, can_send=False))

    def action_filter(self) -> None:
        self.query_one("#filter-bar").display = True
        # At once, not on the next turn (Widget.focus): keys typed right after "/" are the filter's text,
        # not commands for the panel that had the focus.
        self.set_focus(self.filter_input)

    def action_clear_filter(self) -> None:
        self.filter_input.value = ""
        self.traffic.filter("")
        self.query_one("#filter-bar").display = False
        self.traffic.table.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.traffic.filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.traffic.table.focus()

    def action_traffic_errors(self) -> None:
        self.traffic.toggle_errors()

    def action_traffic_follow(self) -> None:
        self.traffic.follow_newest()

    def action_replay(self) -> None:
        replay(self, self.traffic.selected(), can_send=False)


class CaptureViewer(App[None]):
    CSS_PATH = "mcpstead.tcss"
    TITLE = "mcpstead view"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
    ]

    def __init__(self, records: Sequence[TrafficRecord], *, title: str, tz: tzinfo | None = None) -> None:
        super().__init__()
        self._screen = CaptureScreen(records, title, tz)

    def get_default_screen(self) -> CaptureScreen:
        return self._screen

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(
                HelpScreen(
                    [
                        ("Capture viewer", [*self.BINDINGS, *CaptureScreen.BINDINGS]),
                        ("Traffic", TrafficTable.BINDINGS),
                        ("Message", TrafficDetailScreen.BINDINGS),
                    ]
                )
            )
