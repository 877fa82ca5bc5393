"""What the tool runner and the raw JSON-RPC screen share: one dashboard request at a time, sent through
the gateway with a progress token, shown while it runs, cancellable, answered by the human when the server
asks, and kept in the run history."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

from textual import on, work
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Button

from mcpstead.state import GatewayView, RunningRequest
from tui.commands import PaletteCommand
from tui.runs import Ending, RunHistory, RunOutcome, wait_for_answer, with_progress_token
from tui.screens.human import HumanClient
from tui.widgets.request_progress import RequestProgress

CALL_TIMEOUT = 300.0
"""Longest a request waits for the gateway's answer (the gateway's own upstream timeouts come first)."""
RUNNING_TICK_SECONDS = 0.1
"""How often the elapsed time of a running request is redrawn."""


class RequestScreen(Screen[None]):
    """A page that sends requests: `send()` starts one, `started()` and `finished()` are the page's hooks.

    Leaving the page while a request runs cancels it (notifications/cancelled), as a client that goes away.
    """

    BINDINGS = [Binding("ctrl+x", "cancel_request", "Cancel call", priority=True)]

    def __init__(
        self, view: GatewayView, *, clock: Callable[[], float] = time.time, history: RunHistory | None = None
    ) -> None:
        super().__init__(classes="page")
        self.view = view
        self.clock = clock
        self.history = history if history is not None else RunHistory()
        self.progress = RequestProgress(id="request-progress")
        self.running: RunningRequest | None = None
        self.human: HumanClient | None = None
        """Who answers the server's questions for the request running now."""
        self.outcome: RunOutcome | None = None
        """The last request's outcome, once one has finished."""
        self.busy = False
        self._cancel_sent = False

    def send(self, method: str, params: dict[str, Any], asker: str) -> None:
        """Start `method` (the page said it is valid); `asker` names it in the dialogs the server may open."""
        self.busy = True  # at once, so a second ctrl+s before the worker starts is refused
        self._run(method, params, asker)

    def started(self, params: dict[str, Any]) -> None:
        """The request is about to be sent with `params`."""

    def finished(self, outcome: RunOutcome) -> None:
        """The request ended (answered, failed, timed out or cancelled)."""

    @work(group="request", exclusive=True, exit_on_error=False)
    async def _run(self, method: str, params: dict[str, Any], asker: str) -> None:
        sent, _ = with_progress_token(params)
        self._cancel_sent = False
        human = self.human = HumanClient(self.app, asker, self._notified)
        started = self.clock()
        self.progress.start()
        ticker = self.set_interval(RUNNING_TICK_SECONDS, lambda: self.progress.show_elapsed(self.clock() - started))
        self.started(sent)
        ending = Ending(None, "the page closed before the answer")
        try:
            self.running = self.view.start_request(method, sent, human)
            self.refresh_bindings()
            ending = await wait_for_answer(self.running, CALL_TIMEOUT)
        except asyncio.CancelledError:
            if self.running is not None:
                self._cancel_sent = True
                await self.running.cancel("the dashboard closed the page that sent it")
            raise
        except Exception as error:  # the page must survive anything the gateway raises
            ending = Ending(None, f"the request failed: {error}")
        finally:
            ticker.stop()
            human.close()
            self.running = None
            self.busy = False
            self.progress.stop()
            self.refresh_bindings()
            self._record(method, sent, started, ending)

    def _record(self, method: str, sent: dict[str, Any], started: float, ending: Ending) -> None:
        outcome = RunOutcome(
            seq=self.history.next_seq(),
            method=method,
            params=sent,
            started_at=started,
            duration_ms=(self.clock() - started) * 1000,
            answer=ending.answer,
            failure=ending.failure,
            cancelled=self._cancel_sent,
        )
        self.history.add(outcome)
        self.outcome = outcome
        if self.is_attached:
            self.finished(outcome)

    def _notified(self, message: dict[str, Any]) -> None:
        """From the core's task: drawn in the page's own turn."""
        self.call_later(self.progress.show_notification, message)

    def palette_commands(self) -> Iterator[PaletteCommand]:
        """The palette's entries for this page (the app adds its own after them)."""
        if self.running is not None:
            yield PaletteCommand(
                "Cancel the running request", "Send notifications/cancelled", self.action_cancel_request
            )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_request":
            return self.running is not None  # ctrl+x stays the text area's cut key otherwise
        return True

    @on(Button.Pressed, "#cancel-request")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel_request()

    def action_cancel_request(self) -> None:
        """Send notifications/cancelled; the answer (-32800) then ends the request as cancelled."""
        running = self.running
        if running is None or self._cancel_sent:
            return
        self._cancel_sent = True
        self.progress.cancelling()
        self.run_worker(running.cancel("cancelled from the dashboard"), group="cancel-request", exit_on_error=False)
