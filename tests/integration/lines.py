"""Bounded waits for a child process's output lines (a plain readline() can block forever)."""

from __future__ import annotations

import os
import re
import select
import time
from typing import IO, Any


class LineReader:
    """Reads a child's pipe with select() and os.read(), so every wait has a deadline."""

    def __init__(self, stream: IO[Any]) -> None:
        self._fd = stream.fileno()
        self._buffer = b""
        self._ended = False
        self.lines: list[str] = []
        self._next = 0

    def wait_for(self, pattern: str, timeout: float = 20) -> re.Match[str]:
        """The first line after the previous match that matches `pattern`; fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            while self._next < len(self.lines):
                line = self.lines[self._next]
                self._next += 1
                match = re.search(pattern, line)
                if match:
                    return match
            remaining = deadline - time.monotonic()
            if self._ended or remaining <= 0:
                raise AssertionError(f"no line matching {pattern!r} within {timeout}s; got {self.lines!r}")
            self._read(remaining)

    def rest(self, timeout: float = 10) -> str:
        """Everything the child wrote, reading to the end of the stream (bounded)."""
        deadline = time.monotonic() + timeout
        while not self._ended and time.monotonic() < deadline:
            self._read(deadline - time.monotonic())
        return "\n".join(self.lines + ([self._buffer.decode(errors="replace")] if self._buffer else []))

    def _read(self, timeout: float) -> None:
        ready, _, _ = select.select([self._fd], [], [], max(0.0, timeout))
        if not ready:
            return
        chunk = os.read(self._fd, 65536)
        if not chunk:
            self._ended = True
            return
        *complete, self._buffer = (self._buffer + chunk).split(b"\n")
        self.lines.extend(line.decode(errors="replace") for line in complete)
