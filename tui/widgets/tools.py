"""The tools of the selected upstream, keyed by qualified name."""

from __future__ import annotations

from mcpstead.state import UpstreamView
from tui import formatting
from tui.widgets.keyed_table import ColumnSpec, KeyedTable

DESCRIPTION_LIMIT = 100


class ToolTable(KeyedTable):
    """What clients can call through the gateway for one upstream, as they see the names."""

    COLUMNS = (
        ColumnSpec("name", "Tool"),
        ColumnSpec("description", "Description"),
    )

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Tools"

    def show(self, upstream: UpstreamView | None) -> None:
        tools = upstream.tools if upstream is not None else ()
        self.sync(
            (
                tool.qualified_name,
                (
                    formatting.qualified(tool.qualified_name),
                    formatting.plain(tool.description, DESCRIPTION_LIMIT, style="dim"),
                ),
            )
            for tool in tools
        )
        title = "Tools" if upstream is None else f"Tools · {upstream.name} ({len(tools)})"
        if self.border_title != title:
            self.border_title = title
