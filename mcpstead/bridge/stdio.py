"""The client's side of `mcpstead connect`: newline-delimited JSON-RPC on stdin and stdout.

stdout carries nothing but MCP messages, one per line, in the order they arrive from the gateway; everything
said to the user goes to stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import sys
from typing import BinaryIO

MAX_LINE_BYTES = 64 * 1024 * 1024
"""The largest message the client may send (the gateway's own limit for a message is lower)."""


class LineTooLongError(Exception):
    """A line from the client past MAX_LINE_BYTES: it is dropped, the lines after it are read."""


def _is_stream(file: BinaryIO) -> bool:
    """Pipes, sockets and terminals can be read and written without blocking the event loop; files cannot."""
    try:
        mode = os.fstat(file.fileno()).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)


class ClientLines:
    """Lines from the client's stdin; None at end of file."""

    def __init__(self, source: BinaryIO | None = None) -> None:
        self._source = source or sys.stdin.buffer
        self._reader: asyncio.StreamReader | None = None

    async def open(self) -> None:
        if not _is_stream(self._source):
            return
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=MAX_LINE_BYTES)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), self._source)
        self._reader = reader

    async def next(self) -> bytes | None:
        if self._reader is None:
            line = await asyncio.to_thread(self._source.readline, MAX_LINE_BYTES + 1)
            if len(line) > MAX_LINE_BYTES:
                raise LineTooLongError
            return line or None
        try:
            line = await self._reader.readline()
        except ValueError:  # the limit was overrun; the reader has skipped what it held
            raise LineTooLongError from None
        return line or None


class ClientWriter:
    """Writes whole messages to stdout, one line each, one at a time."""

    def __init__(self, target: BinaryIO | None = None) -> None:
        self._target = target or sys.stdout.buffer
        self._transport: asyncio.WriteTransport | None = None
        self._protocol: asyncio.BaseProtocol | None = None
        self._lock = asyncio.Lock()
        self.closed = False

    async def open(self) -> None:
        if not _is_stream(self._target):
            return
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.connect_write_pipe(_DrainProtocol, self._target)
        self._transport, self._protocol = transport, protocol

    async def write(self, message: bytes) -> None:
        """`message` must be one line of JSON; a client that stopped reading ends the bridge (closed)."""
        async with self._lock:
            if self.closed:
                return
            try:
                if self._transport is None:
                    self._target.write(message + b"\n")
                    self._target.flush()
                    return
                if self._transport.is_closing():
                    self.closed = True
                    return
                self._transport.write(message + b"\n")
                assert isinstance(self._protocol, _DrainProtocol)
                await self._protocol.drain()
            except (BrokenPipeError, ConnectionResetError):
                self.closed = True

    def close(self) -> None:
        if self._transport is not None:
            with contextlib.suppress(OSError):
                self._transport.close()


class _DrainProtocol(asyncio.Protocol):
    """Flow control for the stdout pipe: writes wait while the client is not reading."""

    def __init__(self) -> None:
        self._resumed = asyncio.Event()
        self._resumed.set()
        self.lost = asyncio.Event()

    def pause_writing(self) -> None:
        self._resumed.clear()

    def resume_writing(self) -> None:
        self._resumed.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.set()
        self._resumed.set()

    async def drain(self) -> None:
        if self.lost.is_set():
            raise BrokenPipeError
        await self._resumed.wait()
