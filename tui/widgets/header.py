"""The one-line header: where the gateway listens, how it authenticates, which config, and uptime."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from mcpstead.state import GatewaySnapshot
from tui import formatting


class StatusHeader(Horizontal):
    """Static facts on the left, a ticking uptime on the right; repainted only when the text changes."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._facts = Static(id="facts")
        self._uptime = Static(id="uptime")
        self._shown: tuple[Text, Text] | None = None

    def compose(self) -> ComposeResult:
        yield self._facts
        yield self._uptime

    def apply(self, snapshot: GatewaySnapshot, now: float) -> None:
        facts = Text.assemble(
            ("mcpstead  ", "bold"),
            (snapshot.listen_url, "bold"),
            ("  auth ", "dim"),
            snapshot.auth_mode,
            ("  config ", "dim"),
            snapshot.config_path,
            no_wrap=True,
            overflow="ellipsis",
            end="",
        )
        uptime = Text.assemble(("up ", "dim"), formatting.uptime(snapshot.started_at, now), end="")
        if self._shown is None or self._shown[0] != facts:
            self._facts.update(facts)
        if self._shown is None or self._shown[1] != uptime:
            self._uptime.update(uptime)
        self._shown = (facts, uptime)
