"""A scrollable, focusable view of one rich renderable (JSON, a tool result, a schema)."""

from __future__ import annotations

import io

from rich.console import Console, RenderableType
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

TEXT_WIDTH = 100


class Document(VerticalScroll):
    """Scrolls with the arrow and page keys when focused; `update()` replaces what it shows."""

    def __init__(self, renderable: RenderableType = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._renderable = renderable
        self.body = Static(renderable, classes="document-body")

    def compose(self) -> ComposeResult:
        yield self.body

    def update(self, renderable: RenderableType) -> None:
        self._renderable = renderable
        self.body.update(renderable)
        self.scroll_home(animate=False)

    @property
    def text(self) -> str:
        """What is shown, as plain text (for tests)."""
        console = Console(width=TEXT_WIDTH, file=io.StringIO(), color_system=None, record=True)
        console.print(self._renderable)
        return console.export_text()
