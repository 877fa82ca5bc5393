"""The Logs tab: gateway log lines and stdio upstreams' stderr in one bounded, filterable stream."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import tzinfo

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, RichLog, Select, Static

from mcpstead.state import LogLineView, UpstreamView
from tui import formatting

LOG_LIMIT = 2000
"""Lines kept (and shown) at most; the oldest go first."""

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
RANKS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
ALL, GATEWAY = "all", "gateway"
SOURCE_WIDTH = 14

_GUESSES = (
    ("CRITICAL", re.compile(r"\b(critical|fatal|panic)\b", re.IGNORECASE)),
    ("ERROR", re.compile(r"\b(error|exception|traceback|failed)\b", re.IGNORECASE)),
    ("WARNING", re.compile(r"\bwarn(ing)?\b", re.IGNORECASE)),
    ("DEBUG", re.compile(r"\b(debug|trace)\b", re.IGNORECASE)),
)


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One line in the stream: from the gateway's logging, or from an upstream's stderr."""

    created: float
    level: str
    source: str
    """"gateway", or "stderr:<upstream>"."""
    origin: str
    """What the source column shows: the logger's short name, or the upstream's name."""
    message: str

    @property
    def rank(self) -> int:
        return RANKS.get(self.level, 20)


def from_log_line(line: LogLineView) -> LogEntry:
    origin = line.logger.rpartition(".")[2] or line.logger  # mcpstead.upstream.supervisor -> supervisor
    return LogEntry(line.created, line.level.upper(), GATEWAY, origin, line.message)


def guess_level(line: str) -> str:
    """stderr has no levels; guess one from the words in the line so the level filter still helps."""
    return next((level for level, pattern in _GUESSES if pattern.search(line)), "INFO")


@dataclass(slots=True)
class StderrRecord:
    """Where one upstream's stderr stands: the level of the record its last line belongs to, and whether
    that record is a Python traceback (which runs until its exception line)."""

    level: str = "INFO"
    traceback: bool = False

    def level_of(self, line: str) -> str:
        """The level of the next line: a continuation (indented, or inside a traceback up to its exception
        line) keeps its record's level, so a traceback is one ERROR record, not one ERROR line and INFO."""
        if line[:1] in (" ", "\t") and line.strip():
            return self.level
        if self.traceback:
            self.traceback = False  # the exception line ends it
            return self.level
        self.level = guess_level(line)
        self.traceback = line.startswith("Traceback (most recent call last)")
        return self.level


def unseen(tail: Sequence[str], seq: int, seen: int) -> Sequence[str]:
    """The lines of a sliding stderr `tail` a reader has not seen, given how many lines were ever written
    (`seq`) and how many the reader had seen. A smaller `seq` means a new upstream of that name (a reload)."""
    fresh = seq - seen if seq >= seen else seq
    return tail[len(tail) - min(fresh, len(tail)) :] if fresh > 0 else ()


class LogPanel(Vertical):
    """A RichLog fed with new lines only, plus level and source filters and the global text filter."""

    BINDINGS = [
        Binding("l", "cycle_level", "Level"),
        Binding("s", "cycle_source", "Source"),
    ]

    def __init__(self, *, tz: tzinfo | None = None, limit: int = LOG_LIMIT, id: str | None = None) -> None:
        super().__init__(id=id)
        self._tz = tz
        self._entries: deque[LogEntry] = deque(maxlen=limit)
        self._stderr: dict[str, int] = {}
        self._records: dict[str, StderrRecord] = {}
        """Per upstream: the stderr record its last line belonged to (for the next line's level)."""
        """stderr lines seen so far, per upstream (its `stderr_seq` at the last frame)."""
        self._sources: tuple[str, ...] = ()
        self._min_rank = RANKS["DEBUG"]
        self._source = ALL
        self._query = ""
        self._width = 0
        self._stale = False
        """Lines arrived while the tab was hidden; RichLog would queue them unbounded, so refill on show."""
        self.log_view = RichLog(id="log", max_lines=limit, min_width=40, wrap=True, markup=False, highlight=False)
        self.log_view.border_title = "Gateway log and upstream stderr"
        self.level_select: Select[str] = Select(
            [(level.lower(), level) for level in LEVELS], value="DEBUG", allow_blank=False, compact=True, id="log-level"
        )
        self.source_select: Select[str] = Select(
            [("all", ALL), ("gateway", GATEWAY)], value=ALL, allow_blank=False, compact=True, id="log-source"
        )
        self._count = Static(id="log-count")

    def compose(self) -> ComposeResult:
        with Horizontal(id="log-toolbar"):
            yield Label("Level ", classes="dim")
            yield self.level_select
            yield Label("  Source ", classes="dim")
            yield self.source_select
            yield self._count
        yield self.log_view

    @property
    def entries(self) -> tuple[LogEntry, ...]:
        """Every line kept, shown or not, oldest first."""
        return tuple(self._entries)

    @property
    def shown(self) -> list[LogEntry]:
        """The kept lines that pass the filters, oldest first."""
        return [entry for entry in self._entries if self._passes(entry)]

    def add_lines(self, lines: Iterable[LogLineView]) -> None:
        """Append new gateway log lines."""
        self._add(from_log_line(line) for line in lines)

    def apply_upstreams(self, upstreams: Iterable[UpstreamView], now: float) -> None:
        """Append what each stdio upstream wrote to stderr since the last frame."""
        fresh: list[LogEntry] = []
        tails: dict[str, int] = {}
        for upstream in upstreams:
            if upstream.transport != "stdio" and not upstream.stderr_tail:
                continue
            tails[upstream.name] = upstream.stderr_seq
            seen = self._stderr.get(upstream.name, 0)
            record = self._records.setdefault(upstream.name, StderrRecord())
            for line in unseen(upstream.stderr_tail, upstream.stderr_seq, seen):
                source = f"stderr:{upstream.name}"
                fresh.append(LogEntry(now, record.level_of(line), source, f"{upstream.name}:stderr", line))
        self._stderr = tails
        self._records = {name: record for name, record in self._records.items() if name in tails}
        if tuple(tails) != self._sources:
            self._sources = tuple(tails)
            self._update_sources()
        self._add(fresh)

    def filter(self, query: str) -> None:
        """Show only lines whose text, logger or upstream contains `query`."""
        query = query.casefold()
        if query != self._query:
            self._query = query
            self._refill()

    def _add(self, entries: Iterable[LogEntry]) -> None:
        batch = list(entries)[-(self._entries.maxlen or LOG_LIMIT) :]
        if not batch:
            return
        self._entries.extend(batch)
        self._update_count()
        log = self.log_view
        if self._stale or log.size.width == 0:
            self._stale = True
            return
        follow = log.is_vertical_scroll_end
        for entry in batch:
            if self._passes(entry):
                log.write(self._line(entry), scroll_end=follow)

    def on_resize(self) -> None:
        """Lines are laid out at the width they were written with: re-lay them when shown or resized."""
        width = self.size.width
        if width and (self._stale or width != self._width):
            self._stale = False
            self._width = width
            self.call_after_refresh(self._refill)

    def _refill(self) -> None:
        """Rewrite the view after a filter change (a user action, so a full rewrite is fine)."""
        log = self.log_view
        self._update_count()
        if log.size.width == 0:
            self._stale = True
            return
        log.clear()
        for entry in self.shown:
            log.write(self._line(entry), scroll_end=True)

    def _passes(self, entry: LogEntry) -> bool:
        if entry.rank < self._min_rank:
            return False
        if self._source != ALL and entry.source != self._source:
            return False
        needle = self._query
        return not needle or needle in entry.message.casefold() or needle in entry.origin.casefold()

    def _line(self, entry: LogEntry) -> Table:
        """One entry as a row whose message wraps under itself, so every entry starts at the left edge."""
        stderr = entry.source != GATEWAY
        row = Table.grid(padding=(0, 1))
        row.add_column(width=8, no_wrap=True)
        row.add_column(width=7, no_wrap=True)
        row.add_column(width=SOURCE_WIDTH, no_wrap=True, overflow="ellipsis")
        row.add_column(ratio=1, overflow="fold")
        row.add_row(
            Text(formatting.clock_time(entry.created, self._tz), style="dim"),
            formatting.level(entry.level),
            Text(entry.origin, style="magenta" if stderr else "cyan"),
            Text(entry.message),
        )
        return row

    def _update_sources(self) -> None:
        current = self._source
        options = [("all", ALL), ("gateway", GATEWAY)]
        options += [(f"{name} stderr", f"stderr:{name}") for name in self._sources]
        with self.source_select.prevent(Select.Changed):
            self.source_select.set_options(options)
            self.source_select.value = current if any(value == current for _, value in options) else ALL
        self._source = self.source_select.value if isinstance(self.source_select.value, str) else ALL

    def _update_count(self) -> None:
        shown, total = len(self.shown), len(self._entries)
        self._count.update(Text(f"  {shown} of {total} lines" if shown != total else f"  {total} lines", style="dim"))

    @on(Select.Changed, "#log-level")
    def _level_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._min_rank = RANKS.get(str(event.value), RANKS["DEBUG"])
        self._refill()

    @on(Select.Changed, "#log-source")
    def _source_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._source = str(event.value)
        self._refill()

    def action_cycle_level(self) -> None:
        """Show the next level up (debug → info → warning → error → debug)."""
        current = self.level_select.value
        index = LEVELS.index(current) if isinstance(current, str) and current in LEVELS else 0
        self.level_select.value = LEVELS[(index + 1) % len(LEVELS)]

    def action_cycle_source(self) -> None:
        """Show the next source: all, the gateway, then each stdio upstream's stderr."""
        values = [ALL, GATEWAY, *(f"stderr:{name}" for name in self._sources)]
        index = values.index(self._source) if self._source in values else 0
        self.source_select.value = values[(index + 1) % len(values)]

    def set_level(self, level: str) -> None:
        """Show lines at `level` ("debug", "info", "warning", "error") and above."""
        self.level_select.value = level.upper()

    def set_source(self, source: str) -> None:
        """Show one source: "all", "gateway" or "stderr:<upstream>"."""
        self.source_select.value = source
