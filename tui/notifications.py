"""The dashboard session's notifications, shared: the view takes one listener, and several pages may listen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Listener = Callable[[dict[str, Any]], None]


class NotificationHub:
    """Registered once with the view (`view.on_notification(hub.deliver)`); each page adds its own listener
    and removes it when it closes."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def add(self, listener: Listener) -> Callable[[], None]:
        """Start telling `listener`; the returned function stops it."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    def deliver(self, message: dict[str, Any]) -> None:
        """Tell every listener; one that fails does not keep the message from the others (the first failure
        is raised afterwards, for the view to report)."""
        failure: Exception | None = None
        for listener in list(self._listeners):
            try:
                listener(message)
            except Exception as error:
                failure = failure or error
        if failure is not None:
            raise failure
