"""The main screen: header, then tabs (Overview, Sessions, Logs), a filter bar and the footer."""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Callable
from datetime import tzinfo
from typing import TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Input, Label, Static, TabbedContent, TabPane

from mcpstead.state import GatewaySnapshot, GatewayView, OfferedView, SessionView, UpstreamView
from tui import formatting, stats
from tui.charts import ChartHistory
from tui.messages import RunTool, ShowCall
from tui.notifications import NotificationHub
from tui.screens.confirm import ConfirmScreen
from tui.screens.prompt import PromptScreen
from tui.screens.resource import ResourceReader
from tui.screens.schema import SchemaScreen
from tui.screens.template import TemplateScreen
from tui.screens.traffic_detail import TrafficDetailScreen, replay
from tui.screens.upstream_detail import UpstreamDetailScreen
from tui.widgets import (
    CallTable,
    ChartPanel,
    LogPanel,
    SessionTable,
    StatusHeader,
    TrafficPanel,
    UpstreamTable,
)
from tui.widgets.lists import CatalogLists, ListName

COMMAND_TIMEOUT = 30.0
"""Seconds to wait for `view.reconnect()` or `view.end_session()` before saying it did not answer."""

FOCUS_ATTEMPTS = 5
"""Frames to retry focusing a tab's main widget while its pane is being shown."""

T = TypeVar("T")


def client_setup_hint(config_path: str) -> Text:
    """While no client has come: the command that prints a client's set-up for this config, first, so a
    narrow terminal cuts only the list of the other clients (the line never wraps, so it moves nothing)."""
    command = f"mcpstead client-config claude-code -c {shlex.quote(config_path)}"
    return Text.assemble(
        ("No client yet: ", "dim"),
        (command, "bold"),
        (" prints how to point Claude Code here (or claude-desktop, vscode, cursor, python).", "dim"),
        no_wrap=True,
    )


class OverviewPane(TabPane):
    """Upstreams, the selected upstream's tools and charts, and recent calls; these keys work in all of them."""

    BINDINGS = [
        Binding("r", "screen.reconnect", "Reconnect"),
        Binding("c", "screen.call_tool", "Call"),
        Binding("s", "screen.schema", "Schema"),
        Binding("i", "screen.upstream_details", "Upstream details", show=False),
        Binding("g", "screen.toggle_charts", "Show/hide charts", show=False),
        Binding("t", "screen.step_list(1)", "Next list: tools, prompts, resources, templates", show=False),
        Binding("T", "screen.step_list(-1)", "Previous list", show=False),
    ]


class DashboardScreen(Screen[None]):
    """Shows one snapshot at a time; `apply()` is the only way new gateway state gets in."""

    AUTO_FOCUS = "#upstreams"

    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("1", "show_tab('overview')", "Overview", show=False),
        Binding("2", "show_tab('sessions')", "Sessions", show=False),
        Binding("3", "show_tab('logs')", "Logs", show=False),
        Binding("4", "show_tab('traffic')", "Traffic", show=False),
        # Named here so the help screen lists them (the footer has no room for them at 80 columns).
        Binding("tab", "app.focus_next", "Next panel", show=False),
        Binding("shift+tab", "app.focus_previous", "Previous panel", show=False),
    ]

    def __init__(
        self, view: GatewayView, *, clock: Callable[[], float], tz: tzinfo | None, notifications: NotificationHub
    ) -> None:
        super().__init__(id="dashboard")
        self._view = view
        self._clock = clock
        self.reader = ResourceReader(view, notifications, clock, tz)
        self._snapshot: GatewaySnapshot | None = None
        self._query = ""
        self._hint: str | None = None
        self._return_focus: Widget | None = None
        self.header = StatusHeader(id="header")
        self.upstreams = UpstreamTable(id="upstreams")
        self.lists = CatalogLists(id="lists")
        self.tools = self.lists.tools
        self.charts = ChartPanel(id="charts")
        self.history = ChartHistory()
        self.calls = CallTable(tz=tz, id="calls")
        self.sessions = SessionTable(id="sessions-table")
        self.logs = LogPanel(tz=tz, id="logs-panel")
        self.traffic = TrafficPanel(tz=tz, id="traffic-panel")
        self._tz = tz
        self.hint = Static(id="hint")
        self.filter_input = Input(
            placeholder="filter tools, calls, sessions, logs and traffic", compact=True, id="filter"
        )

    @property
    def snapshot(self) -> GatewaySnapshot | None:
        """The snapshot currently on screen."""
        return self._snapshot

    def compose(self) -> ComposeResult:
        yield self.header
        with TabbedContent(id="tabs"):
            with OverviewPane("Overview", id="overview"):
                yield self.upstreams
                yield self.hint
                with Horizontal(id="overview-middle"):
                    yield self.lists
                    yield self.charts
                yield self.calls
            with TabPane("Sessions", id="sessions"):
                yield self.sessions
            with TabPane("Logs", id="logs"):
                yield self.logs
            with TabPane("Traffic", id="traffic"):
                yield self.traffic
        with Horizontal(id="filter-bar"):
            yield Label("/", id="filter-label")
            yield self.filter_input
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#filter-bar").display = False
        if self.app.animation_level == "none":
            self.filter_input.cursor_blink = False
        # Paint real data in the first frame rather than waiting for the first change.
        self.apply(self._view.snapshot())

    def apply(self, snapshot: GatewaySnapshot) -> None:
        """Bring every panel up to `snapshot` with keyed, in-place updates (call inside batch_update)."""
        self._snapshot = snapshot
        now = self._clock()
        self.history.observe(snapshot, now)
        self.header.apply(snapshot, now)
        self.header.plot(self.history.calls())
        self.upstreams.apply(snapshot.upstreams, now, stats.p50_by_upstream(snapshot.calls))
        self._show_lists()
        self._show_charts()
        self.calls.apply(snapshot.calls)
        self.sessions.apply(snapshot.sessions, now, self._query)
        self.logs.apply_upstreams(snapshot.upstreams, now)
        self._label_tab("sessions", f"Sessions ({len(snapshot.sessions)})")
        self._show_hint(snapshot)

    def _show_hint(self, snapshot: GatewaySnapshot) -> None:
        """One line of what to do next while the dashboard is empty; hidden once there is something to see."""
        hint = self._hint_for(snapshot)
        if hint.plain != self._hint:
            self._hint = hint.plain
            self.hint.update(hint)
            self.hint.set_class(bool(hint.no_wrap), "one-line")  # the widget's CSS does the cutting
            self.hint.display = bool(hint.plain)

    def _hint_for(self, snapshot: GatewaySnapshot) -> Text:
        if snapshot.catalog_problems:
            count = len(snapshot.catalog_problems)
            more = f" (+{count - 1} more in Logs)" if count > 1 else ""
            return Text(f"⚠ {snapshot.catalog_problems[0]}{more}", style="yellow")
        if not snapshot.upstreams:
            return Text(
                f"No upstreams yet: add one under servers: in {snapshot.config_path} (the file is watched; ctrl+r reloads).",
                style="dim",
            )
        if not snapshot.client_seen:
            return client_setup_hint(snapshot.config_path)
        if not snapshot.calls and not self.calls.row_count:
            return Text(
                f"No calls yet: point an MCP client at {snapshot.listen_url}, or pick a tool and press c.", style="dim"
            )
        return Text()

    def _show_lists(self) -> None:
        self.lists.show(self._selected_upstream(), self._snapshot.offered if self._snapshot else (), self._query)

    def action_step_list(self, by: int) -> None:
        """Show the next or previous of the tools, prompts, resources and templates beside the charts."""
        self.lists.step(by)

    def show_list(self, name: ListName) -> None:
        self.lists.show_list(name)

    def _show_charts(self) -> None:
        if self.charts.display:  # hidden, it costs nothing; the history keeps counting
            self.charts.show(self.upstreams.selected, self.history)

    def action_toggle_charts(self) -> None:
        """Show or hide the charts beside the tools (hidden, the tools get the whole width)."""
        self.charts.display = not self.charts.display
        self._show_charts()

    def _label_tab(self, pane: str, label: str) -> None:
        tab = self.query_one(TabbedContent).get_tab(pane)
        if tab.label_text != label:
            tab.label = label

    def _selected_upstream(self) -> UpstreamView | None:
        name = self.upstreams.selected
        if self._snapshot is None or name is None:
            return None
        return next((u for u in self._snapshot.upstreams if u.name == name), None)

    # -- navigation ----------------------------------------------------------------------------------

    def action_show_tab(self, tab: str) -> None:
        tabs = self.query_one(TabbedContent)
        if tabs.active == tab:
            self._focus_tab(tab)
        else:
            tabs.active = tab  # _tab_activated moves the focus

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id is not None:
            self._focus_tab(event.pane.id)

    def _focus_tab(self, tab: str, attempts: int = FOCUS_ATTEMPTS) -> None:
        """Focus the main widget of `tab` once it shows, unless another tab was chosen meanwhile.

        (Focusing a widget in a hidden pane would make TabbedContent switch back to that pane, and a pane
        that is still being shown may refuse focus for a frame, hence the bounded retries.)
        """
        tabs = self.query_one(TabbedContent)
        targets: dict[str, Widget] = {
            "overview": self.upstreams,
            "sessions": self.sessions,
            "traffic": self.traffic.table,
        }
        target = targets.get(tab, self.logs.log_view)

        def focus() -> None:
            if tabs.active != tab or self.app.focused in (target, self.filter_input):
                return  # another tab was chosen, or the user went on to type a filter meanwhile
            target.focus()
            if self.app.focused is not target and attempts > 1:
                self._focus_tab(tab, attempts - 1)

        self.call_after_refresh(focus)

    @on(DataTable.RowHighlighted, "#upstreams")
    def _upstream_highlighted(self) -> None:
        self._show_lists()
        self._show_charts()

    @on(DataTable.RowSelected, "#upstreams")
    def _upstream_selected(self) -> None:
        self.lists.table.focus()

    @on(DataTable.RowSelected, "#tools")
    def _tool_selected(self) -> None:
        self.action_schema()

    @on(DataTable.RowSelected, "#prompts, #resources, #templates")
    def _offered_selected(self) -> None:
        self.action_call_tool()

    @on(DataTable.RowSelected, "#traffic-table")
    def _traffic_selected(self) -> None:
        row = self.traffic.selected()
        if row is not None:
            self.app.push_screen(TrafficDetailScreen(row, self.traffic.model, tz=self._tz))

    def action_traffic_errors(self) -> None:
        """Show only errors in the Traffic tab (or everything again)."""
        self.traffic.toggle_errors()

    def action_traffic_follow(self) -> None:
        """Jump to the newest message and keep following new ones."""
        self.traffic.follow_newest()

    def action_replay(self) -> None:
        """Open the selected client request in the runner, to edit and send it again."""
        replay(self, self.traffic.selected(), can_send=True)

    @on(DataTable.RowSelected, "#calls")
    def _call_selected(self) -> None:
        call = self.calls.selected
        if call is not None:
            self.app.post_message(ShowCall(call))

    # -- filter --------------------------------------------------------------------------------------

    def action_filter(self) -> None:
        """Show the filter bar and type into it; the filter applies to every table and the log."""
        focused = self.app.focused
        if focused is not self.filter_input:
            self._return_focus = focused
        self.query_one("#filter-bar").display = True
        # At once, not on the next turn (Widget.focus): keys typed right after "/" are the filter's text,
        # not commands for the panel that had the focus.
        self.set_focus(self.filter_input)

    def action_clear_filter(self) -> None:
        self.filter_input.value = ""
        self._set_query("")
        self.query_one("#filter-bar").display = False
        self._restore_focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._set_query(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value:
            self.query_one("#filter-bar").display = False
        self._restore_focus()

    def _set_query(self, query: str) -> None:
        self._query = query
        self._show_lists()
        self.calls.filter(query)
        if self._snapshot is not None:
            self.sessions.apply(self._snapshot.sessions, self._clock(), query)
        self.logs.filter(query)
        self.traffic.filter(query)

    def _restore_focus(self) -> None:
        target = self._return_focus
        self._return_focus = None
        if target is not None and target.is_attached and target is not self.filter_input:
            target.focus()
        else:
            self._focus_tab(self.query_one(TabbedContent).active or "overview")

    # -- commands on the selection -------------------------------------------------------------------

    def _chosen(self, selected: T | None, what: str) -> T | None:
        """The row under the cursor of a table, or None (and a toast saying nothing is selected)."""
        if selected is None:
            self.notify(f"No {what} selected", severity="warning")
        return selected

    def action_call_tool(self) -> None:
        """Use what is under the cursor of the list shown: call a tool, get a prompt, read a resource, fill in
        a template."""
        if self.lists.shown != "tools":
            item = self._chosen(self.lists.selected_offered, self.lists.shown.removesuffix("s"))
            if item is not None:
                self.open_offered(item)
            return
        tool = self._chosen(self.tools.selected, "tool")
        if tool is None:
            return
        self.app.post_message(RunTool(tool.qualified_name))

    def action_call_again(self) -> None:
        call = self._chosen(self.calls.selected, "call")
        if call is None:
            return
        self.app.post_message(RunTool(call.tool, call.arguments if isinstance(call.arguments, dict) else None))

    def open_offered(self, item: OfferedView) -> None:
        """The page for a prompt (its form), a resource (read) or a template (its form)."""
        if item.kind == "prompt":
            self.app.push_screen(PromptScreen(self._view, item))
        elif item.kind == "resource":
            self.app.push_screen(self.reader.screen(item.key, item))
        else:
            self.app.push_screen(TemplateScreen(self.reader, item))

    def action_schema(self) -> None:
        if self.lists.shown != "tools":
            self.notify("s shows a tool's schema; Enter or c opens this item (t switches lists)", severity="warning")
            return
        tool = self._chosen(self.tools.selected, "tool")
        if tool is None:
            return
        self.app.push_screen(SchemaScreen(tool))

    def action_upstream_details(self) -> None:
        name = self._chosen(self.upstreams.selected, "upstream")
        if name is None:
            return
        self.show_upstream(name)

    def show_upstream(self, name: str) -> None:
        """The upstream in full (its last error whole, its stderr tail), as it is now."""
        snapshot = self.snapshot
        upstream = next((u for u in snapshot.upstreams if u.name == name), None) if snapshot else None
        if upstream is not None:
            self.app.push_screen(UpstreamDetailScreen(upstream, now=self._clock()))

    def action_reconnect(self) -> None:
        name = self._chosen(self.upstreams.selected, "upstream")
        if name is None:
            return
        self.reconnect(name)

    @work(group="reconnect", exit_on_error=False)
    async def reconnect(self, name: str) -> None:
        """Ask the gateway to reconnect `name` and toast the outcome; failures never reach the app."""
        try:
            async with asyncio.timeout(COMMAND_TIMEOUT):
                await self._view.reconnect(name)
        except TimeoutError:
            self.notify(f"{name}: no answer after {COMMAND_TIMEOUT:.0f}s", severity="warning", markup=False)
        except Exception as error:
            self.notify(f"{name}: reconnect failed: {error}", severity="error", markup=False)
        else:
            self.notify(f"{name}: reconnect requested", markup=False)

    def action_end_session(self) -> None:
        session = self._chosen(self.sessions.selected, "session")
        if session is None:
            return
        self.confirm_end_session(session)

    def confirm_end_session(self, session: SessionView) -> None:
        """Ask first; the client will have to initialize a new session."""
        who = f"{session.client_name} {session.client_version}".strip()
        question = ConfirmScreen(
            f"End session {formatting.short_id(session.session_id)}?",
            f"{who} (protocol {session.protocol_version}, {session.calls} calls) will get 404 on its next "
            "request and has to initialize a new session.",
            confirm_label="End session",
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.end_session(session.session_id)

        self.app.push_screen(question, answered)

    @work(group="end-session", exit_on_error=False)
    async def end_session(self, session_id: str) -> None:
        short = formatting.short_id(session_id)
        try:
            async with asyncio.timeout(COMMAND_TIMEOUT):
                ended = await self._view.end_session(session_id)
        except TimeoutError:
            self.notify(f"Session {short}: no answer after {COMMAND_TIMEOUT:.0f}s", severity="warning")
        except Exception as error:
            self.notify(f"Session {short}: could not end it: {error}", severity="error", markup=False)
        else:
            if ended:
                self.notify(f"Session {short} ended")
            else:
                self.notify(f"Session {short} had already ended", severity="warning")
