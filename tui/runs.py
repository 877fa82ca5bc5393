"""The dashboard's own requests: what one run produced, the history of runs, and waiting for an answer.

Pure asyncio (no widgets), so the tool runner, the raw JSON-RPC screen and the history share one idea of
what a run is, and the waiting can be tested without an app.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from mcpstead.state import RunningRequest

RunKind = Literal["ok", "tool_error", "error", "cancelled"]

HISTORY_SIZE = 200
"""Runs kept in memory (this process only); the oldest goes first."""
REQUEST_CANCELLED = -32800
"""The code the gateway answers a cancelled request with."""

_tokens = itertools.count(1)

ENVELOPE_PREFIX = "io.modelcontextprotocol/"
"""A 2026-07-28 request's envelope keys in _meta (its client's version, capabilities, name)."""


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """One finished dashboard request: what was sent, the whole JSON-RPC answer (or why there is none)."""

    seq: int
    method: str
    params: dict[str, Any]
    """As sent, progress token included."""
    started_at: float
    """Wall clock."""
    duration_ms: float
    answer: dict[str, Any] | None
    """The JSON-RPC response, `{"jsonrpc", "id", "result" | "error"}`."""
    failure: str | None = None
    """Why no answer came (a timeout, an exception in the dashboard); None when there is an answer."""
    cancelled: bool = False
    """The dashboard sent notifications/cancelled for it."""

    @property
    def result(self) -> Any:
        return self.answer.get("result") if self.answer is not None else None

    @property
    def error(self) -> dict[str, Any] | None:
        error = self.answer.get("error") if self.answer is not None else None
        return error if isinstance(error, dict) else None

    @property
    def kind(self) -> RunKind:
        if self.cancelled or (self.error is not None and self.error.get("code") == REQUEST_CANCELLED):
            return "cancelled"
        if self.failure is not None or self.error is not None:
            return "error"
        result = self.result
        if self.method == "tools/call" and isinstance(result, Mapping) and result.get("isError") is True:
            return "tool_error"
        return "ok"

    @property
    def error_text(self) -> str | None:
        """The gateway's or the dashboard's error in one line (None for a result, even an isError one)."""
        if self.failure is not None:
            return self.failure
        error = self.error
        return f"{error.get('message')} (code {error.get('code')})" if error is not None else None

    @property
    def title(self) -> str:
        """The tool's name for a tools/call, else the method."""
        name = self.params.get("name")
        return name if self.method == "tools/call" and isinstance(name, str) else self.method

    def replay_params(self) -> dict[str, Any]:
        """The params to send it again: without the progress token the dashboard added."""
        return params_to_replay(self.params)


def params_to_replay(params: dict[str, Any]) -> dict[str, Any]:
    """A request's params to send again from the dashboard: without a progress token and a 2026-07-28
    envelope (the dashboard's own client sets its own); the rest of `_meta` is the request's."""
    replayed = dict(params)
    meta = replayed.pop("_meta", None)
    if isinstance(meta, dict):
        kept = {k: v for k, v in meta.items() if k != "progressToken" and not k.startswith(ENVELOPE_PREFIX)}
        if kept:
            replayed["_meta"] = kept
    return replayed


class RunHistory:
    """The runs made from the dashboard in this process, newest first, bounded."""

    def __init__(self, size: int = HISTORY_SIZE) -> None:
        self._runs: deque[RunOutcome] = deque(maxlen=size)
        self._seq = itertools.count(1)

    def next_seq(self) -> int:
        return next(self._seq)

    def add(self, outcome: RunOutcome) -> None:
        self._runs.appendleft(outcome)

    def __iter__(self) -> Iterator[RunOutcome]:
        return iter(tuple(self._runs))

    def __len__(self) -> int:
        return len(self._runs)


def with_progress_token(params: Mapping[str, Any]) -> tuple[dict[str, Any], Any]:
    """`params` asking for progress: a fresh token in `_meta` unless the params bring their own."""
    sent = dict(params)
    meta = sent.get("_meta")
    if isinstance(meta, dict) and "progressToken" in meta:
        return sent, meta["progressToken"]
    token = f"mcpstead-dashboard-{next(_tokens)}"
    sent["_meta"] = {**(meta if isinstance(meta, dict) else {}), "progressToken": token}
    return sent, token


@dataclass(frozen=True, slots=True)
class Ending:
    """How waiting for a request ended: its answer, or why there is none."""

    answer: dict[str, Any] | None
    failure: str | None = None


async def wait_for_answer(running: RunningRequest, timeout: float) -> Ending:
    """The request's answer, bounded by `timeout` (then it is cancelled, as a client that gives up would).

    Never raises for the request's own failure (its task cancelled, or an exception in it): only the
    waiter's own cancellation propagates.
    """
    done, _ = await asyncio.wait({running.answer}, timeout=timeout)
    if not done:
        await running.cancel(f"no answer within {timeout:.0f} s")
        return Ending(None, f"no answer within {timeout:.0f} s")
    task = running.answer
    if task.cancelled():
        return Ending(None, "cancelled before any answer")
    error = task.exception()
    if error is not None:
        return Ending(None, f"the request failed: {error}")
    return Ending(task.result())
