"""elicitation/create answered by the human: a form from the requested schema, or a URL to open.

Dismisses with the answer's body (`{"result": {"action": ...}}`); None when it was closed because the call
it came with ended.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static

from tui import elicitation
from tui.commands import PaletteCommand
from tui.forms import plan_form
from tui.widgets.argument_form import ArgumentForm


class ElicitationScreen(ModalScreen[dict[str, Any] | None]):
    """Accept sends the form's content once it fits the schema; Decline and Cancel send no content.

    URL mode (`params.mode == "url"`) has no form: the URL to visit, a key to copy it and one to open it.
    """

    BINDINGS = [
        Binding("ctrl+s", "accept", "Accept", priority=True),
        Binding("ctrl+d", "decline", "Decline", priority=True),
        Binding("escape", "cancel_question", "Cancel"),
        Binding("q", "cancel_question", "Cancel", show=False),  # never quit the gateway from a question
        Binding("y", "copy_url", "Copy URL"),
        Binding("o", "open_url", "Open URL"),
    ]

    def __init__(self, params: dict[str, Any], *, asker: str) -> None:
        super().__init__(classes="dialog-screen")
        self.params = params
        self.asker = asker
        self.url_mode = params.get("mode") == "url"
        self.schema = params.get("requestedSchema")
        self.form = ArgumentForm(
            plan_form(self.schema).fields if not self.url_mode else (),
            id="elicit-form",
            empty="The server asks for no fields: accept, decline or cancel.",
        )
        self.error = Static("", id="elicit-error", classes="field-error")

    @property
    def url(self) -> str:
        return str(self.params.get("url", ""))

    def compose(self) -> ComposeResult:
        asks = "The server asks you to open a URL" if self.url_mode else "The server asks you for input"
        with Vertical(classes="dialog", id="elicitation"):
            yield Static(Text.assemble((asks, "bold"), (f"  during {self.asker}", "dim")), classes="dialog-title")
            message = str(self.params.get("message", "")) or "(no message)"
            yield Static(Text(message, style="italic"), id="elicit-message", classes="dialog-body")
            if self.url_mode:
                yield Static(Text(self.url, style="bold underline cyan"), id="elicit-url")
                elicitation_id = self.params.get("elicitationId")
                yield Static(
                    Text(f"elicitation {elicitation_id}   y copies the URL, o opens it", style="dim"),
                    classes="dialog-body",
                )
            else:
                yield self.form
            yield self.error
            with Horizontal(classes="dialog-buttons"):
                yield Button("Accept  ctrl+s", variant="primary", id="accept", compact=True)
                yield Button("Decline  ctrl+d", id="decline", compact=True)
                yield Button("Cancel  esc", id="cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        if self.url_mode or not self.form.fields:
            self.query_one("#accept", Button).focus()
        else:
            self.form.focus_first()

    def palette_commands(self) -> Iterator[PaletteCommand]:
        yield PaletteCommand("Accept", "Answer the server's question", self.action_accept)
        yield PaletteCommand("Decline", "Say no to the server's question", self.action_decline)
        yield PaletteCommand("Cancel the question", "Dismiss it without an answer", self.action_cancel_question)
        if self.url_mode:
            yield PaletteCommand("Copy the URL", "The URL the server asks you to open", self.action_copy_url)
            yield PaletteCommand("Open the URL", "In the browser", self.action_open_url)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("copy_url", "open_url"):
            return self.url_mode
        return True

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "accept":
            self.action_accept()
        elif event.button.id == "decline":
            self.action_decline()
        else:
            self.action_cancel_question()

    def action_accept(self) -> None:
        """URL mode: consent to the URL. Form mode: the content, once every field fits the schema."""
        if self.url_mode:
            self.dismiss(elicitation.accept())
            return
        content, errors = self.form.collect()
        problems = {**elicitation.check_content(self.schema, content), **errors}
        self.form.show_errors(problems)
        if problems:
            count = len(problems)
            self.error.update(Text(f"↳ Not sent: {count} field{'s' if count != 1 else ''} to fix", style="red"))
            self.error.display = True
            return
        self.dismiss(elicitation.accept(content))

    def action_decline(self) -> None:
        self.dismiss(elicitation.DECLINE)

    def action_cancel_question(self) -> None:
        self.dismiss(elicitation.CANCEL)

    def action_copy_url(self) -> None:
        self.app.copy_to_clipboard(self.url)
        self.notify("URL copied to the clipboard")

    def action_open_url(self) -> None:
        self.app.open_url(self.url)
