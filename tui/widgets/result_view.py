"""A request's outcome: a rendered body (content blocks, errors) and, when there is one, a collapsible tree
of the structured content below it, scrolling together."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console, RenderableType
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.geometry import Region
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from tui.widgets.json_tree import JsonTree

TEXT_WIDTH = 100

NO_TREE = object()
"""`show()` without a tree (None is a valid structured content)."""


class ResultView(VerticalScroll):
    """`show(body, tree)` replaces both; the tree takes the keys when focused (enter folds a node)."""

    def __init__(self, body: RenderableType = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._body = body
        self.body = Static(body, classes="document-body")
        self.structured = JsonTree("structuredContent", id="structured")

    def compose(self) -> ComposeResult:
        yield self.body
        yield self.structured

    def on_mount(self) -> None:
        self.structured.display = False

    def show(self, body: RenderableType, tree: Any = NO_TREE, label: str = "structuredContent") -> None:
        """`tree`: the value to show as a tree below the body (NO_TREE: none)."""
        self._body = body
        self.body.update(body)
        self.structured.display = tree is not NO_TREE
        if tree is not NO_TREE:
            self.structured.show(tree, label)
        self.scroll_home(animate=False)

    @on(Tree.NodeHighlighted, "#structured")
    def _follow_cursor(self) -> None:
        """The tree grows with its content, so this view scrolls, not the tree: keep its cursor in sight
        (only while someone moves it: a new result starts at the top)."""
        if not self.structured.has_focus:
            return
        line = self.structured.virtual_region.y + self.structured.cursor_line
        self.scroll_to_region(Region(0, line, 1, 1), animate=False)

    @property
    def text(self) -> str:
        """What is shown, as plain text: the body, then the tree's lines as far as they are expanded (for tests)."""
        console = Console(width=TEXT_WIDTH, file=io.StringIO(), color_system=None, record=True)
        console.print(self._body)
        lines = [console.export_text()]
        if self.structured.display:
            lines.extend(_lines(self.structured.root, 0))
        return "\n".join(lines)


def _lines(node: TreeNode[Any], depth: int) -> list[str]:
    lines = ["  " * depth + str(node.label)]
    if node.is_expanded:
        for child in node.children:
            lines.extend(_lines(child, depth + 1))
    return lines
