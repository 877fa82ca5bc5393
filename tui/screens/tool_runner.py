"""The tool runner: a form generated from a tool's inputSchema, sent through the gateway like any call."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Footer, Input, Static, TextArea

from mcpstead.state import CallView, GatewayView, ToolRunResult, ToolView
from tui import formatting
from tui.forms import FieldError, parse_arguments, plan_form, to_json
from tui.rendering import result_renderable, timing
from tui.widgets.argument_form import ArgumentForm
from tui.widgets.document import Document

CALL_TIMEOUT = 300.0
"""Longest the runner waits for the gateway's answer (the gateway's own upstream timeouts come first)."""
RUNNING_TICK_SECONDS = 0.1
"""How often the elapsed time of a running call is redrawn."""


class ToolRunnerScreen(Screen[None]):
    """Fill in arguments, ctrl+s (or Enter in a field, or the Call button) sends them.

    Nothing is sent while a field is invalid; the errors show under the fields. ctrl+t switches to one
    raw JSON object for everything the form cannot express (extra keys, deliberately invalid values).
    """

    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("q", "close", "Back", show=False),  # never quit the gateway from a form by accident
        Binding("ctrl+s", "call", "Call", priority=True),
        Binding("ctrl+t", "toggle_raw", "Raw JSON", priority=True),
        Binding("ctrl+o", "toggle_raw_result", "Raw result", priority=True),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    AUTO_FOCUS = None  # on_mount picks the first field, or the raw JSON editor

    def __init__(self, view: GatewayView, tool: ToolView, arguments: Mapping[str, Any] | None = None) -> None:
        super().__init__(classes="page")
        self.view = view
        self.tool = tool
        self.plan = plan_form(tool.definition.get("inputSchema"))
        self.form = ArgumentForm(self.plan.fields, id="form")
        self.raw_text = TextArea("{}", soft_wrap=True, tab_behavior="focus", id="raw-args")
        self.raw_error = Static("", id="raw-error", classes="field-error")
        self.raw_toggle = Checkbox("Raw JSON", value=not self.plan.form_ok, compact=True, id="raw-toggle")
        self.call_button = Button("Call  ctrl+s", variant="primary", id="call", compact=True)
        self.status = Static("", id="runner-status")
        self.result_status = Static(Text("No call yet.", style="dim"), id="result-status")
        self.result = Document(
            Text("The result shows here. Enter in a field, ctrl+s or the Call button sends the call.", style="dim"),
            id="result",
        )
        self.outcome: ToolRunResult | None = None
        """The last answer, once a call has finished."""
        self.recorded: CallView | None = None
        """The gateway's record of the last call, when it could be found."""
        self.busy = False
        self.raw_result = False
        self._initial = arguments

    @property
    def raw(self) -> bool:
        """Whether the arguments are edited as one raw JSON object."""
        return self.raw_toggle.value

    def compose(self) -> ComposeResult:
        title = Text.assemble(("Call  ", "dim"), formatting.qualified(self.tool.qualified_name, 80))
        yield Static(title, id="runner-title", classes="page-title")
        yield Static(Text(formatting.one_line(self.tool.description, 300), style="dim"), classes="page-meta")
        with Horizontal(id="runner-body"):
            with Vertical(id="runner-input"):
                yield self.form
                with Vertical(id="raw-pane"):
                    yield self.raw_text
                    yield self.raw_error
                with Horizontal(id="runner-actions"):
                    yield self.call_button
                    yield self.raw_toggle
                yield self.status
            with Vertical(id="runner-output"):
                yield self.result_status
                yield self.result
        yield Footer()

    def on_mount(self) -> None:
        if self.app.animation_level == "none":
            self.raw_text.cursor_blink = False
        self.status.display = False
        if not self.plan.form_ok:
            self.raw_toggle.disabled = True
        if self._initial is not None:
            self._prefill(self._initial)
        self._show_mode()
        if not self.raw and not self.plan.fields:
            self.call_button.focus()

    def _prefill(self, arguments: Mapping[str, Any]) -> None:
        """Start from earlier arguments: in the form when they fit it, else as raw JSON."""
        self.raw_text.text = to_json(dict(arguments))
        if self.plan.form_ok and not self.form.fill(arguments):
            return
        self._set_raw(True)

    # -- raw JSON mode -------------------------------------------------------------------------------

    def action_toggle_raw(self) -> None:
        if not self.raw_toggle.disabled:
            self.raw_toggle.value = not self.raw_toggle.value  # handled in _raw_toggled

    @on(Checkbox.Changed, "#raw-toggle")
    def _raw_toggled(self, event: Checkbox.Changed) -> None:
        event.stop()
        if event.value:
            arguments, errors = self.form.collect()
            self.raw_text.text = to_json(arguments)
            skipped = f" ({len(errors)} invalid field{'s' if len(errors) != 1 else ''} left out)" if errors else ""
            self._say(f"Editing the arguments as raw JSON{skipped}.", "dim")
            self.form.show_errors({})
        elif not self._back_to_form():
            self._set_raw(True)
            return
        self._show_mode()

    def _back_to_form(self) -> bool:
        """Move the raw JSON into the form; False (and an error shown) when it cannot hold it."""
        try:
            arguments = parse_arguments(self.raw_text.text)
        except FieldError as error:
            self._raw_error(str(error))
            return False
        errors = self.form.fill(arguments)
        if errors:
            problems = "; ".join(f"{name}: {message}" for name, message in errors.items())
            self._raw_error(f"the form cannot show these, stay in raw JSON: {problems}")
            return False
        self._raw_error(None)
        self._say("")
        return True

    def _set_raw(self, raw: bool) -> None:
        with self.raw_toggle.prevent(Checkbox.Changed):
            self.raw_toggle.value = raw
        self._show_mode()

    def _show_mode(self) -> None:
        self.form.display = not self.raw
        self.query_one("#raw-pane").display = self.raw
        if self.raw:
            self.raw_text.focus()
        else:
            self.form.focus_first()

    def _raw_error(self, message: str | None) -> None:
        self.raw_error.update(Text(f"↳ {message}", style="red") if message else "")
        self.raw_error.display = message is not None

    # -- calling -------------------------------------------------------------------------------------

    @on(Button.Pressed, "#call")
    @on(Input.Submitted)
    def _submitted(self, event: Button.Pressed | Input.Submitted) -> None:
        event.stop()
        self.action_call()

    def action_call(self) -> None:
        """Validate, then send; an invalid field or bad JSON stops here with the reason shown."""
        if self.busy:
            self._say("A call is already running.", "yellow")
            return
        if self.raw:
            try:
                arguments = parse_arguments(self.raw_text.text)
            except FieldError as error:
                self._raw_error(str(error))
                self._say("Not sent: fix the JSON first.", "red")
                return
            self._raw_error(None)
        else:
            arguments, errors = self.form.collect()
            self.form.show_errors(errors)
            if errors:
                count = len(errors)
                self._say(
                    f"Not sent: {count} field{'s' if count != 1 else ''} need{'s' if count == 1 else ''} attention.",
                    "red",
                )
                return
        self._run(arguments)

    @work(group="tool-call", exclusive=True)
    async def _run(self, arguments: dict[str, Any]) -> None:
        self.busy = True
        self.call_button.disabled = True
        self._say(f"Calling {self.tool.qualified_name}…", "yellow")
        started = time.perf_counter()
        self._show_running(started)
        ticker = self.set_interval(RUNNING_TICK_SECONDS, lambda: self._show_running(started))
        before = 0
        try:
            before = _newest_seq(self.view)
            async with asyncio.timeout(CALL_TIMEOUT):
                outcome = await self.view.call_tool(self.tool.qualified_name, arguments)
        except TimeoutError:
            outcome = ToolRunResult(result=None, error=f"no answer within {CALL_TIMEOUT:.0f} s")
        except Exception as error:  # the runner must survive anything the gateway raises
            outcome = ToolRunResult(result=None, error=f"the call failed: {error}")
        finally:
            ticker.stop()
            self.busy = False
            self.call_button.disabled = False
        elapsed_ms = (time.perf_counter() - started) * 1000
        self.outcome = outcome
        try:
            self.recorded = _recorded_call(self.view, self.tool.qualified_name, before)
        except Exception:
            self.recorded = None  # only the timing split is lost
        self._show_outcome(outcome, elapsed_ms)

    def _show_running(self, started: float) -> None:
        """While the call runs: how long it has been running (the last result stays below until the new one)."""
        elapsed = time.perf_counter() - started
        self.result_status.update(Text(f"Running… {elapsed:.1f} s", style="yellow"))

    def _show_outcome(self, outcome: ToolRunResult, elapsed_ms: float) -> None:
        tool_error = isinstance(outcome.result, dict) and outcome.result.get("isError") is True
        label = formatting.outcome("error" if outcome.error else "tool_error" if tool_error else "ok")
        status = Text.assemble(label, "   ")
        recorded = self.recorded
        if recorded is not None:
            status.append_text(timing(recorded.total_ms, recorded.upstream_ms, bar=False))
            status.append(f"   recorded as call #{recorded.seq}", style="dim")
        else:
            status.append(f"round trip {elapsed_ms:.1f} ms", style="dim")
        self.result_status.update(status)
        self._render_result()
        self._say("")

    def _render_result(self) -> None:
        if self.outcome is not None:
            dark = self.app.current_theme.dark
            self.result.update(
                result_renderable(self.outcome.result, self.outcome.error, dark=dark, raw=self.raw_result)
            )

    def action_toggle_raw_result(self) -> None:
        self.raw_result = not self.raw_result
        self._render_result()

    def action_close(self) -> None:
        self.dismiss(None)

    def _say(self, message: str, style: str = "") -> None:
        self.status.update(Text(message, style=style))
        self.status.display = bool(message)


def _newest_seq(view: GatewayView) -> int:
    calls = view.snapshot().calls
    return max((call.seq for call in calls), default=0)


def _recorded_call(view: GatewayView, tool: str, after_seq: int) -> CallView | None:
    """The gateway's record of the runner's call: the newest dashboard call of `tool` after `after_seq`."""
    for call in view.snapshot().calls:
        if call.seq <= after_seq:
            return None
        if call.source == "dashboard" and call.tool == tool:
            return call
    return None
