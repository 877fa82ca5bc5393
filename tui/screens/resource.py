"""One resource, read through the gateway: its contents (text highlighted by MIME type, binary by size and
type, savable), and its updates once subscribed."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any, Literal

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from mcpstead.state import GatewayView, OfferedView
from tui import formatting, requests
from tui.commands import PaletteCommand
from tui.contents import ResourceContent, failure, parse_contents, resource_contents
from tui.notifications import NotificationHub
from tui.screens.save_blob import SaveBlobScreen
from tui.widgets.document import Document

READ_TIMEOUT = 60.0
SUBSCRIBE_TIMEOUT = 30.0
UPDATED = "notifications/resources/updated"


@dataclass(frozen=True, slots=True)
class ResourceReader:
    """What reading a resource needs from the app, so the dashboard and a filled-in template open it alike."""

    view: GatewayView
    notifications: NotificationHub
    clock: Callable[[], float]
    tz: tzinfo | None

    def screen(self, uri: str, item: OfferedView | None = None) -> ResourceScreen:
        return ResourceScreen(self, uri, item)


@dataclass(slots=True)
class Subscription:
    """The dashboard's subscription to this resource while the page is open, and what it brought."""

    state: Literal["off", "asking", "on"] = "off"
    updates: int = 0
    last_update: float | None = None
    auto_read: bool = True
    """Re-read the resource as each update arrives."""
    error: str | None = None


class ResourceScreen(Screen[None]):
    """Reads on opening; `r` reads again, `u` subscribes (and unsubscribes), `w` saves binary content.

    Leaving the page ends a subscription it made.
    """

    BINDINGS = [
        Binding("escape,q", "close", "Back"),
        Binding("r", "read", "Re-read"),
        Binding("u", "subscribe", "Subscribe/unsubscribe"),
        Binding("a", "auto_read", "Re-read on update (on/off)", show=False),
        Binding("w", "save", "Save blob"),
    ]
    AUTO_FOCUS = "#resource-body"

    class Updated(Message):
        """notifications/resources/updated arrived for this resource."""

    def __init__(self, reader: ResourceReader, uri: str, item: OfferedView | None = None) -> None:
        super().__init__(classes="page")
        self.reader = reader
        self.uri = uri
        self.item = item
        self.contents: tuple[ResourceContent, ...] = ()
        """What the last successful read returned."""
        self.error: str | None = None
        """Why the last read failed, if it did."""
        self.reads = 0
        """Reads finished (with contents or an error), for tests and the status line."""
        self.subscription = Subscription()
        self.status = Static("", id="resource-status", classes="page-meta")
        self.subscribed_line = Static("", id="resource-subscription", classes="page-meta")
        self.document = Document(Text("Reading…", style="dim"), id="resource-body")
        self._stop_listening: Callable[[], None] | None = None

    def compose(self) -> ComposeResult:
        title = Text.assemble(("Resource  ", "dim"), (self.uri, "bold"), no_wrap=True, overflow="ellipsis")
        yield Static(title, id="resource-title", classes="page-title")
        meta = self._meta()
        if meta is not None:
            yield Static(meta, id="resource-meta", classes="page-meta")
        yield self.subscribed_line
        yield self.status
        yield self.document
        yield Footer()

    def on_mount(self) -> None:
        self.subscribed_line.display = False
        self._stop_listening = self.reader.notifications.add(self._notified)
        self.action_read()

    def on_unmount(self) -> None:
        if self._stop_listening is not None:
            self._stop_listening()
        if self.subscription.state != "off":
            requests.send(self.reader.view, "resources/unsubscribe", {"uri": self.uri})

    def _meta(self) -> Text | None:
        """What the list says of it: upstream, name, MIME type, size and description."""
        if self.item is None:
            return None
        definition = self.item.definition
        parts: list[tuple[str, str]] = [(self.item.upstream, "bold")]
        name = _text(definition, "title") or _text(definition, "name")
        if name:
            parts.append((name, ""))
        if _text(definition, "mimeType"):
            parts.append((definition["mimeType"], "cyan"))
        size = definition.get("size")
        if isinstance(size, int) and not isinstance(size, bool):
            parts.append((f"{size:,} bytes", ""))
        if _text(definition, "description"):
            parts.append((formatting.one_line(definition["description"], 200), "dim"))
        meta = Text(no_wrap=True, overflow="ellipsis")
        for index, (part, style) in enumerate(parts):
            meta.append(("  ·  " if index else ""), style="dim")
            meta.append(part, style=style)
        return meta

    def palette_commands(self) -> Iterator[PaletteCommand]:
        """This page's actions, ahead of the app's in the palette."""
        yield PaletteCommand("Re-read the resource", self.uri, self.action_read)
        subscribed = self.subscription.state != "off"
        yield PaletteCommand(
            "Unsubscribe" if subscribed else "Subscribe", "To this resource's updates", self.action_subscribe
        )
        yield PaletteCommand("Re-read on update (on/off)", "When an update arrives", self.action_auto_read)
        yield PaletteCommand("Save blob", "Write the binary content to a file", self.action_save)

    # -- reading -------------------------------------------------------------------------------------

    @work(group="read", exclusive=True, exit_on_error=False)
    async def action_read(self) -> None:
        self.status.update(Text("Reading…", style="yellow"))
        answer = await requests.ask(self.reader.view, "resources/read", {"uri": self.uri}, timeout=READ_TIMEOUT)
        self.reads += 1
        self.error = answer.error
        read_at = formatting.clock_time(self.reader.clock(), self.reader.tz)
        if answer.error is not None:
            self.status.update(Text.assemble(("error", "red"), (f"   at {read_at}", "dim")))
            self.document.update(failure(answer.error))
            return
        self.contents = parse_contents(answer.result)
        count = len(self.contents)
        self.status.update(
            Text.assemble(
                ("read", "green"),
                (f" at {read_at}   {count} content{'s' if count != 1 else ''}", "dim"),
            )
        )
        self.document.update(resource_contents(self.contents, dark=self.app.current_theme.dark))

    # -- subscription --------------------------------------------------------------------------------

    def action_subscribe(self) -> None:
        if self.subscription.state != "asking":
            self._toggle_subscription(subscribe=self.subscription.state == "off")

    @work(group="subscribe", exclusive=True, exit_on_error=False)
    async def _toggle_subscription(self, *, subscribe: bool) -> None:
        subscription = self.subscription
        before = subscription.state
        subscription.state, subscription.error = "asking", None
        self._show_subscription()
        method = "resources/subscribe" if subscribe else "resources/unsubscribe"
        answer = await requests.ask(self.reader.view, method, {"uri": self.uri}, timeout=SUBSCRIBE_TIMEOUT)
        if answer.error is not None:
            subscription.state = before
            subscription.error = f"{'subscribe' if subscribe else 'unsubscribe'} failed: {answer.error}"
        else:
            subscription.state = "on" if subscribe else "off"
        self._show_subscription()

    def action_auto_read(self) -> None:
        self.subscription.auto_read = not self.subscription.auto_read
        self._show_subscription()

    def _notified(self, message: dict[str, Any]) -> None:
        """The session's listener (outside Textual's message queue): hand a matching update to the page."""
        params = message.get("params")
        if message.get("method") == UPDATED and isinstance(params, Mapping) and self._concerns(params.get("uri")):
            self.post_message(self.Updated())

    def _concerns(self, uri: Any) -> bool:
        """This resource, or one under it (servers may announce a sub-resource)."""
        return isinstance(uri, str) and (uri == self.uri or uri.startswith(self.uri.rstrip("/") + "/"))

    def on_resource_screen_updated(self, _: Updated) -> None:
        subscription = self.subscription
        subscription.updates += 1
        subscription.last_update = self.reader.clock()
        self._show_subscription()
        if subscription.auto_read:
            self.action_read()

    def _show_subscription(self) -> None:
        subscription = self.subscription
        line = Text(no_wrap=True, overflow="ellipsis")
        if subscription.state == "on":
            line.append("● subscribed", style="bold green")
        elif subscription.state == "asking":
            line.append("… asking", style="yellow")
        else:
            line.append("not subscribed", style="dim")
        if subscription.updates:
            last = formatting.clock_time(subscription.last_update or 0.0, self.reader.tz)
            plural = "s" if subscription.updates != 1 else ""
            line.append(f"   {subscription.updates} update{plural}, last at {last}")
        if subscription.state == "on":
            line.append(f"   re-read on update: {'on' if subscription.auto_read else 'off'} (a)", style="dim")
        if subscription.error is not None:
            line.append(f"   {subscription.error}", style="red")
        self.subscribed_line.update(line)
        self.subscribed_line.display = True

    # -- saving --------------------------------------------------------------------------------------

    def action_save(self) -> None:
        if not any(content.data is not None for content in self.contents):
            self.notify("Nothing to save: the resource has no binary content", severity="warning")
            return

        def saved(path: Path | None) -> None:
            if path is not None:
                self.notify(f"Saved to {path}", markup=False)

        self.app.push_screen(SaveBlobScreen(self.contents, Path.cwd()), saved)

    def action_close(self) -> None:
        self.dismiss(None)


def _text(definition: Mapping[str, Any], key: str) -> str:
    value = definition.get(key)
    return value if isinstance(value, str) else ""
