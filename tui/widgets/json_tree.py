"""A JSON value as a collapsible tree: objects and arrays fold, leaves are highlighted by type."""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

EXPANDED_DEPTH = 3
"""Levels open at first; deeper ones wait for a key press (a large result stays readable)."""
MAX_CHILDREN = 500
"""Items of one object or array shown; the rest are counted in a last line."""
LEAF_CHARS = 200


def leaf(value: Any) -> Text:
    if isinstance(value, str):
        shown = value if len(value) <= LEAF_CHARS else value[: LEAF_CHARS - 1] + "…"
        return Text(json.dumps(shown, ensure_ascii=False), style="green")
    if isinstance(value, bool) or value is None:
        return Text(json.dumps(value), style="magenta italic")
    if isinstance(value, int | float):
        return Text(json.dumps(value), style="cyan")
    return Text(str(value))


class JsonTree(Tree[Any]):
    """`show(value)` replaces what the tree holds."""

    def __init__(self, label: str, *, id: str | None = None) -> None:
        super().__init__(Text(label, style="bold"), id=id)
        self.show_root = True
        self.guide_depth = 2

    def show(self, value: Any, label: str | None = None) -> None:
        self.clear()
        if label is not None:
            self.root.set_label(Text(label, style="bold"))
        self.root.data = value
        self._fill(self.root, value, 0)
        self.root.expand()

    def _fill(self, node: TreeNode[Any], value: Any, depth: int) -> None:
        items: list[tuple[str, Any]]
        if isinstance(value, dict):
            items = [(json.dumps(key, ensure_ascii=False), item) for key, item in value.items()]
        elif isinstance(value, list):
            items = [(f"[{index}]", item) for index, item in enumerate(value)]
        else:
            node.add_leaf(leaf(value), data=value)
            return
        for key, item in items[:MAX_CHILDREN]:
            if isinstance(item, dict | list) and item:
                count = f"{{{len(item)}}}" if isinstance(item, dict) else f"[{len(item)}]"
                child = node.add(Text.assemble((key, "bold blue"), (f" {count}", "dim")), data=item)
                self._fill(child, item, depth + 1)
                if depth + 1 < EXPANDED_DEPTH:
                    child.expand()
            else:
                node.add_leaf(Text.assemble((key, "bold blue"), ": ", leaf(item)), data=item)
        if len(items) > MAX_CHILDREN:
            node.add_leaf(Text(f"… {len(items) - MAX_CHILDREN} more", style="dim"))
