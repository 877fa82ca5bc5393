"""The one-line header: where the gateway listens, auth, config, and on the right the live figures."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Sparkline, Static

from mcpstead.state import GatewaySnapshot, ReloadView
from tui import formatting, stats

SEPARATOR = ("  ·  ", "dim")


class StatusHeader(Horizontal):
    """Static facts on the left (cut first when narrow); the calls-per-second sparkline, call rate, last
    reload and uptime on the right.

    Each side is repainted only when its text changes.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._facts = Static(id="facts")
        self._live = Static(id="live")
        self.calls_chart = Sparkline([], id="calls-chart")
        self._shown: tuple[Text, Text] | None = None
        self._last: tuple[GatewaySnapshot, float] | None = None
        self._reloading = False

    def compose(self) -> ComposeResult:
        yield self._facts
        yield self.calls_chart
        yield self._live

    def plot(self, calls_per_second: Sequence[float]) -> None:
        """Chart the total calls per second, oldest first (the sparkline repaints only when they change)."""
        self.calls_chart.data = calls_per_second

    def set_reloading(self, reloading: bool) -> None:
        """Say "reloading…" in place of the last reload's outcome while a reload runs."""
        self._reloading = reloading
        if self._last is not None:
            self.apply(*self._last)

    def apply(self, snapshot: GatewaySnapshot, now: float) -> None:
        self._last = (snapshot, now)
        facts = Text.assemble(
            *((("⚠ UNAUTHENTICATED", "bold white on red"), " ") if snapshot.warnings else ()),
            (snapshot.listen_url or "not listening", "bold"),
            ("  auth ", "dim"),
            snapshot.auth_mode,
            ("  config ", "dim"),
            snapshot.config_path,
            no_wrap=True,
            overflow="ellipsis",
            end="",
        )
        reload = Text("reloading…", style="yellow") if self._reloading else reload_summary(snapshot.last_reload, now)
        live = Text.assemble(
            (formatting.rate(stats.calls_per_second(snapshot.calls, now)), "bold"),
            (" calls/s", "dim"),
            SEPARATOR,
            reload,
            SEPARATOR,
            ("up ", "dim"),
            formatting.uptime(snapshot.started_at, now),
            no_wrap=True,
            end="",
        )
        if self._shown is None or self._shown[0] != facts:
            self._facts.update(facts)
        if self._shown is None or self._shown[1] != live:
            self._live.update(live)
        self._shown = (facts, live)


def reload_summary(reload: ReloadView | None, now: float) -> Text:
    """ "reload ok 2m ago", "reload failed 5s ago" (red), or "no reload" before the first one."""
    if reload is None:
        return Text("no reload", style="dim", end="")
    when = formatting.duration(now - reload.at)
    if reload.ok:
        return Text.assemble(("reload ", "dim"), ("ok", "green"), (f" {when} ago", "dim"), end="")
    return Text.assemble(("reload ", "dim"), ("failed", "bold red"), (f" {when} ago", "dim"), end="")
