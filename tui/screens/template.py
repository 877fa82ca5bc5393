"""A resource template filled in: one field per variable with the server's suggestions, the URI as it expands,
and Enter reads it."""

from __future__ import annotations

from collections.abc import Iterator

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Static

from mcpstead.state import OfferedView
from tui import formatting
from tui.commands import PaletteCommand
from tui.completion import completer, template_ref
from tui.screens.resource import ResourceReader
from tui.templates import expand, template_variables
from tui.widgets.completing_form import CompletingField, CompletingForm, TextField


class TemplateScreen(Screen[None]):
    """Path-like variables are required (the gateway routes the URI by them); query ones may stay empty."""

    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("q", "close", "Back", show=False),  # in a field, q is typed
        Binding("ctrl+s", "read", "Read the URI", priority=True),
    ]
    AUTO_FOCUS = None  # on_mount picks the first field, or the button

    def __init__(self, reader: ResourceReader, item: OfferedView) -> None:
        super().__init__(classes="page")
        self.reader = reader
        self.item = item
        self.variables = template_variables(item.key)
        fields = tuple(TextField(v.name, required=v.required) for v in self.variables or ())
        self.form = CompletingForm(
            fields,
            completer(reader.view, template_ref(item.key)),
            empty="This template has no variables." if self.variables is not None else "",
            id="template-form",
        )
        self.uri_line = Static("", id="template-uri")
        self.read_button = Button("Read  ctrl+s", variant="primary", compact=True, id="read")
        self.status = Static("", id="template-status")

    def compose(self) -> ComposeResult:
        title = Text.assemble(("Template  ", "dim"), (self.item.key, "bold"), (f"  {self.item.upstream}", "dim"))
        yield Static(title, id="template-title", classes="page-title")
        description = self.item.definition.get("description")
        if isinstance(description, str) and description:
            yield Static(Text(formatting.one_line(description, 300), style="dim"), classes="page-meta")
        yield self.form
        yield self.uri_line
        with Horizontal(classes="browse-actions"):
            yield self.read_button
            yield self.status
        yield Footer()

    def on_mount(self) -> None:
        if self.variables is None:
            self.read_button.disabled = True
            self._say(f"{self.item.key} is not an RFC 6570 template this dashboard can expand.", "red")
        if not self.form.focus_first():
            self.read_button.focus()
        self._show_uri()

    @property
    def uri(self) -> str:
        """The URI the fields expand to now."""
        return expand(self.item.key, self.form.values()) if self.variables is not None else self.item.key

    @on(CompletingField.Edited)
    def _show_uri(self) -> None:
        self.uri_line.update(Text.assemble(("URI  ", "dim"), (self.uri, "bold cyan"), overflow="fold"))

    def palette_commands(self) -> Iterator[PaletteCommand]:
        yield PaletteCommand("Read the URI", "The template filled in as it is now", self.action_read)

    @on(Input.Submitted)
    @on(Button.Pressed, "#read")
    def _submitted(self, event: Input.Submitted | Button.Pressed) -> None:
        event.stop()
        self.action_read()

    def action_read(self) -> None:
        if self.variables is None:
            return
        _, errors = self.form.collect()
        if errors:
            count = len(errors)
            self._say(f"Not read: {count} variable{'s' if count != 1 else ''} empty.", "red")
            return
        self._say("")
        self.app.push_screen(self.reader.screen(self.uri, self.item))

    def action_close(self) -> None:
        self.dismiss(None)

    def _say(self, message: str, style: str = "") -> None:
        self.status.update(Text(message, style=style))
