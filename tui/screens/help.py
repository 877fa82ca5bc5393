"""Every key, grouped by where it works, built from the bindings themselves so it cannot drift."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.widgets.document import Document

HelpSection = tuple[str, Sequence[BindingType]]


class HelpScreen(ModalScreen[None]):
    """Sections of (key, what it does); escape, q or ? closes it."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    AUTO_FOCUS = "#help-keys"

    def __init__(self, sections: Sequence[HelpSection]) -> None:
        super().__init__(classes="dialog-screen")
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -narrow", id="help"):
            yield Static(Text("Keys", style="bold"), classes="dialog-title")
            yield Document(self._keys(), id="help-keys")
            yield Static(Text("Mouse: click a tab or row; click a selected row again to open it.", style="dim"))

    def _keys(self) -> RenderableType:
        tables = []
        for title, bindings in self.sections:
            table = Table.grid(padding=(0, 2))
            table.add_column(style="bold cyan", min_width=14)
            table.add_column()
            for keys, description in self._rows(bindings):
                table.add_row(keys, description)
            tables.append(Group(Text(title, style="bold underline"), table, Text("")))
        return Group(*tables)

    def _rows(self, bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
        """One row per action: every key bound to it, shown as the footer shows keys."""
        rows: dict[tuple[str, str], tuple[list[str], str]] = {}
        for entry in bindings:
            for binding in Binding.make_bindings([entry]):
                if not binding.description:
                    continue
                keys, _ = rows.setdefault((binding.action, binding.description), ([], binding.description))
                shown = self.app.get_key_display(binding)
                if shown not in keys:
                    keys.append(shown)
        return [(" / ".join(keys), description) for keys, description in rows.values()]

    def action_close(self) -> None:
        self.dismiss(None)
