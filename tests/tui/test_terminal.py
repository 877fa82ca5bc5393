"""A dashboard whose terminal goes away (window closed, ssh dropped) stops the process instead of hanging."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui import terminal

DRAW_TIMEOUT = 15.0
EXIT_TIMEOUT = 15.0


def test_a_closed_pty_is_hung_up() -> None:
    master, slave = pty.openpty()
    try:
        assert not terminal.hung_up(slave)
        os.close(master)
        assert terminal.hung_up(slave)
        assert not terminal.hung_up(None)  # no terminal at start (headless): never "lost"
    finally:
        os.close(slave)


def test_mute_turns_driver_output_into_no_ops() -> None:
    class Driver:
        _writer_thread: object | None = object()

        def write(self, data: str) -> None:
            raise AssertionError("wrote to a dead terminal")

        def flush(self) -> None:
            raise AssertionError("flushed a dead terminal")

    driver = Driver()
    terminal.mute(driver)
    driver.write("\x1b[?1049l")
    driver.flush()
    assert driver._writer_thread is None


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX terminals only")
def test_mcpstead_dev_exits_when_its_terminal_closes(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("port: 0\nservers: []\n")
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "mcpstead", "dev", "--config", str(config)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"},
    )
    os.close(slave)
    try:
        screen = b""
        deadline = time.monotonic() + DRAW_TIMEOUT
        while b"Upstreams" not in screen:
            assert time.monotonic() < deadline, "the dashboard never drew"
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                screen += os.read(master, 65536)
        os.close(master)  # the terminal goes away
        master = -1
        assert process.wait(timeout=EXIT_TIMEOUT) is not None
    finally:
        if master >= 0:
            os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
