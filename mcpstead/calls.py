"""Recent tool calls: a bounded ring of finished calls, for the dashboard and for debugging. Arguments and
results are kept as bounded previews (mcpstead/preview.py), so big answers are not held in memory."""

from __future__ import annotations

from collections import deque
from typing import Any

from mcpstead.preview import bounded
from mcpstead.state import CallOutcome, CallSource, CallView

RECENT_CALLS = 500


class CallLog:
    def __init__(self, maxlen: int = RECENT_CALLS) -> None:
        self._calls: deque[CallView] = deque(maxlen=maxlen)
        self._seq = 0

    def record(
        self,
        *,
        started_at: float,
        session_id: str | None,
        client: str,
        source: CallSource,
        tool: str,
        upstream: str,
        arguments: Any,
        outcome: CallOutcome,
        result: Any,
        error: str | None,
        total_ms: float,
        upstream_ms: float | None,
    ) -> CallView:
        self._seq += 1
        call = CallView(
            seq=self._seq,
            started_at=started_at,
            session_id=session_id,
            client=client,
            source=source,
            tool=tool,
            upstream=upstream,
            arguments=bounded(arguments),
            outcome=outcome,
            result=bounded(result),
            error=error,
            total_ms=total_ms,
            upstream_ms=upstream_ms,
        )
        self._calls.append(call)
        return call

    def newest_first(self) -> tuple[CallView, ...]:
        return tuple(reversed(self._calls))
