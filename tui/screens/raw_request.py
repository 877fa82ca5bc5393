"""Any JSON-RPC request, typed by hand, sent through the gateway as the dashboard's client; the whole
answer shown as it came back."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from rich.console import Group
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.suggester import SuggestFromList
from textual.widgets import Button, Footer, Input, Label, Static, TextArea

from mcpstead.state import GatewayView
from tui import formatting
from tui.commands import PaletteCommand
from tui.forms import FieldError, parse_arguments, to_json
from tui.rendering import json_syntax, section
from tui.runs import RunHistory, RunOutcome
from tui.screens.request_screen import RequestScreen
from tui.widgets.document import Document

TEMPLATES: dict[str, dict[str, Any]] = {
    "ping": {},
    "tools/list": {},
    "tools/call": {"name": "", "arguments": {}},
    "prompts/list": {},
    "prompts/get": {"name": "", "arguments": {}},
    "resources/list": {},
    "resources/templates/list": {},
    "resources/read": {"uri": ""},
    "resources/subscribe": {"uri": ""},
    "resources/unsubscribe": {"uri": ""},
    "completion/complete": {"ref": {"type": "ref/prompt", "name": ""}, "argument": {"name": "", "value": ""}},
    "logging/setLevel": {"level": "info"},
    "tasks/list": {},
    "tasks/get": {"taskId": ""},
    "tasks/result": {"taskId": ""},
    "tasks/cancel": {"taskId": ""},
}
"""The gateway's methods, each with the params it needs, filled in when the method is chosen."""

PLACEHOLDER = (
    "The whole JSON-RPC answer shows here. A progress token is added to params._meta unless you give one; "
    "if the server asks you something during the request, a dialog opens."
)


class RawRequestScreen(RequestScreen):
    """A method (completed from the gateway's methods) and its params as one JSON object; ctrl+s sends."""

    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("q", "close", "Back", show=False),  # never quit the gateway from a form by accident
        Binding("ctrl+s", "send_request", "Send", priority=True),
        Binding("ctrl+y", "copy_answer", "Copy answer", priority=True),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    AUTO_FOCUS = None

    def __init__(
        self,
        view: GatewayView,
        method: str = "",
        params: Mapping[str, Any] | None = None,
        *,
        clock: Callable[[], float] = time.time,
        history: RunHistory | None = None,
    ) -> None:
        super().__init__(view, clock=clock, history=history)
        self.method = Input(
            method,
            placeholder="method, e.g. tools/list",
            suggester=SuggestFromList(list(TEMPLATES), case_sensitive=False),
            compact=True,
            id="raw-method",
        )
        self.params = TextArea(to_json(dict(params or {})), soft_wrap=True, tab_behavior="focus", id="raw-params")
        self.params_error = Static("", id="raw-params-error", classes="field-error")
        self.send_button = Button("Send  ctrl+s", variant="primary", id="raw-send", compact=True)
        self.answer_status = Static(Text("Nothing sent yet.", style="dim"), id="raw-answer-status")
        self.answer = Document(Text(PLACEHOLDER, style="dim"), id="raw-answer")
        self._pristine = params is None
        """The params are still the template of the method shown (so choosing a method may replace them)."""

    def compose(self) -> ComposeResult:
        yield Static(Text("JSON-RPC request", style="bold"), classes="page-title")
        methods = Text("→ completes a method: " + ", ".join(TEMPLATES), style="dim")
        yield Static(methods, id="raw-methods", classes="page-meta")
        with Horizontal(id="raw-request-body"):
            with Vertical(id="raw-request-input"):
                yield Label(Text("Method", style="bold"))
                yield self.method
                yield Label(Text("Params  a JSON object", style="bold"))
                yield self.params
                yield self.params_error
                with Horizontal(id="raw-actions"):
                    yield self.send_button
            with Vertical(id="raw-request-output"):
                yield self.answer_status
                yield self.progress
                yield self.answer
        yield Footer()

    def on_mount(self) -> None:
        if self.app.animation_level == "none":
            self.params.cursor_blink = False
            self.method.cursor_blink = False
        (self.params if self.method.value else self.method).focus()

    @on(Input.Changed, "#raw-method")
    def _method_changed(self, event: Input.Changed) -> None:
        template = TEMPLATES.get(event.value.strip())
        if template is not None and self._pristine:
            with self.params.prevent(TextArea.Changed):
                self.params.text = to_json(template)

    @on(TextArea.Changed, "#raw-params")
    def _params_edited(self) -> None:
        self._pristine = False
        self.params_error.display = False

    @on(Input.Submitted, "#raw-method")
    def _method_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.params.focus()

    @on(Button.Pressed, "#raw-send")
    def _send_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_send_request()

    def action_send_request(self) -> None:
        """Check the method and the JSON, then send exactly that (plus the progress token)."""
        if self.busy:
            self.notify("A request is already running", severity="warning")
            return
        method = self.method.value.strip()
        if not method:
            self._params_problem("give a method first")
            self.method.focus()
            return
        try:
            params = parse_arguments(self.params.text)
        except FieldError as error:
            self._params_problem(str(error).replace("arguments must be", "params must be"))
            return
        self.params_error.display = False
        self.send(method, params, method)

    def _params_problem(self, message: str) -> None:
        self.params_error.update(Text(f"↳ {message}", style="red"))
        self.params_error.display = True

    def started(self, params: dict[str, Any]) -> None:
        self.send_button.disabled = True
        self.answer_status.display = False  # the progress line says it is running

    def finished(self, outcome: RunOutcome) -> None:
        self.send_button.disabled = False
        status = Text.assemble(formatting.run_outcome(outcome.kind), (f"   {outcome.duration_ms:.1f} ms", "dim"))
        self.answer_status.update(status)
        self.answer_status.display = True
        self.answer.update(answer_renderable(outcome, dark=self.app.current_theme.dark))

    def palette_commands(self) -> Iterator[PaletteCommand]:
        yield from super().palette_commands()
        yield PaletteCommand("Send the request", "The method with the params as typed", self.action_send_request)
        yield PaletteCommand("Copy the answer", "The whole JSON-RPC answer, to the clipboard", self.action_copy_answer)

    def action_copy_answer(self) -> None:
        if self.outcome is None or self.outcome.answer is None:
            self.notify("No answer to copy yet", severity="warning")
            return
        self.app.copy_to_clipboard(to_json(self.outcome.answer))
        self.notify("Answer copied to the clipboard")

    def action_close(self) -> None:
        self.dismiss(None)


def answer_renderable(outcome: RunOutcome, *, dark: bool = True) -> Group:
    """The whole JSON-RPC answer; without one, why (a cancellation, a timeout)."""
    if outcome.answer is None:
        style = "yellow" if outcome.kind == "cancelled" else "red"
        return Group(section("No answer"), Text(outcome.failure or "no answer", style=style))
    title = "Error answer" if outcome.error is not None else "Answer"
    return Group(section(title), json_syntax(outcome.answer, dark=dark))
