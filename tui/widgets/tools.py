"""The tools of the selected upstream, keyed by qualified name and filtered by substring."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.binding import Binding

from mcpstead.state import ToolView, UpstreamView
from tui import formatting
from tui.widgets.keyed_table import ColumnSpec, KeyedTable

DESCRIPTION_LIMIT = 100
ARGUMENTS_LIMIT = 40


class ToolTable(KeyedTable):
    """What clients can call through the gateway for one upstream, as they see the names.

    Enter (or a second click) on a row asks for its schema; the screen decides what that shows.
    """

    BINDINGS = [Binding("enter", "select_cursor", "Schema", show=False)]

    COLUMNS = (
        ColumnSpec("name", "Tool"),
        ColumnSpec("arguments", "Arguments"),
        ColumnSpec("description", "Description"),
    )

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Tools"
        self._tools: dict[str, ToolView] = {}

    def show(self, upstream: UpstreamView | None, query: str = "") -> None:
        """Show `upstream`'s tools whose name or description contains `query` (case-insensitive)."""
        tools = upstream.tools if upstream is not None else ()
        self._tools = {tool.qualified_name: tool for tool in tools}
        needle = query.casefold()
        matching = [tool for tool in tools if matches(tool, needle)]
        self.sync(
            (
                tool.qualified_name,
                (
                    formatting.qualified(tool.qualified_name),
                    formatting.plain(signature(tool.definition), ARGUMENTS_LIMIT),
                    formatting.plain(tool.description, DESCRIPTION_LIMIT, style="dim"),
                ),
            )
            for tool in matching
        )
        if upstream is None:
            title = "Tools"
        elif needle:
            title = f"Tools · {upstream.name} ({len(matching)} of {len(tools)} match)"
        else:
            title = f"Tools · {upstream.name} ({len(tools)})"
        if self.border_title != title:
            self.border_title = title

    @property
    def selected(self) -> ToolView | None:
        """The tool under the cursor."""
        key = self.cursor_key
        return self._tools.get(key) if key is not None else None


def matches(tool: ToolView, needle: str) -> bool:
    return not needle or needle in tool.qualified_name.casefold() or needle in tool.description.casefold()


def signature(definition: Mapping[str, Any]) -> str:
    """The argument names of a tool, required ones marked with *: "city*, units"."""
    schema = definition.get("inputSchema")
    if not isinstance(schema, Mapping):
        return ""
    properties = schema.get("properties")
    if not isinstance(properties, Mapping) or not properties:
        return "—"
    required = schema.get("required")
    names = set(required) if isinstance(required, list) else set()
    return ", ".join(f"{name}*" if name in names else str(name) for name in properties)
