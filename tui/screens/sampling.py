"""sampling/createMessage answered by the human: the conversation the server sends, and a reply box.

Dismisses with the answer's body: the typed reply as the assistant's message, or the rejection error;
None when it was closed because the call it came with ended.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label, Static, TextArea

from tui.commands import PaletteCommand
from tui.forms import to_json
from tui.rendering import content_block, section
from tui.widgets.document import Document

MODEL = "human (mcpstead dashboard)"
REJECTED: dict[str, Any] = {"error": {"code": -1, "message": "User rejected sampling request"}}
SHOWN_SETTINGS = ("maxTokens", "temperature", "stopSequences", "includeContext")


def reply(text: str) -> dict[str, Any]:
    """The body of a sent reply: the human is the model."""
    return {
        "result": {
            "role": "assistant",
            "content": {"type": "text", "text": text},
            "model": MODEL,
            "stopReason": "endTurn",
        }
    }


def request_renderable(params: Mapping[str, Any], *, dark: bool = True) -> RenderableType:
    """The settings asked for (one line, so they show even when the conversation is long), the system
    prompt, then each message with its role and content blocks."""
    settings = _settings(params)
    parts: list[RenderableType] = [settings] if settings else []
    system = params.get("systemPrompt")
    if isinstance(system, str) and system:
        parts += [section("System prompt"), Text(system)]
    messages = params.get("messages")
    messages = messages if isinstance(messages, list) else []
    parts.append(section(f"Messages ({len(messages)})"))
    for message in messages:
        role = message.get("role", "?") if isinstance(message, Mapping) else "?"
        content = message.get("content") if isinstance(message, Mapping) else message
        parts.append(Text(str(role), style="bold magenta" if role == "assistant" else "bold cyan"))
        parts.extend(content_block(block, dark=dark) for block in (content if isinstance(content, list) else [content]))
    return Group(*parts)


def _settings(params: Mapping[str, Any]) -> Text:
    """maxTokens and the other settings, the model preferences, the tools offered."""
    settings = Text()
    for key in SHOWN_SETTINGS:
        if key in params:
            settings.append(f"{key} ", style="dim")
            settings.append(to_json(params[key], indent=None) + "   ")
    preferences = params.get("modelPreferences")
    if isinstance(preferences, Mapping) and preferences:
        listed = preferences.get("hints")
        hints = [h.get("name") for h in listed if isinstance(h, Mapping)] if isinstance(listed, list) else []
        settings.append("model ", style="dim")
        settings.append(", ".join(str(h) for h in hints) or "no hints")
        for key, value in preferences.items():
            if key.endswith("Priority"):
                settings.append(f"  {key.removesuffix('Priority')} {value}", style="dim")
    tools = params.get("tools")
    if isinstance(tools, list) and tools:
        names = ", ".join(str(t.get("name")) for t in tools if isinstance(t, Mapping))
        if settings:
            settings.append("\n")
        settings.append(f"tools offered (a reply is text only): {names}", style="yellow")
    return settings


class SamplingScreen(ModalScreen[dict[str, Any] | None]):
    """Type the assistant's reply; ctrl+s sends it, escape rejects the request."""

    BINDINGS = [
        Binding("ctrl+s", "send", "Send reply", priority=True),
        Binding("escape", "reject", "Reject"),
        Binding("q", "reject", "Reject", show=False),  # never quit the gateway from a question
    ]
    AUTO_FOCUS = "#sampling-reply"

    def __init__(self, params: dict[str, Any], *, asker: str) -> None:
        super().__init__(classes="dialog-screen")
        self.params = params
        self.asker = asker
        self.reply = TextArea("", soft_wrap=True, tab_behavior="focus", id="sampling-reply")
        self.error = Static("", id="sampling-error", classes="field-error")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="sampling"):
            yield Static(
                Text.assemble(("The server asks you to be the model", "bold"), (f"  during {self.asker}", "dim")),
                classes="dialog-title",
            )
            yield Document(request_renderable(self.params, dark=self.app.current_theme.dark), id="sampling-request")
            yield Label(Text("Your reply, as the assistant", style="bold"))
            yield self.reply
            yield self.error
            with Horizontal(classes="dialog-buttons"):
                yield Button("Send  ctrl+s", variant="primary", id="send", compact=True)
                yield Button("Reject  esc", id="reject", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        if self.app.animation_level == "none":
            self.reply.cursor_blink = False

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "send":
            self.action_send()
        else:
            self.action_reject()

    def palette_commands(self) -> Iterator[PaletteCommand]:
        yield PaletteCommand("Send the reply", "As the assistant's message", self.action_send)
        yield PaletteCommand("Reject the sampling request", "The server gets an error", self.action_reject)

    def action_send(self) -> None:
        if not self.reply.text.strip():
            self.error.update(Text("↳ type a reply first (or reject the request)", style="red"))
            self.error.display = True
            return
        self.dismiss(reply(self.reply.text))

    def action_reject(self) -> None:
        self.dismiss(REJECTED)
