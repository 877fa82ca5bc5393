"""The place beside the charts: the selected upstream's tools, prompts, resources or templates, one at a time."""

from __future__ import annotations

from typing import Literal, get_args

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import ContentSwitcher

from mcpstead.state import OfferedView, UpstreamView
from tui.widgets.keyed_table import KeyedTable
from tui.widgets.offered import OfferedTable, PromptTable, ResourceTable, TemplateTable
from tui.widgets.tools import ToolTable

ListName = Literal["tools", "prompts", "resources", "templates"]
LIST_NAMES: tuple[ListName, ...] = get_args(ListName)


class CatalogLists(ContentSwitcher):
    """Four keyed tables in one place (an 80-column Overview has room for one); `t` steps through them.

    Only the list on screen is brought up to date each frame; the one switched to is updated as it shows.
    Its bottom border names the four lists, the one shown in bold.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(initial="tools", id=id)
        self.tools = ToolTable(id="tools")
        self.prompts = PromptTable(id="prompts")
        self.resources = ResourceTable(id="resources")
        self.templates = TemplateTable(id="templates")
        self._upstream: UpstreamView | None = None
        self._offered: tuple[OfferedView, ...] = ()
        self._query = ""
        self._shown: ListName = "tools"

    def compose(self) -> ComposeResult:
        yield self.tools
        yield self.prompts
        yield self.resources
        yield self.templates

    def on_mount(self) -> None:
        self._label()

    @property
    def shown(self) -> ListName:
        """The list on screen."""
        return self._shown

    @property
    def table(self) -> KeyedTable:
        """The table on screen."""
        return self.table_of(self.shown)

    def table_of(self, name: ListName) -> KeyedTable:
        tables: dict[ListName, KeyedTable] = {
            "tools": self.tools,
            "prompts": self.prompts,
            "resources": self.resources,
            "templates": self.templates,
        }
        return tables[name]

    def show(self, upstream: UpstreamView | None, offered: tuple[OfferedView, ...], query: str) -> None:
        """Follow the selected upstream, the gateway's offer and the filter."""
        self._upstream, self._offered, self._query = upstream, offered, query
        self._refresh_shown()

    def show_list(self, name: ListName) -> None:
        """Put list `name` on screen; it keeps the focus if the list it replaces had it."""
        before = self.table
        self._shown = name
        self.current = name
        self._refresh_shown()
        self._label()
        if before.has_focus and before is not self.table:
            self.call_after_refresh(self.table.focus)

    def step(self, by: int) -> None:
        """Show the next (1) or previous (-1) list, round the four."""
        self.show_list(LIST_NAMES[(LIST_NAMES.index(self.shown) + by) % len(LIST_NAMES)])

    @property
    def selected_offered(self) -> OfferedView | None:
        """The prompt, resource or template under the cursor of the list on screen (None on the tools)."""
        table = self.table
        return table.selected if isinstance(table, OfferedTable) else None

    def _refresh_shown(self) -> None:
        table = self.table
        if isinstance(table, ToolTable):
            table.show(self._upstream, self._query)
        elif isinstance(table, OfferedTable):
            table.show(self._upstream.name if self._upstream else None, self._offered, self._query)

    def _label(self) -> None:
        label = Text.assemble(("t ", "dim"))
        for index, name in enumerate(LIST_NAMES):
            if index:
                label.append("│", style="dim")
            label.append(name, style="bold" if name == self.shown else "dim")
        for name in LIST_NAMES:
            self.table_of(name).border_subtitle = label if name == self.shown else None
