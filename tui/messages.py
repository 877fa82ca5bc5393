"""Messages the dashboard passes around internally."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.message import Message

from mcpstead.state import CallView, GatewaySnapshot, LogLineView, TrafficRecord


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


class LogLinesArrived(Message):
    """New gateway log lines (oldest first); never coalesced, since each batch holds different lines."""

    def __init__(self, lines: tuple[LogLineView, ...]) -> None:
        super().__init__()
        self.lines = lines


class RunTool(Message):
    """Open the tool runner for `tool` (a qualified name), optionally pre-filled with `arguments`."""

    def __init__(self, tool: str, arguments: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self.tool = tool
        self.arguments = arguments


class ShowCall(Message):
    """Open the detail screen of a recorded call."""

    def __init__(self, call: CallView) -> None:
        super().__init__()
        self.call = call


class ReplayRequest(Message):
    """Open a captured client request for editing and sending again: tools/call in the tool runner, any
    other method in the raw JSON-RPC runner."""

    def __init__(self, method: str, params: Mapping[str, Any]) -> None:
        super().__init__()
        self.method = method
        self.params = params


class TrafficShown(Message):
    """The Traffic tab can be drawn again: read what the gateway kept meanwhile now, not at the next poll."""


class TrafficArrived(Message):
    """New messages from the traffic tap (oldest first); never coalesced, each batch holds different ones."""

    def __init__(self, records: tuple[TrafficRecord, ...]) -> None:
        super().__init__()
        self.records = records
