"""Traffic records as a gateway would tap them, for the Traffic tab's tests and snapshots."""

from __future__ import annotations

import json
from typing import Any

from mcpstead.state import Direction, Hop, TrafficRecord
from tests.tui.fakes import T0


class Script:
    """Records in the order a gateway would tap them."""

    def __init__(self) -> None:
        self.records: list[TrafficRecord] = []

    def add(
        self,
        hop: Hop,
        direction: Direction,
        message: dict[str, Any],
        *,
        session: str | None = "s1",
        upstream: str | None = None,
        call: int | None = None,
    ) -> int:
        seq = len(self.records) + 1
        data = json.dumps(message).encode()
        at = T0 - 10 + seq / 100
        self.records.append(TrafficRecord(seq, at, hop, direction, session, upstream, call, len(data), data))
        return seq


def tools_call_over_stdio(script: Script, call: int, client_id: int, upstream_id: int, token: str) -> None:
    """A client call with progress, to an upstream whose answers a reader task receives (call None)."""
    params = {"name": "demo__sleep", "arguments": {"seconds": 1}, "_meta": {"progressToken": token}}
    script.add("client", "in", {"jsonrpc": "2.0", "id": client_id, "method": "tools/call", "params": params}, call=call)
    upstream_params = {"name": "sleep", "arguments": {"seconds": 1}, "_meta": {"progressToken": upstream_id * 10}}
    script.add(
        "upstream",
        "out",
        {"jsonrpc": "2.0", "id": upstream_id, "method": "tools/call", "params": upstream_params},
        upstream="demo",
        call=call,
    )
    progress = {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": upstream_id * 10}}
    script.add("upstream", "in", progress, session=None, upstream="demo")
    script.add("client", "out", {**progress, "params": {"progressToken": token}}, call=call)
    result = {"content": [{"type": "text", "text": "done"}]}
    script.add("upstream", "in", {"jsonrpc": "2.0", "id": upstream_id, "result": result}, session=None, upstream="demo")
    script.add("client", "out", {"jsonrpc": "2.0", "id": client_id, "result": result}, call=call)
