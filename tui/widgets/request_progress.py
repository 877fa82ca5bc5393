"""While a dashboard request runs: how long it has been running, its progress, its latest message, Cancel."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, ProgressBar, Static

from tui import formatting

MESSAGE_LIMIT = 200


class RequestProgress(Vertical):
    """Hidden until `start()`; `show_notification()` takes what rides on the request (progress, log lines).

    The bar is indeterminate until a notifications/progress gives a total. The Cancel button posts a
    Button.Pressed with id "cancel-request" for the screen to act on.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.elapsed = Static("", id="progress-elapsed")
        self.bar = ProgressBar(total=None, show_eta=False, id="progress-bar")
        self.cancel = Button("Cancel  ctrl+x", variant="warning", compact=True, id="cancel-request")
        self.message = Static("", id="progress-message")
        self.notifications = 0
        """How many notifications rode on the current request."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="progress-line"):
            yield self.elapsed
            yield self.bar
            yield self.cancel
        yield self.message

    def on_mount(self) -> None:
        self.display = False

    def start(self) -> None:
        self.notifications = 0
        self.bar.update(total=None, progress=0)
        self.message.update("")
        self.cancel.disabled = False
        self.cancel.label = "Cancel  ctrl+x"
        self.show_elapsed(0.0)
        self.display = True

    def stop(self) -> None:
        self.display = False

    def show_elapsed(self, seconds: float) -> None:
        self.elapsed.update(Text(f"Running… {seconds:.1f} s", style="yellow"))

    def cancelling(self) -> None:
        """Cancel was asked for: say so until the answer (-32800) arrives."""
        self.cancel.disabled = True
        self.cancel.label = "Cancelling…"

    def show_notification(self, message: dict[str, Any]) -> None:
        self.notifications += 1
        method = message.get("method")
        params = message.get("params")
        params = params if isinstance(params, dict) else {}
        if method == "notifications/progress":
            self._progress(params)
        elif method == "notifications/message":
            data = params.get("data")
            shown = data if isinstance(data, str) else formatting.one_line(str(data), MESSAGE_LIMIT)
            self._say(Text.assemble((f"{params.get('level', 'info')}: ", "bold"), shown))
        else:
            self._say(Text(str(method), style="dim"))

    def _progress(self, params: dict[str, Any]) -> None:
        progress, total = _number(params.get("progress")), _number(params.get("total"))
        if progress is not None:
            self.bar.update(total=total if total is not None and total > 0 else None, progress=progress)
        text = params.get("message")
        if isinstance(text, str):
            self._say(Text(text))
        elif progress is not None:
            self._say(Text(f"{progress:g}" + (f" of {total:g}" if total is not None else ""), style="dim"))

    def _say(self, text: Text) -> None:
        text.truncate(MESSAGE_LIMIT, overflow="ellipsis")
        text.no_wrap = True
        self.message.update(text)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
