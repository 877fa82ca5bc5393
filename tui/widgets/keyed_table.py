"""A DataTable that is updated by key: changed cells are rewritten, new keys added, vanished keys removed.

Rebuilding a table on every frame would reset the cursor and scroll position and re-render every row;
keyed updates keep what the user is looking at still while the gateway changes underneath. The one
exception is `drop_many` when most of a large table leaves at once (see there).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual.widgets import DataTable

Cells = tuple[RenderableType, ...]

BULK_DROP_MIN_ROWS = 32
"""Below this many rows, removing one by one is cheap whatever the share removed."""

BULK_DROP_SHARE = 0.125
"""Past this share of rows removed at once, clearing and re-adding the survivors is cheaper (measured)."""


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column: a stable key for update_cell, a label, and a fixed width (None fits the content)."""

    key: str
    label: str
    width: int | None = None
    right: bool = False


@dataclass(frozen=True, slots=True)
class Ordered:
    """A cell that renders as `text` but carries a sort order.

    DataTable can only append rows and sort by cell values; this lets a table sort on a value it does
    not display (the call sequence number) without spending a column on it.
    """

    order: int
    text: Text

    def __rich__(self) -> Text:
        return self.text

    def __str__(self) -> str:
        return self.text.plain


class KeyedTable(DataTable[RenderableType]):
    """Row-cursor DataTable whose rows are identified by string keys and diffed cell by cell."""

    COLUMNS: ClassVar[tuple[ColumnSpec, ...]] = ()

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(cursor_type="row", id=id, classes=classes)
        self._shown: dict[str, Cells] = {}

    def on_mount(self) -> None:
        for spec in self.COLUMNS:
            label = Text(spec.label, justify="right" if spec.right else "left")
            self.add_column(label, key=spec.key, width=spec.width)

    @property
    def keys(self) -> list[str]:
        """Row keys in display order (top first)."""
        return [str(row.key.value) for row in self.ordered_rows]

    @property
    def cursor_key(self) -> str | None:
        """Key of the row under the cursor, or None when the table is empty."""
        if not self._shown or not self.is_valid_row_index(self.cursor_row):
            return None
        return str(self.ordered_rows[self.cursor_row].key.value)

    def put(self, key: str, cells: Cells) -> bool:
        """Show `cells` in row `key`: add the row, or rewrite only the cells that differ. True if added."""
        before = self._shown.get(key)
        self._shown[key] = cells
        if before is None:
            self.add_row(*cells, key=key)
            return True
        if before != cells:
            for spec, old, new in zip(self.COLUMNS, before, cells, strict=True):
                if old != new:
                    self.update_cell(key, spec.key, new, update_width=True)
        return False

    def drop(self, key: str) -> None:
        """Remove row `key` if it is shown."""
        if self._shown.pop(key, None) is not None:
            self.remove_row(key)

    def drop_many(self, keys: Collection[str]) -> None:
        """Remove the rows `keys`, leaving the cursor on the same surviving row where possible.

        DataTable.remove_row costs O(rows) (it renumbers every row and re-validates the cursor), so
        removing most of a big table one row at a time is O(rows²): ~40 ms for 200 rows, which a burst
        of calls can cause every frame. When more than an eighth of the rows go, it is cheaper to clear the
        table and re-add the survivors in order: O(rows), and the same end state.
        """
        doomed = {key for key in keys if key in self._shown}
        if not doomed:
            return
        if len(self._shown) < BULK_DROP_MIN_ROWS or len(doomed) <= BULK_DROP_SHARE * len(self._shown):
            for key in doomed:
                self.drop(key)
            return
        self._rebuild([key for key in self.keys if key not in doomed])

    def _rebuild(self, order: list[str]) -> None:
        """Clear and re-add the rows `order` (all shown now) in that order, the cursor on the same row, or
        at the same height when its row is gone."""
        selected, row = self.cursor_key, self.cursor_row
        rows = [(key, self._shown[key]) for key in order]
        self.clear()
        self._shown.clear()
        for key, cells in rows:
            self.put(key, cells)
        if selected in self._shown:
            self.keep_cursor_on(selected)
        elif rows:
            self.move_cursor(row=min(row, len(rows) - 1), animate=False)

    def sync(self, rows: Iterable[tuple[str, Cells]]) -> list[str]:
        """Make the table show exactly `rows`, in their order; return the keys that were added.

        The cursor stays on the same key when that row survives, so a selection does not jump when a row
        above it disappears. New rows are appended; when that breaks the order (rows that come back after a
        filter is cleared, an upstream added in the middle of the config), the table is rebuilt in order.
        """
        wanted = dict(rows)
        selected = self.cursor_key
        self.drop_many([key for key in self._shown if key not in wanted])
        added = [key for key, cells in wanted.items() if self.put(key, cells)]
        if added and self.keys != list(wanted):
            self._rebuild(list(wanted))
        self.keep_cursor_on(selected)
        return added

    def keep_cursor_on(self, key: str | None) -> None:
        """Move the cursor back to row `key` if it still exists and has moved."""
        if key is None or key not in self._shown:
            return
        index = self.get_row_index(key)
        if index != self.cursor_row:
            self.move_cursor(row=index, animate=False)
