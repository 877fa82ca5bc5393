"""uvicorn's httptools protocol, with a response's writes sent together and lost connections reported.

uvicorn writes a response's head and body with two transport writes. On loopback each write is a syscall
that wakes the client, which then finds only half a response and sleeps again. Holding the head until the body
arrives (at most until the end of the loop step) sends both with one syscall and one wake-up.

"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mcpstead.downstream.streams import DISCONNECT_HOOK


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


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope[DISCONNECT_HOOK] = None  # type: ignore[literal-required]  # this server calls the hook

    def connection_lost(self, exc: Exception | None) -> None:
        """Tell the request still being answered that its client has gone (it cancels the upstream call),
        without a task per request waiting on receive() for the disconnect."""
        cycle = self.cycle
        super().connection_lost(exc)
        if cycle is not None and not cycle.response_complete:
            hook = cycle.scope.get(DISCONNECT_HOOK)
            if callable(hook):
                hook()
