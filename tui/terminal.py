"""Noticing that the terminal has gone (window closed, ssh dropped), and letting Textual stop without it.

Textual 8.2.8's Linux driver does not handle a hung-up terminal: its input thread spins on end-of-file,
its writer thread dies on the first EIO, and once the writer's bounded queue is full the next write
blocks the event loop for good, gateway included. The dashboard checks the terminal on every poll and,
when it is gone, mutes the driver's output before exiting, so the normal stop order can run.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def terminal_fd() -> int | None:
    """The file descriptor Textual reads keys from, when it is a terminal."""
    stdin = sys.__stdin__
    try:
        fd = stdin.fileno() if stdin is not None else None
    except (OSError, ValueError):
        return None
    return fd if fd is not None and os.isatty(fd) else None


def hung_up(fd: int | None) -> bool:
    """True once a descriptor that was a terminal no longer is one (a hung-up tty fails isatty)."""
    return fd is not None and not os.isatty(fd)


def mute(driver: Any) -> None:
    """Make a Textual driver's writes no-ops and drop its (possibly dead) writer thread.

    Nothing can be shown any more; this only lets `stop_application_mode()` and `close()` finish
    instead of blocking on a queue nobody drains.
    """
    if driver is None:
        return
    driver.write = _discard
    driver.flush = _nothing
    if hasattr(driver, "_writer_thread"):
        driver._writer_thread = None


def _discard(data: str) -> None:
    return None


def _nothing() -> None:
    return None
