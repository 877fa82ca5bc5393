"""The human as the MCP client of one dashboard request: what the server asks opens a dialog.

`asked()` runs in whatever task the core answers from; it never touches widgets itself but queues the
dialog on the app and waits on a future, so the event loop (and the gateway in it) keeps running while a
person thinks. When the request ends, `close()` withdraws every question still open and its dialog goes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.app import App, ScreenError
from textual.screen import ModalScreen

from tui import elicitation
from tui.screens.elicitation import ElicitationScreen
from tui.screens.sampling import SamplingScreen

Dialog = ModalScreen[dict[str, Any] | None]
METHOD_NOT_FOUND = -32601


class HumanClient:
    """A `ClientHandler`: notifications go to `on_notified`, sampling and elicitation to a dialog each."""

    def __init__(self, app: App[Any], asker: str, on_notified: Callable[[dict[str, Any]], None]) -> None:
        self._app = app
        self._asker = asker
        self._on_notified = on_notified
        self._open: dict[Dialog, asyncio.Future[dict[str, Any] | None]] = {}
        self._closed = False

    def notified(self, message: dict[str, Any]) -> None:
        self._on_notified(message)

    async def asked(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        dialog: Dialog
        if method == "elicitation/create":
            dialog = ElicitationScreen(params, asker=self._asker)
        elif method == "sampling/createMessage":
            dialog = SamplingScreen(params, asker=self._asker)
        else:
            return {"error": {"code": METHOD_NOT_FOUND, "message": f"the dashboard cannot answer {method}"}}
        if self._closed:
            return _withdrawn(method)
        answered: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        self._open[dialog] = answered
        self._app.call_later(self._show, dialog, answered)
        try:
            body = await answered
        finally:
            del self._open[dialog]
            self._app.call_later(self._withdraw, dialog)
        return body if body is not None else _withdrawn(method)

    def close(self) -> None:
        """The request ended: every question still waiting is withdrawn (its dialog closes)."""
        self._closed = True
        waiting = [future for future in self._open.values() if not future.done()]
        for future in waiting:
            future.set_result(None)
        if waiting:
            self._app.notify("The call ended, so the server's question was withdrawn", severity="warning")

    def _show(self, dialog: Dialog, answered: asyncio.Future[dict[str, Any] | None]) -> None:
        if answered.done():
            return  # withdrawn before it could open

        def settle(body: dict[str, Any] | None) -> None:
            if not answered.done():
                answered.set_result(body)

        self._app.push_screen(dialog, callback=settle)

    def _withdraw(self, dialog: Dialog) -> None:
        """Close `dialog` if it is still up (after an answer it is already gone)."""
        if dialog not in self._app.screen_stack:
            return
        try:
            dialog.pop_until_active()  # anything opened over it (the help screen) goes first
        except ScreenError:
            return
        dialog.dismiss(None)


def _withdrawn(method: str) -> dict[str, Any]:
    """What a withdrawn question answers (nobody waits for it any more, but the server gets an answer)."""
    if method == "elicitation/create":
        return elicitation.CANCEL
    return {"error": {"code": -1, "message": "the dashboard's request ended before the human answered"}}
