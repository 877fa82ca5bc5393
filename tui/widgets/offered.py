"""The selected upstream's prompts, resources and resource templates, keyed by the name or URI clients use."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding

from mcpstead.state import OfferedView
from tui import formatting
from tui.widgets.keyed_table import Cells, ColumnSpec, KeyedTable

KEY_LIMIT = 60
NAME_LIMIT = 30
DESCRIPTION_LIMIT = 100
ARGUMENTS_LIMIT = 40


class OfferedTable(KeyedTable):
    """One kind of what an upstream offers besides tools, filtered like the tools; Enter opens a row."""

    KIND: ClassVar[str]
    TITLE: ClassVar[str]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = self.TITLE
        self._items: dict[str, OfferedView] = {}

    def show(self, upstream: str | None, offered: Sequence[OfferedView], query: str = "") -> None:
        """Show `upstream`'s items of this kind whose key, name, title or description contains `query`."""
        items = [item for item in offered if item.kind == self.KIND and item.upstream == upstream]
        self._items = {item.key: item for item in items}
        needle = query.casefold()
        matching = [item for item in items if matches(item, needle)]
        self.sync((item.key, self.cells(item)) for item in matching)
        if upstream is None:
            title = self.TITLE
        elif needle:
            title = f"{self.TITLE} · {upstream} ({len(matching)} of {len(items)} match)"
        else:
            title = f"{self.TITLE} · {upstream} ({len(items)})"
        if self.border_title != title:
            self.border_title = title

    def cells(self, item: OfferedView) -> Cells:
        raise NotImplementedError

    @property
    def selected(self) -> OfferedView | None:
        """The item under the cursor."""
        key = self.cursor_key
        return self._items.get(key) if key is not None else None


class PromptTable(OfferedTable):
    KIND = "prompt"
    TITLE = "Prompts"
    BINDINGS = [Binding("enter", "select_cursor", "Get prompt (a form of its arguments)", show=False)]
    COLUMNS = (
        ColumnSpec("name", "Prompt"),
        ColumnSpec("arguments", "Arguments"),
        ColumnSpec("description", "Description"),
    )

    def cells(self, item: OfferedView) -> Cells:
        return (
            formatting.qualified(item.key, KEY_LIMIT),
            formatting.plain(arguments_signature(item.definition), ARGUMENTS_LIMIT),
            _description(item.definition),
        )


class ResourceTable(OfferedTable):
    KIND = "resource"
    TITLE = "Resources"
    BINDINGS = [Binding("enter", "select_cursor", "Read the resource", show=False)]
    COLUMNS = (
        ColumnSpec("uri", "URI"),
        ColumnSpec("name", "Name"),
        ColumnSpec("mime", "MIME"),
        ColumnSpec("description", "Description"),
    )

    def cells(self, item: OfferedView) -> Cells:
        return (
            formatting.plain(item.key, KEY_LIMIT),
            _name(item.definition),
            formatting.plain(_text(item.definition, "mimeType"), NAME_LIMIT, style="cyan"),
            _description(item.definition),
        )


class TemplateTable(OfferedTable):
    KIND = "template"
    TITLE = "Templates"
    BINDINGS = [Binding("enter", "select_cursor", "Fill in the template", show=False)]
    COLUMNS = (
        ColumnSpec("template", "URI template"),
        ColumnSpec("name", "Name"),
        ColumnSpec("description", "Description"),
    )

    def cells(self, item: OfferedView) -> Cells:
        return (formatting.plain(item.key, KEY_LIMIT), _name(item.definition), _description(item.definition))


def matches(item: OfferedView, needle: str) -> bool:
    if not needle:
        return True
    fields = (item.key, _text(item.definition, "name"), _text(item.definition, "title"), description(item))
    return any(needle in field.casefold() for field in fields)


def description(item: OfferedView) -> str:
    return _text(item.definition, "description")


def arguments_signature(definition: Mapping[str, Any]) -> str:
    """A prompt's argument names, required ones marked with *: "city*, units" (— for none)."""
    arguments = definition.get("arguments")
    if not isinstance(arguments, list) or not arguments:
        return "—"
    names = [
        f"{argument['name']}*" if argument.get("required") is True else str(argument["name"])
        for argument in arguments
        if isinstance(argument, Mapping) and isinstance(argument.get("name"), str)
    ]
    return ", ".join(names)


def _text(definition: Mapping[str, Any], key: str) -> str:
    value = definition.get(key)
    return value if isinstance(value, str) else ""


def _name(definition: Mapping[str, Any]) -> Text:
    return formatting.plain(_text(definition, "title") or _text(definition, "name"), NAME_LIMIT)


def _description(definition: Mapping[str, Any]) -> Text:
    return formatting.plain(_text(definition, "description"), DESCRIPTION_LIMIT, style="dim")
