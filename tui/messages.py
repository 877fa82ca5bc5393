"""Messages the dashboard passes around internally."""

from __future__ import annotations

from textual.message import Message

from mcpstead.state import GatewaySnapshot


class SnapshotChanged(Message):
    """The gateway published a new snapshot (or a second passed and clocks should tick).

    Coalescing: a pending SnapshotChanged is replaced by a newer one, so a busy gateway never builds a
    queue of stale frames the UI would have to render one after another.
    """

    def __init__(self, snapshot: GatewaySnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        # Textual's pump asks the message it just took whether the next queued one may supersede it;
        # snapshots only move forward, so any SnapshotChanged makes another one redundant.
        return isinstance(message, SnapshotChanged)
