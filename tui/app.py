"""The dashboard App: follows the gateway through the read-model seam and owns the app-wide commands."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import tzinfo
from typing import Any

from textual import on, work
from textual.app import App
from textual.worker import Worker, WorkerState

from mcpstead.state import GatewayView, ReloadView, ToolView
from tui import formatting, terminal
from tui.commands import DashboardCommands, PaletteCommand, dashboard_commands
from tui.keymap import APP_BINDINGS, help_sections
from tui.messages import (
    LogLinesArrived,
    ReplayRequest,
    RunTool,
    ShowCall,
    SnapshotChanged,
    TrafficArrived,
    TrafficShown,
)
from tui.notifications import NotificationHub
from tui.runs import RunHistory
from tui.screens import (
    CallDetailScreen,
    DashboardScreen,
    HelpScreen,
    HistoryScreen,
    RawRequestScreen,
    ReloadErrorsScreen,
    ToolRunnerScreen,
)

POLL_SECONDS = 0.25
"""Longest wait for a change before the log ring is polled anyway."""

TICK_SECONDS = 1.0
"""With no change, a frame is still posted this often so uptime and "ago" columns tick."""

RETRY_SECONDS = 1.0
"""Pause after the view itself fails, so a broken view cannot spin the loop."""

BUSY_CALLS_PER_FRAME = 50
"""More new calls than this in one frame means the gateway is under load ..."""
BUSY_FRAME_INTERVAL = 1.0
"""... and the dashboard then refreshes once a second, leaving the loop to the gateway."""

RELOAD_TIMEOUT = 60.0
"""Longest wait for `view.reload()` before the dashboard reports it as failed."""

_UNSEEN = object()


class DashboardApp(App[None]):
    """The live dashboard.

    One worker waits on `view.wait_for_change()`, posts a coalescing `SnapshotChanged`, polls the log
    ring (at least every `poll_interval`), then sleeps `frame_interval`, so the UI costs the gateway at
    most a few snapshots a second however busy it is. `clock` and `tz` are injectable so screenshots are deterministic; `stop`, when
    given, is an event that makes the app exit when something outside (a signal) sets it.
    """

    CSS_PATH = "mcpstead.tcss"
    TITLE = "mcpstead"
    COMMANDS = App.COMMANDS | {DashboardCommands}
    BINDINGS = APP_BINDINGS

    def __init__(
        self,
        view: GatewayView,
        *,
        stop: asyncio.Event | None = None,
        clock: Callable[[], float] = time.time,
        frame_interval: float = 0.2,
        poll_interval: float = POLL_SECONDS,
        tz: tzinfo | None = None,
    ) -> None:
        super().__init__()
        self.poll_interval = poll_interval
        self.view = view
        self.clock = clock
        self.tz = tz
        self.frame_interval = frame_interval
        self.frames_applied = 0
        """How many SnapshotChanged messages were handled (the coalescing test counts them)."""
        self.reloading = False
        self._reload_seen: ReloadView | object | None = _UNSEEN
        """The last reload outcome already shown (or present at start), so each is reported once."""
        self._stop = stop
        self._logs_failing = False
        self._traffic_failing = False
        self._traffic_seq = 0
        """The newest traffic record read from the view."""
        self._frame_failing = False
        self._terminal_fd: int | None = None
        self.runs = RunHistory()
        """What the tool runner and the raw request screen sent in this process, for the history screen."""
        self.notifications = NotificationHub()
        """The dashboard session's notifications (resource updates), for every page that listens."""
        self.dashboard = DashboardScreen(view, clock=clock, tz=tz, notifications=self.notifications)

    def get_default_screen(self) -> DashboardScreen:
        return self.dashboard

    def on_mount(self) -> None:
        self._terminal_fd = terminal.terminal_fd() if not self.is_headless else None
        self.view.on_notification(self.notifications.deliver)
        self._follow_view()
        if self._stop is not None:
            self._exit_when_set(self._stop)

    # -- liveness ------------------------------------------------------------------------------------

    @work(group="liveness", exclusive=True)
    async def _follow_view(self) -> None:
        loop = asyncio.get_running_loop()
        seen = self.view.version
        with contextlib.suppress(Exception):  # a broken view is reported by the loop below
            self._reload_seen = self.view.snapshot().last_reload
        log_seq = 0
        last_frame = loop.time()
        last_call = 0
        failing = False

        while True:
            try:
                if terminal.hung_up(self._terminal_fd):
                    # Nobody can see or stop the dashboard any more: stop, and the gateway with it.
                    terminal.mute(self._driver)
                    self.exit(return_code=1)
                    return
                version = await self.view.wait_for_change(seen, timeout=self.poll_interval)
                log_seq = self._poll_logs(log_seq)
                self._poll_traffic()
                pause = self.frame_interval
                if version != seen or loop.time() - last_frame >= TICK_SECONDS:
                    snapshot = self.view.snapshot()
                    self.post_message(SnapshotChanged(snapshot))
                    seen, last_frame = version, loop.time()
                    newest = snapshot.calls[0].seq if snapshot.calls else last_call
                    if newest - last_call >= BUSY_CALLS_PER_FRAME:
                        pause = max(pause, BUSY_FRAME_INTERVAL)  # under load, fewer frames: the gateway comes first
                    last_call = newest
                failing = False
            except Exception as error:
                # The dashboard must never take the gateway down with it: report once, retry calmly.
                if not failing:
                    self.notify(f"Dashboard cannot read gateway state: {error}", severity="error", markup=False)
                failing = True
                await asyncio.sleep(RETRY_SECONDS)
                continue
            await asyncio.sleep(pause)

    def _poll_logs(self, after: int) -> int:
        """Post the log lines newer than `after`; return the newest seq seen. Failures only cost the logs.
        Nothing is taken before the dashboard is mounted (it could not show it, and it would be lost)."""
        if not self._can_apply():
            return after
        try:
            lines = self.view.log_lines(after)
        except Exception as error:
            if not self._logs_failing:
                self.notify(f"Gateway log lines unavailable: {error}", severity="warning", markup=False)
            self._logs_failing = True
            return after
        self._logs_failing = False
        if not lines:
            return after
        self.post_message(LogLinesArrived(lines))
        return lines[-1].seq

    def _poll_traffic(self) -> None:
        """Post the traffic records newer than the last one read. Read only while the Traffic tab can show
        them: the core's ring keeps the newest (dashboard.capture), so a hidden tab costs a busy gateway
        nothing, and once shown it reads what the ring still has (the tab says how many it missed)."""
        if not self._can_apply() or not self.dashboard.traffic.display_now():
            return
        try:
            records = self.view.traffic_since(self._traffic_seq)
        except Exception as error:
            if not self._traffic_failing:
                self.notify(f"Gateway traffic unavailable: {error}", severity="warning", markup=False)
            self._traffic_failing = True
            return
        self._traffic_failing = False
        if records:
            self._traffic_seq = records[-1].seq
            self.post_message(TrafficArrived(records))

    @on(TrafficShown)
    def _traffic_shown(self) -> None:
        self._poll_traffic()

    @work(group="stop")
    async def _exit_when_set(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self.exit()

    @on(SnapshotChanged)
    def _snapshot_changed(self, message: SnapshotChanged) -> None:
        self.frames_applied += 1
        if not self._can_apply():
            return
        try:
            with self.batch_update():
                self.dashboard.apply(message.snapshot)
            self._report_outside_reload(message.snapshot.last_reload)
        except Exception as error:
            # A rendering bug must not end the app: in `mcpstead dev` that would stop the gateway too.
            self._report_frame_error(error)
        else:
            self._frame_failing = False

    def _report_frame_error(self, error: Exception) -> None:
        if not self._frame_failing:
            self.notify(f"Dashboard could not show a frame: {error!r}", severity="error", markup=False)
        self._frame_failing = True

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """A page's worker that failed is said, never the end of the app (which would stop the gateway):
        the workers of pages run with exit_on_error=False."""
        if event.state == WorkerState.ERROR:
            self.notify(f"{event.worker.name or 'A dashboard task'} failed: {event.worker.error!r}", severity="error")

    @on(TrafficArrived)
    def _traffic_arrived(self, message: TrafficArrived) -> None:
        if not self._can_apply():
            return
        try:
            self.dashboard.traffic.add(message.records)
        except Exception as error:
            self._report_frame_error(error)

    @on(LogLinesArrived)
    def _log_lines_arrived(self, message: LogLinesArrived) -> None:
        if not self._can_apply():
            return
        try:
            self.dashboard.logs.add_lines(message.lines)
        except Exception as error:
            self._report_frame_error(error)

    def _can_apply(self) -> bool:
        """False before the dashboard is mounted (its on_mount pulls a snapshot itself) and once the app
        is shutting down (widgets are being removed, so a late frame must not touch them)."""
        return self.is_running and self.dashboard.is_mounted

    # -- pages and dialogs ---------------------------------------------------------------------------

    @on(RunTool)
    def _run_tool(self, message: RunTool) -> None:
        self.open_runner(message.tool, message.arguments)

    def open_runner(
        self, qualified_name: str, arguments: Mapping[str, Any] | None = None, extra: Mapping[str, Any] | None = None
    ) -> None:
        """The tool runner for a tool (raw JSON only when the gateway does not list it right now)."""
        tool = self.find_tool(qualified_name)
        if tool is None:
            server, _, name = qualified_name.partition("__")
            tool = ToolView(qualified_name, server, name, "Not listed by the gateway right now.", {})
            self.notify(f"{qualified_name} is not listed right now: raw JSON only", severity="warning", markup=False)
        self.push_screen(ToolRunnerScreen(self.view, tool, arguments, extra=extra, clock=self.clock, history=self.runs))

    @on(ReplayRequest)
    def _replay(self, message: ReplayRequest) -> None:
        """tools/call in the tool runner with its arguments, any other method in the raw request screen."""
        params = dict(message.params)
        name, arguments = params.pop("name", None), params.pop("arguments", {})
        if message.method == "tools/call" and isinstance(name, str) and isinstance(arguments, Mapping):
            self.open_runner(name, arguments, params)
        else:
            self.open_raw_request(message.method, message.params)

    def open_raw_request(self, method: str = "", params: Mapping[str, Any] | None = None) -> None:
        self.push_screen(RawRequestScreen(self.view, method, params, clock=self.clock, history=self.runs))

    def action_raw_request(self) -> None:
        """Any JSON-RPC method, typed by hand."""
        self.open_raw_request()

    def action_history(self) -> None:
        """The runs made from the dashboard so far."""
        if not isinstance(self.screen, HistoryScreen):
            self.push_screen(HistoryScreen(self.runs, tz=self.tz))

    @on(ShowCall)
    def _show_call(self, message: ShowCall) -> None:
        self.push_screen(CallDetailScreen(message.call, tz=self.tz))

    def find_tool(self, qualified_name: str) -> ToolView | None:
        """The tool of that name in the snapshot on screen."""
        snapshot = self.dashboard.snapshot or self.view.snapshot()
        for upstream in snapshot.upstreams:
            for tool in upstream.tools:
                if tool.qualified_name == qualified_name:
                    return tool
        return None

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(help_sections()))

    # -- reload --------------------------------------------------------------------------------------

    def action_reload(self) -> None:
        if self.reloading:
            self.notify("A reload is already running", severity="warning")
            return
        if isinstance(self.screen, ReloadErrorsScreen):
            self.screen.dismiss(None)  # its "press ctrl+r to try again" leads here; the new outcome replaces it
        self._set_reloading(True)
        self._reload()

    @work(group="reload", exclusive=True)
    async def _reload(self) -> None:
        """Reload through the view; a bad config or any exception ends in a dialog, never a crash."""
        try:
            async with asyncio.timeout(RELOAD_TIMEOUT):
                outcome = await self.view.reload()
        except TimeoutError:
            self.push_screen(
                ReloadErrorsScreen([f"the gateway did not finish the reload within {RELOAD_TIMEOUT:.0f} s"])
            )
        except Exception as error:
            self.push_screen(ReloadErrorsScreen([f"{type(error).__name__}: {error}"], title="Reload failed"))
        else:
            self._show_reload(outcome)
        finally:
            self._set_reloading(False)

    def _set_reloading(self, reloading: bool) -> None:
        self.reloading = reloading
        self.dashboard.header.set_reloading(reloading)

    def _report_outside_reload(self, outcome: ReloadView | None) -> None:
        """Toast a reload the dashboard did not ask for (the config watcher, SIGHUP, /-/reload)."""
        seen, self._reload_seen = self._reload_seen, outcome
        if seen is _UNSEEN or outcome is None or outcome == seen or self.reloading:
            return
        if outcome.ok:
            changes = formatting.reload_changes(outcome.added, outcome.removed, outcome.restarted, outcome.updated)
            self.notify(f"Config reloaded: {changes}", title="Config file changed", markup=False)
            return
        more = f" (+{len(outcome.errors) - 1} more)" if len(outcome.errors) > 1 else ""
        first = outcome.errors[0] if outcome.errors else "no reason given"
        self.notify(
            f"{first}{more}. The running config is unchanged; ctrl+r shows every error.",
            title="Config reload failed",
            severity="error",
            timeout=10,
            markup=False,
        )

    def _show_reload(self, outcome: ReloadView) -> None:
        self._reload_seen = outcome
        if not outcome.ok:
            self.push_screen(ReloadErrorsScreen(outcome.errors))
            return
        changes = formatting.reload_changes(outcome.added, outcome.removed, outcome.restarted, outcome.updated)
        self.notify(f"Config reloaded: {changes}", title="Reload", markup=False)
        if outcome.ignored:
            self.notify(
                f"Needs a restart to take effect: {', '.join(outcome.ignored)}",
                title="Reload",
                severity="warning",
                markup=False,
            )

    # -- command palette ---------------------------------------------------------------------------

    def palette_commands(self) -> Iterator[PaletteCommand]:
        """Every dashboard action, plus one entry per upstream, tool and session on screen."""
        return dashboard_commands(self)
