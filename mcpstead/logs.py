"""Logging setup: stderr (plain or JSON) when headless; an in-memory ring when a dashboard owns the terminal."""

from __future__ import annotations

import json
import logging
import sys
from collections import deque

from mcpstead.state import LogLineView

LEVELS = {
    "trace": logging.DEBUG,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}
RING_SIZE = 2000


class LogRing(logging.Handler):
    """Keeps the last log lines in memory for the dashboard, which must own the terminal alone."""

    def __init__(self, maxlen: int = RING_SIZE) -> None:
        super().__init__()
        self.lines: deque[LogLineView] = deque(maxlen=maxlen)
        self._seq = 0

    def emit(self, record: logging.LogRecord) -> None:
        self._seq += 1
        self.lines.append(LogLineView(self._seq, record.created, record.levelname, record.name, record.getMessage()))

    def after(self, seq: int) -> tuple[LogLineView, ...]:
        """Lines newer than `seq`, oldest first."""
        if not self.lines or self.lines[-1].seq <= seq:
            return ()
        start = max(0, len(self.lines) - (self.lines[-1].seq - seq))
        return tuple(self.lines[i] for i in range(start, len(self.lines)))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        document = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, ensure_ascii=False)


def setup_logging(level: str, log_format: str = "plain", ring: LogRing | None = None) -> None:
    """Route the `mcpstead` loggers: to `ring` when given (dashboard mode), else to stderr."""
    root = logging.getLogger("mcpstead")
    root.handlers.clear()
    root.setLevel(LEVELS.get(level, logging.INFO))
    root.propagate = False
    handler: logging.Handler
    if ring is not None:
        handler = ring
    else:
        handler = logging.StreamHandler(sys.stderr)
        if log_format == "json":
            handler.setFormatter(JsonFormatter())
        else:
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root.addHandler(handler)
