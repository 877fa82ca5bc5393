"""The tool runner: a form generated from a tool's inputSchema, sent through the gateway like any call."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Footer, Input, Static, TextArea

from mcpstead.state import CallView, GatewayView, ToolView
from tui import blobs, formatting
from tui.commands import PaletteCommand
from tui.contents import ResourceContent, parse_content
from tui.forms import FieldError, parse_arguments, plan_form, to_json
from tui.rendering import json_syntax, result_renderable, section, timing
from tui.runs import RunHistory, RunOutcome
from tui.screens.request_screen import RequestScreen
from tui.screens.save_blob import SaveBlobScreen
from tui.widgets.argument_form import ArgumentForm
from tui.widgets.result_view import NO_TREE, ResultView

PLACEHOLDER = (
    "The result shows here. Enter in a field, ctrl+s or the Call button sends the call.\n"
    "If the server asks you something during the call (elicitation, sampling) a dialog opens; "
    "roots/list is answered from dashboard.roots in the config (default: the working directory)."
)


class ToolRunnerScreen(RequestScreen):
    """Fill in arguments, ctrl+s (or Enter in a field, or the Call button) sends them.

    Nothing is sent while a field is invalid; the errors show under the fields. ctrl+t switches to one
    raw JSON object for everything the form cannot express (extra keys, deliberately invalid values).
    `extra` holds params of a replayed call other than name and arguments (its `_meta`), sent again as
    they were.
    """

    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("q", "close", "Back", show=False),  # never quit the gateway from a form by accident
        Binding("ctrl+s", "call", "Call", priority=True),
        Binding("ctrl+t", "toggle_raw", "Raw JSON", priority=True),
        Binding("ctrl+o", "toggle_raw_result", "Raw result", priority=True),
        Binding("ctrl+w", "save", "Save data", priority=True),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    AUTO_FOCUS = None  # on_mount picks the first field, or the raw JSON editor

    def __init__(
        self,
        view: GatewayView,
        tool: ToolView,
        arguments: Mapping[str, Any] | None = None,
        *,
        extra: Mapping[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
        history: RunHistory | None = None,
        directory: Path | None = None,
    ) -> None:
        super().__init__(view, clock=clock, history=history)
        self.tool = tool
        self.extra = dict(extra or {})
        self.directory = directory
        """Where saved data goes by default (None: the working directory when saving)."""
        self.plan = plan_form(tool.definition.get("inputSchema"))
        self.form = ArgumentForm(self.plan.fields, id="form")
        self.raw_text = TextArea("{}", soft_wrap=True, tab_behavior="focus", id="raw-args")
        self.raw_error = Static("", id="raw-error", classes="field-error")
        self.raw_toggle = Checkbox("Raw JSON", value=not self.plan.form_ok, compact=True, id="raw-toggle")
        self.call_button = Button("Call  ctrl+s", variant="primary", id="call", compact=True)
        self.status = Static("", id="runner-status")
        self.result_status = Static(Text("No call yet.", style="dim"), id="result-status")
        self.result = ResultView(Text(PLACEHOLDER, style="dim"), id="result")
        self.recorded: CallView | None = None
        """The gateway's record of the last call, when it could be found."""
        self.raw_result = False
        self.savable: list[ResourceContent] = []
        """The last result's images, audio and blobs, decoded once for the save dialog."""
        self._seq_before = 0
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
                yield self.progress
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
        name = self.tool.qualified_name
        self.send("tools/call", {**self.extra, "name": name, "arguments": arguments}, name)

    def started(self, params: dict[str, Any]) -> None:
        self.call_button.disabled = True
        self._say(f"Calling {self.tool.qualified_name}…", "yellow")
        self.result_status.display = False  # the progress line says it is running
        try:
            self._seq_before = _newest_seq(self.view)
        except Exception:
            self._seq_before = 0  # only the timing split is lost

    def finished(self, outcome: RunOutcome) -> None:
        self.call_button.disabled = False
        try:
            self.recorded = _recorded_call(self.view, self.tool.qualified_name, self._seq_before)
        except Exception:
            self.recorded = None  # only the timing split is lost
        status = Text.assemble(formatting.run_outcome(outcome.kind), "   ")
        recorded = self.recorded
        if recorded is not None:
            status.append_text(timing(recorded.total_ms, recorded.upstream_ms, bar=False))
            status.append(f"   recorded as call #{recorded.seq}", style="dim")
        else:
            status.append(f"round trip {outcome.duration_ms:.1f} ms", style="dim")
        self.result_status.update(status)
        self.result_status.display = True
        self.savable = savable_contents(outcome.result)
        self._render_result()
        self._say("")
        self.refresh_bindings()

    def _render_result(self) -> None:
        outcome = self.outcome
        if outcome is None:
            return
        dark = self.app.current_theme.dark
        if self.raw_result:
            body: RenderableType = Group(section("Answer (raw JSON-RPC)"), json_syntax(outcome.answer, dark=dark))
            self.result.show(body)
            return
        if outcome.kind == "cancelled":
            body = Group(section("Cancelled"), Text(cancelled_text(outcome), style="yellow"))
            self.result.show(body)
            return
        result = outcome.result
        structured = isinstance(result, Mapping) and "structuredContent" in result
        body = result_renderable(result, outcome.error_text, dark=dark, structured=False)
        self.result.show(body, result["structuredContent"] if structured else NO_TREE)

    def action_toggle_raw_result(self) -> None:
        self.raw_result = not self.raw_result
        self._render_result()

    # -- the palette, and saving binary content ----------------------------------------------------

    def palette_commands(self) -> Iterator[PaletteCommand]:
        yield from super().palette_commands()
        yield PaletteCommand(f"Call {self.tool.qualified_name}", "Send the arguments in the form", self.action_call)
        yield PaletteCommand("Raw JSON arguments", "Edit the arguments as one JSON object", self.action_toggle_raw)
        yield PaletteCommand("Raw result", "The whole JSON-RPC answer as received", self.action_toggle_raw_result)
        if self.savable:
            yield PaletteCommand("Save data to a file", "An image, audio or blob of the result", self.action_save)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "save":
            return bool(self.savable)
        return super().check_action(action, parameters)

    def action_save(self) -> None:
        """Write an image, audio or blob of the result to a file (the dialog asks where)."""
        if self.savable:
            directory = self.directory or Path.cwd()
            self.app.push_screen(SaveBlobScreen(self.savable, directory), callback=self._saved)

    def _saved(self, path: Path | None) -> None:
        if path is not None:
            self.notify(f"Saved to {path}", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)

    def _say(self, message: str, style: str = "") -> None:
        self.status.update(Text(message, style=style))
        self.status.display = bool(message)


def savable_contents(result: Any) -> list[ResourceContent]:
    """The images, audio and embedded blobs of a tools/call result, decoded, as the save dialog takes them."""
    content = result.get("content") if isinstance(result, Mapping) else None
    found: list[ResourceContent] = []
    for index, block in enumerate(content if isinstance(content, list) else [], start=1):
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if kind in ("image", "audio") and isinstance(block.get("data"), str):
            mime = block.get("mimeType") if isinstance(block.get("mimeType"), str) else None
            try:
                found.append(ResourceContent(f"{kind}-{index}", mime, data=blobs.decode(block["data"])))
            except blobs.BlobError:
                continue  # shown by size; there is nothing to write
        elif kind == "resource" and isinstance(block.get("resource"), Mapping):
            embedded = parse_content(block["resource"])
            if embedded.data is not None:
                found.append(embedded)
    return found


def cancelled_text(outcome: RunOutcome) -> str:
    """What a cancelled run says: that the cancellation was sent, and the gateway's answer if one came."""
    error = outcome.error
    said = " before any answer"
    if error is not None:
        said = f": the gateway answered {error.get('message')} (code {error.get('code')})"
    return f"Cancelled (notifications/cancelled sent){said}."


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
