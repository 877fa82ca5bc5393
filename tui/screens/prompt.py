"""A prompt, got through the gateway: a form of its arguments with the server's suggestions, then its messages."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Static

from mcpstead.state import GatewayView, OfferedView
from tui import formatting, requests
from tui.commands import PaletteCommand
from tui.completion import completer, prompt_ref
from tui.contents import failure, prompt_result
from tui.widgets.completing_form import CompletingForm, TextField
from tui.widgets.document import Document

GET_TIMEOUT = 60.0


class PromptScreen(Screen[None]):
    """Fill in the arguments (suggestions appear as you type), then Enter, ctrl+s or the button gets the
    prompt; nothing is sent while a required argument is empty."""

    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("q", "close", "Back", show=False),  # in a field, q is typed
        Binding("ctrl+s", "get", "Get prompt", priority=True),
    ]
    AUTO_FOCUS = None  # on_mount picks the first field, or the button

    def __init__(self, view: GatewayView, item: OfferedView) -> None:
        super().__init__(classes="page")
        self.view = view
        self.item = item
        self.form = CompletingForm(
            prompt_fields(item.definition),
            completer(view, prompt_ref(item.key)),
            empty="This prompt takes no arguments.",
            id="prompt-form",
        )
        self.get_button = Button("Get prompt  ctrl+s", variant="primary", compact=True, id="get")
        self.status = Static("", id="prompt-status")
        self.result = Document(Text("The prompt's messages show here.", style="dim"), id="prompt-result")
        self.answer: requests.Answer | None = None
        """The last prompts/get answer."""
        self.busy = False

    def compose(self) -> ComposeResult:
        title = Text.assemble(
            ("Prompt  ", "dim"), formatting.qualified(self.item.key, 80), (f"  {self.item.upstream}", "dim")
        )
        yield Static(title, id="prompt-title", classes="page-title")
        description = self.item.definition.get("description")
        if isinstance(description, str) and description:
            yield Static(Text(formatting.one_line(description, 300), style="dim"), classes="page-meta")
        yield self.form
        with Horizontal(classes="browse-actions"):
            yield self.get_button
            yield self.status
        yield self.result
        yield Footer()

    def on_mount(self) -> None:
        if not self.form.focus_first():
            self.get_button.focus()

    def palette_commands(self) -> Iterator[PaletteCommand]:
        yield PaletteCommand("Get the prompt", f"{self.item.key} with the arguments filled in", self.action_get)

    @on(Input.Submitted)
    @on(Button.Pressed, "#get")
    def _submitted(self, event: Input.Submitted | Button.Pressed) -> None:
        event.stop()
        self.action_get()

    def action_get(self) -> None:
        if self.busy:
            self._say("Already asking for the prompt.", "yellow")
            return
        arguments, errors = self.form.collect()
        if errors:
            count = len(errors)
            self._say(f"Not sent: {count} required argument{'s' if count != 1 else ''} empty.", "red")
            return
        self._get(arguments)

    @work(group="prompt", exclusive=True, exit_on_error=False)
    async def _get(self, arguments: dict[str, str]) -> None:
        self.busy = True
        self.get_button.disabled = True
        self._say("Getting the prompt…", "yellow")
        params: dict[str, Any] = {"name": self.item.key}
        if arguments:
            params["arguments"] = arguments
        try:
            answer = await requests.ask(self.view, "prompts/get", params, timeout=GET_TIMEOUT)
        finally:
            self.busy = False
            self.get_button.disabled = False
        self.answer = answer
        if answer.error is not None:
            self._say("error", "red")
            self.result.update(failure(answer.error))
            return
        messages = answer.result.get("messages")
        count = len(messages) if isinstance(messages, list) else 0
        self._say(f"{count} message{'s' if count != 1 else ''}", "green")
        self.result.update(prompt_result(answer.result, dark=self.app.current_theme.dark))

    def action_close(self) -> None:
        self.dismiss(None)

    def _say(self, message: str, style: str = "") -> None:
        self.status.update(Text(message, style=style))


def prompt_fields(definition: Mapping[str, Any]) -> tuple[TextField, ...]:
    """One text field per argument of a prompt definition (prompt arguments are strings)."""
    arguments = definition.get("arguments")
    if not isinstance(arguments, list):
        return ()
    return tuple(
        TextField(
            argument["name"],
            required=argument.get("required") is True,
            description=" ".join(
                part for part in (argument.get("title"), argument.get("description")) if isinstance(part, str)
            ),
        )
        for argument in arguments
        if isinstance(argument, Mapping) and isinstance(argument.get("name"), str)
    )
