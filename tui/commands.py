"""The command palette's dashboard entries: every action, every upstream, tool and session by name."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.markup import escape
from textual.message import Message

from tui import formatting
from tui.messages import RunTool
from tui.widgets.lists import LIST_NAMES

if TYPE_CHECKING:
    from tui.screens.dashboard import DashboardScreen


OFFERED_VERBS = {
    "prompt": ("Get prompt", "Fill in its arguments and get its messages"),
    "resource": ("Read", "Read the resource, subscribe to its updates"),
    "template": ("Fill in", "Fill in the template's variables and read the URI"),
}
"""Palette titles and default help for prompts, resources and templates."""


@dataclass(frozen=True, slots=True)
class PaletteCommand:
    title: str
    help: str
    run: Callable[[], object]


@runtime_checkable
class CommandSource(Protocol):
    """What the palette asks for its entries (the dashboard app), computed fresh each time it opens."""

    def palette_commands(self) -> Iterable[PaletteCommand]: ...


class PaletteHost(Protocol):
    """What the palette's entries act on (the dashboard app), so this module never imports the app."""

    @property
    def dashboard(self) -> DashboardScreen: ...

    def action_reload(self) -> None: ...

    def action_help(self) -> None: ...

    def action_history(self) -> None: ...

    def action_raw_request(self) -> None: ...

    def post_message(self, message: Message) -> bool: ...


class DashboardCommands(Provider):
    """Lists the app's commands when the palette opens, and fuzzy-matches them as the user types."""

    def _commands(self) -> list[PaletteCommand]:
        """The page's own commands first (the tool runner's, a dialog's), then the app's."""
        app, screen = self.app, self.screen
        own = list(screen.palette_commands()) if isinstance(screen, CommandSource) else []
        return own + (list(app.palette_commands()) if isinstance(app, CommandSource) else [])

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(Content(command.title), command.run, text=command.title, help=escape(command.help))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.title)
            if score > 0:
                # highlight() parses markup: names with brackets are shown plain rather than mangled.
                shown = Content(command.title) if "[" in command.title else matcher.highlight(command.title)
                yield Hit(score, shown, command.run, text=command.title, help=escape(command.help))


def dashboard_commands(app: PaletteHost) -> Iterator[PaletteCommand]:
    """The app-wide actions, then one entry per upstream, tool, prompt, resource, template and session on screen."""
    dashboard = app.dashboard
    yield PaletteCommand("Reload config", "Re-read the config file and apply the changes", app.action_reload)
    yield PaletteCommand("Show keys", "Every key binding", app.action_help)
    yield PaletteCommand("Run history", "The tool calls and requests sent from the dashboard", app.action_history)
    yield PaletteCommand("JSON-RPC request", "Send any method through the gateway by hand", app.action_raw_request)
    yield PaletteCommand("Filter", "Filter tools, calls, sessions, logs and traffic by text", dashboard.action_filter)
    charts = "Hide charts" if dashboard.charts.display else "Show charts"
    yield PaletteCommand(charts, "The selected upstream's calls/s, errors and latency", dashboard.action_toggle_charts)
    for kind in LIST_NAMES:
        listed = f"The selected upstream's {kind} beside the charts (t steps through them)"
        yield PaletteCommand(f"Show {kind}", listed, _call(dashboard.show_list, kind))
    yield PaletteCommand(
        "Traffic: errors only",
        "Show only errors in the Traffic tab (again: everything)",
        dashboard.action_traffic_errors,
    )
    yield PaletteCommand(
        "Traffic: replay", "Open the selected client request in the runner, to send again", dashboard.action_replay
    )
    yield PaletteCommand(
        "Traffic: follow newest", "Jump to the newest message and follow", dashboard.action_traffic_follow
    )
    for tab in ("Overview", "Sessions", "Logs", "Traffic"):
        yield PaletteCommand(f"Go to {tab}", f"Show the {tab} tab", _call(dashboard.action_show_tab, tab.lower()))
    snapshot = dashboard.snapshot
    if snapshot is None:
        return
    for upstream in snapshot.upstreams:
        name = upstream.name
        yield PaletteCommand(f"Reconnect {name}", f"Reconnect upstream {name} now", _call(dashboard.reconnect, name))
        details = f"Everything about {name}: its last error in full, its stderr"
        yield PaletteCommand(f"Details of {name}", details, _call(dashboard.show_upstream, name))
    for upstream in snapshot.upstreams:
        for tool in upstream.tools:
            message = RunTool(tool.qualified_name)
            run = _call(app.post_message, message)
            yield PaletteCommand(f"Call {tool.qualified_name}", tool.description or "Open the tool runner", run)
    for item in snapshot.offered:
        verb, what = OFFERED_VERBS[item.kind]
        described = item.definition.get("description")
        about = described if isinstance(described, str) and described else f"{what} ({item.upstream})"
        yield PaletteCommand(f"{verb} {item.key}", about, _call(dashboard.open_offered, item))
    for session in snapshot.sessions:
        title = f"End session {formatting.short_id(session.session_id)} ({session.client_name})"
        yield PaletteCommand(title, "Close this client's session", _call(dashboard.confirm_end_session, session))


def _call(function: Callable[..., object], *args: object) -> Callable[[], None]:
    def run() -> None:
        function(*args)

    return run
