"""Why a config reload failed: every error, in a dialog, with the running config left in place."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.widgets.document import Document


class ReloadErrorsScreen(ModalScreen[None]):
    """Lists each problem on its own line; any of escape, enter or q closes it."""

    BINDINGS = [Binding("escape,enter,q", "close", "Close")]

    def __init__(self, errors: Sequence[str], *, title: str = "Reload failed: the running config is unchanged") -> None:
        super().__init__(classes="dialog-screen")
        self.errors = tuple(errors) or ("the reload failed without saying why",)
        self._title = title

    def compose(self) -> ComposeResult:
        count = len(self.errors)
        with Vertical(classes="dialog", id="reload-errors"):
            yield Static(Text(self._title, style="bold red"), classes="dialog-title")
            yield Static(Text(f"{count} problem{'s' if count != 1 else ''}:", style="dim"))
            yield Document(Group(*(Text.assemble(("• ", "red"), error) for error in self.errors)), id="error-list")
            yield Static(Text("Fix the file and press ctrl+r to try again.  (esc to close)", style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)
