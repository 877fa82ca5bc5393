"""uvicorn's httptools protocol, with a response's writes sent together, lost connections reported, and
slow readers cut off.

uvicorn writes a response's head and body with two transport writes. On loopback each write is a syscall
that wakes the client, which then finds only half a response and sleeps again. Holding the head until the body
arrives (at most until the end of the loop step) sends both with one syscall and one wake-up.

"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mcpstead.downstream.streams import DISCONNECT_HOOK

log = logging.getLogger("mcpstead.downstream")


class CoalescingTransport:
    """A transport that sends a held write together with the next one; everything else is delegated."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Hold a first write (a response head) until the next one (its body) or the end of this loop step."""
        if self._pending:
            self._pending.append(bytes(data))
            self._flush()
            return
        self._pending.append(bytes(data))
        self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        if self._pending:
            data, self._pending = b"".join(self._pending), []
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain\r\ncontent-length: 26\r\nconnection: close\r\n\r\nthe request took too long\n"


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    header_read_seconds = 10.0
    body_read_seconds = 30.0
    """Set per server by `with_limits`: how long a request's headers, then its body, may take to arrive."""

    read_deadline: float | None = None
    """Loop time by which what is being read must have arrived (None: nothing is being read)."""
    reading: str = ""
    """"header_read" or "body_read", for the metric when the deadline passes."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
        self._expect("header_read", self.header_read_seconds)

    def _expect(self, what: str, seconds: float) -> None:
        self.reading = what
        self.read_deadline = self.loop.time() + seconds

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope[DISCONNECT_HOOK] = None  # type: ignore[literal-required]  # this server calls the hook
        self._expect("header_read", self.header_read_seconds)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._expect("body_read", self.body_read_seconds)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.read_deadline = None

    def _unsupported_upgrade_warning(self) -> None:
        """The server runs with `ws="none"` (no WebSocket library loaded: ~0.6 MiB and a few ms of start). An
        upgrade request is answered as plain HTTP; uvicorn's two warnings per request (one of them telling to
        install a WebSocket library) would let any client fill the log with advice that does not apply."""
        log.debug("a client asked to upgrade to %r; answered as plain HTTP", self._get_upgrade())

    def cut_off_if_late(self, now: float) -> str | None:
        """Close the connection if what it is reading is overdue; returns which read it was."""
        if self.read_deadline is None or now < self.read_deadline or self.transport.is_closing():
            return None
        self.read_deadline = None
        if self.cycle is None or not self.cycle.response_started:
            self.transport.write(TIMED_OUT)
        self.transport.close()
        return self.reading

    @classmethod
    def with_limits(cls, header_read_seconds: float, body_read_seconds: float) -> type[CoalescingHttpToolsProtocol]:
        return type(
            cls.__name__,
            (cls,),
            {"header_read_seconds": header_read_seconds, "body_read_seconds": body_read_seconds},
        )

    def connection_lost(self, exc: Exception | None) -> None:
        """Tell the request still being answered that its client has gone (it cancels the upstream call),
        without a task per request waiting on receive() for the disconnect."""
        cycle = self.cycle
        super().connection_lost(exc)
        if cycle is not None and not cycle.response_complete:
            hook = cycle.scope.get(DISCONNECT_HOOK)
            if callable(hook):
                hook()


async def cut_off_slow_readers(
    connections: Iterable[Any], on_cut: Callable[[str], None], interval: float = 1.0
) -> None:
    """Every `interval`, close the connections whose headers or body are overdue (a slowloris client holds
    a connection by sending a byte now and then). One sweep for all, instead of a timer per request."""
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(interval)
        now = loop.time()
        for connection in list(connections):
            if isinstance(connection, CoalescingHttpToolsProtocol) and (what := connection.cut_off_if_late(now)):
                on_cut(what)
