"""One upstream in full: what the table clips (its last error whole, its stderr tail) and what it has no
column for (target, era, pid, session resets, lists)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from mcpstead.state import UpstreamView
from tui import formatting
from tui.widgets.document import Document

STDERR_SHOWN = 20
"""The newest stderr lines shown (the Logs tab has them all)."""


class UpstreamDetailScreen(ModalScreen[None]):
    """The upstream as it was when opened; `y` copies its last error."""

    BINDINGS = [
        Binding("escape,q,i", "close", "Close"),
        Binding("y", "copy", "Copy error"),
    ]

    AUTO_FOCUS = "#upstream-facts"

    def __init__(self, upstream: UpstreamView, now: float) -> None:
        super().__init__(classes="dialog-screen")
        self.upstream = upstream
        self._now = now
        """Wall clock when it was opened (ages and the next retry are shown from then)."""

    def compose(self) -> ComposeResult:
        title = Text.assemble(("Upstream  ", "dim"), (self.upstream.name, "bold"))
        with Vertical(classes="dialog", id="upstream-detail"):
            yield Static(title, classes="dialog-title")
            yield Document(self.facts(), id="upstream-facts")
        yield Footer()

    def facts(self) -> RenderableType:
        upstream, now = self.upstream, self._now
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan", min_width=12)
        table.add_column()
        rows: list[tuple[str, RenderableType]] = [
            ("Status", formatting.status(upstream.status)),
            ("Target", Text(upstream.target)),
            ("Via", formatting.transport(upstream.transport)),
            ("Era", Text(formatting.era(upstream.era).plain or "not known yet")),
            ("Lists", Text(self._lists())),
            ("Calls", Text(f"{upstream.calls} ({upstream.errors} failed)")),
            ("Reconnects", Text(str(upstream.reconnects))),
            ("Last seen", formatting.ago(upstream.last_seen, now)),
        ]
        if upstream.next_retry_at is not None:
            rows.append(("Next retry", formatting.next_retry(upstream.status, upstream.next_retry_at, now)))
        if upstream.pid is not None or upstream.exit_code is not None:
            rows.append(("Process", Text(f"pid {upstream.pid}" if upstream.pid else f"exited {upstream.exit_code}")))
        if upstream.session_resets:
            resets = ", ".join(f"{reason} {count}" for reason, count in sorted(upstream.session_resets.items()))
            rows.append(("Session resets", Text(resets)))
        for label, value in rows:
            table.add_row(label, value)
        parts: list[RenderableType] = [table, Text("")]
        parts.append(Text("Last error", style="bold underline"))
        parts.append(Text(upstream.last_error, style="red") if upstream.last_error else Text("none", style="dim"))
        if upstream.stderr_tail:
            shown = upstream.stderr_tail[-STDERR_SHOWN:]
            parts += [Text(""), Text(f"stderr (last {len(shown)} lines)", style="bold underline")]
            parts += [Text(line) for line in shown]
        return Group(*parts)

    def _lists(self) -> str:
        upstream = self.upstream
        kinds = (
            (len(upstream.tools), "tools"),
            (upstream.prompts, "prompts"),
            (upstream.resources, "resources"),
            (upstream.resource_templates, "templates"),
        )
        return ", ".join(f"{count} {kind}" for count, kind in kinds)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy(self) -> None:
        if self.upstream.last_error:
            self.app.copy_to_clipboard(self.upstream.last_error)
            self.notify("Last error copied to the clipboard")
        else:
            self.notify("No error to copy", severity="warning")
