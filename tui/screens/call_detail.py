"""One recorded tool call: who made it, its arguments, its result or error, and where the time went."""

from __future__ import annotations

from datetime import tzinfo

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from mcpstead.state import CallView
from tui import formatting
from tui.forms import to_json
from tui.messages import RunTool
from tui.rendering import json_syntax, result_renderable, section, timing
from tui.widgets.calls import client_label
from tui.widgets.document import Document


class CallDetailScreen(Screen[None]):
    """A read-only page over the dashboard; `v` flips between the readable and the raw result."""

    BINDINGS = [
        Binding("escape,q", "close", "Back"),
        Binding("c", "call_again", "Call again"),
        Binding("v", "toggle_raw", "Raw/pretty"),
        Binding("y", "copy", "Copy JSON"),
    ]

    AUTO_FOCUS = "#detail-body"

    def __init__(self, call: CallView, *, tz: tzinfo | None = None) -> None:
        super().__init__(classes="page")
        self.call = call
        self._tz = tz
        self.raw = False
        self.document = Document(id="detail-body")

    def compose(self) -> ComposeResult:
        call = self.call
        yield Static(
            Text.assemble(
                (f"Call #{call.seq}  ", "dim"),
                formatting.qualified(call.tool, 80),
                "  ",
                formatting.outcome(call.outcome),
                no_wrap=True,
                overflow="ellipsis",
            ),
            id="detail-title",
            classes="page-title",
        )
        yield Static(self._meta(), id="detail-meta", classes="page-meta")
        yield Static(timing(call.total_ms, call.upstream_ms), id="detail-timing", classes="page-meta")
        yield self.document
        yield Footer()

    def on_mount(self) -> None:
        self._show_body()

    def _meta(self) -> Text:
        call = self.call
        meta = Text.assemble(
            (formatting.clock_time(call.started_at, self._tz), "bold"),
            ("  client ", "dim"),
            (client_label(call), "italic magenta" if call.source == "dashboard" else ""),
            ("  upstream ", "dim"),
            call.upstream,
            no_wrap=True,
            overflow="ellipsis",
        )
        if call.session_id:
            meta.append("  session ", style="dim")
            meta.append(formatting.short_id(call.session_id))
        return meta

    def body(self) -> RenderableType:
        dark = self.app.current_theme.dark
        return Group(
            section("Arguments"),
            json_syntax(self.call.arguments if self.call.arguments is not None else {}, dark=dark),
            Text(""),
            result_renderable(self.call.result, self.call.error, dark=dark, raw=self.raw),
        )

    def _show_body(self) -> None:
        self.document.update(self.body())

    def action_close(self) -> None:
        self.dismiss(None)

    def action_toggle_raw(self) -> None:
        self.raw = not self.raw
        self._show_body()

    def action_call_again(self) -> None:
        arguments = self.call.arguments if isinstance(self.call.arguments, dict) else None
        self.app.post_message(RunTool(self.call.tool, arguments))

    def action_copy(self) -> None:
        call = self.call
        document = {"tool": call.tool, "arguments": call.arguments, "result": call.result, "error": call.error}
        self.app.copy_to_clipboard(to_json(document))
        self.notify("Call copied to the clipboard as JSON")
