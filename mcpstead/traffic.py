"""The traffic tap: every JSON-RPC message on both hops, for the dashboard's Traffic tab and capture files.

Two hops: the client hop (a client and the gateway, recorded where /mcp is served and by the dashboard's
own client) and the upstream hop (the gateway and one upstream, recorded where each connection counts
bytes). A record holds the message's bytes as they crossed the wire, never a dict the gateway may go on
to change, and no HTTP header: an Authorization header or a configured secret header cannot reach a record.

Nothing is recorded while nothing listens (`active` is False): headless without `--capture`, a message
costs one attribute test. The downstream request a message belongs to travels in a context variable
(`CURRENT`), so the upstream request made on its behalf, in the same task, carries its call number.
"""

from __future__ import annotations

import contextvars
import itertools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from mcpstead.state import Direction, Hop, TrafficRecord, short_session_id


@dataclass(frozen=True, slots=True)
class CallLink:
    """The downstream request the current task works for: its call number and its session."""

    call: int
    session: str | None


CURRENT: contextvars.ContextVar[CallLink | None] = contextvars.ContextVar("mcpstead_traffic_call", default=None)


Sink = Callable[[TrafficRecord], None]


def short_session(session_id: str | None) -> str | None:
    return short_session_id(session_id) if session_id else None


class Traffic:
    """Fans each message out to the sinks (the dashboard's ring, a capture file); records nothing without."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._sinks: list[Sink] = []
        self.active = False
        self._seq = itertools.count(1)
        self._calls = itertools.count(1)

    def add_sink(self, sink: Sink) -> Callable[[], None]:
        """Start feeding `sink`; returns what stops it."""
        self._sinks.append(sink)
        self.active = True

        def remove() -> None:
            if sink in self._sinks:
                self._sinks.remove(sink)
            self.active = bool(self._sinks)

        return remove

    def begin_call(self, session: str | None) -> CallLink:
        """A downstream request starts in this task: what the gateway sends upstream for it is linked."""
        link = CallLink(next(self._calls), session)
        CURRENT.set(link)
        return link

    def client(self, direction: Direction, data: bytes, link: CallLink | None, session: str | None = None) -> None:
        """A message on the client hop (`session` when it differs from the link's: an initialize's answer)."""
        self._emit(
            "client",
            direction,
            session if session is not None else link.session if link else None,
            None,
            link.call if link else None,
            data,
        )

    def upstream(self, name: str, direction: Literal["sent", "received"], data: bytes | str) -> None:
        """A message on an upstream hop, linked to the downstream request of the current task if any."""
        link = CURRENT.get()
        self._emit(
            "upstream",
            "out" if direction == "sent" else "in",
            link.session if link else None,
            name,
            link.call if link else None,
            data.encode() if isinstance(data, str) else data,
        )

    def _emit(
        self,
        hop: Hop,
        direction: Direction,
        session: str | None,
        upstream: str | None,
        call: int | None,
        data: bytes,
    ) -> None:
        message = data.strip()
        if not message:  # an SSE event without data (a stream's priming event) carries no message
            return
        # To the microsecond, as a capture file keeps it: the dashboard and a capture read later show the
        # same latencies to the last digit.
        at = round(self._clock() * 1_000_000) / 1_000_000
        record = TrafficRecord(next(self._seq), at, hop, direction, session, upstream, call, len(data), message)
        for sink in tuple(self._sinks):
            sink(record)


def detach() -> None:
    """A task that reads an upstream on behalf of no request (a connection's reader) links nothing."""
    CURRENT.set(None)


class TrafficRing:
    """The dashboard's memory of traffic: the newest `messages` records in at most `max_bytes`, each message
    cut at `message_bytes` (with `cut` set)."""

    def __init__(self, messages: int, max_bytes: int, message_bytes: int) -> None:
        self._records: deque[TrafficRecord] = deque()
        self._messages = messages
        self._max_bytes = max_bytes
        self._message_bytes = message_bytes
        self._bytes = 0

    def __call__(self, record: TrafficRecord) -> None:
        if len(record.data) > self._message_bytes:
            record = replace(record, data=record.data[: self._message_bytes], cut=True)
        self._records.append(record)
        self._bytes += len(record.data)
        while len(self._records) > self._messages or (self._bytes > self._max_bytes and len(self._records) > 1):
            self._bytes -= len(self._records.popleft().data)

    def since(self, seq: int) -> tuple[TrafficRecord, ...]:
        """Records newer than `seq`, oldest first."""
        newer: list[TrafficRecord] = []
        for record in reversed(self._records):
            if record.seq <= seq:
                break
            newer.append(record)
        newer.reverse()
        return tuple(newer)

    @property
    def held_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._records)
