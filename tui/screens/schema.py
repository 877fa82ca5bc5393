"""A tool's full definition (input and output schema) as highlighted JSON."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from mcpstead.state import ToolView
from tui.forms import to_json
from tui.messages import RunTool
from tui.rendering import json_syntax
from tui.widgets.document import Document


class SchemaScreen(ModalScreen[None]):
    """Scroll with the arrows; `c` goes straight to the tool runner for this tool."""

    BINDINGS = [
        Binding("escape,q,s", "close", "Close"),
        Binding("c", "call", "Call tool"),
        Binding("y", "copy", "Copy JSON"),
    ]

    AUTO_FOCUS = "#schema-json"

    def __init__(self, tool: ToolView) -> None:
        super().__init__(classes="dialog-screen")
        self.tool = tool

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="schema"):
            yield Static(Text.assemble(("Schema  ", "dim"), (self.tool.qualified_name, "bold")), classes="dialog-title")
            yield Document(json_syntax(dict(self.tool.definition), dark=self.app.current_theme.dark), id="schema-json")
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_call(self) -> None:
        self.app.post_message(RunTool(self.tool.qualified_name))
        self.dismiss(None)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(to_json(dict(self.tool.definition)))
        self.notify("Tool definition copied to the clipboard")
