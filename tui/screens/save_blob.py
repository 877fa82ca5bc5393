"""Saving a resource's binary content to a file: a path to confirm, and a clear reason when it cannot be written."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static

from tui import blobs
from tui.contents import ResourceContent


class SaveBlobScreen(ModalScreen[Path | None]):
    """Dismisses with the path written, or None. An existing file is replaced only when asked twice."""

    BINDINGS = [Binding("escape", "cancel", "Cancel saving")]
    AUTO_FOCUS = "#save-path"

    def __init__(self, contents: Sequence[ResourceContent], directory: Path) -> None:
        super().__init__(classes="dialog-screen")
        self.contents = [content for content in contents if content.data is not None]
        self._directory = directory
        self._confirmed: Path | None = None
        """A path that exists and that the user was warned about: saving again replaces it."""
        self.path = Input(self._default(0), compact=True, id="save-path")
        self.error = Static("", id="save-error")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -narrow", id="save-blob"):
            yield Static(Text("Save binary content", style="bold"), classes="dialog-title")
            if len(self.contents) > 1:
                options = [(describe(content), index) for index, content in enumerate(self.contents)]
                yield Select(options, value=0, allow_blank=False, compact=True, id="save-which")
            else:
                yield Static(describe(self.contents[0]), classes="dialog-body", markup=False)
            yield self.path
            yield self.error
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="save", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        if self.app.animation_level == "none":
            self.path.cursor_blink = False
        self.error.display = False

    @property
    def chosen(self) -> ResourceContent:
        if len(self.contents) == 1:
            return self.contents[0]
        value = self.query_one("#save-which", Select).value
        return self.contents[value if isinstance(value, int) else 0]

    def _default(self, index: int) -> str:
        content = self.contents[index]
        return str(self._directory / blobs.suggested_name(content.uri, content.mime))

    @on(Select.Changed, "#save-which")
    def _which(self, event: Select.Changed) -> None:
        if isinstance(event.value, int):
            self.path.value = self._default(event.value)

    @on(Input.Changed, "#save-path")
    def _edited(self) -> None:
        self._confirmed = None
        self.error.display = False

    @on(Input.Submitted, "#save-path")
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        path = Path(self.path.value.strip()).expanduser()
        if not self.path.value.strip():
            self._say("give a path to write to", "red")
            return
        if not path.is_absolute():
            path = self._directory / path
        data = self.chosen.data
        assert data is not None
        try:
            blobs.write(path, data, overwrite=path == self._confirmed)
        except FileExistsError:
            self._confirmed = path
            self._say(f"{path} exists: save again to replace it", "yellow")
        except OSError as error:
            self._say(blobs.describe_failure(path, error), "red")
        else:
            self.dismiss(path)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def _say(self, message: str, style: str) -> None:
        self.error.update(Text(f"↳ {message}", style=style))
        self.error.display = True


def describe(content: ResourceContent) -> str:
    """ "image/png, 1,024 bytes from test://image" """
    size = len(content.data) if content.data is not None else 0
    return f"{content.mime or 'no MIME type'}, {size:,} bytes from {content.uri}"
