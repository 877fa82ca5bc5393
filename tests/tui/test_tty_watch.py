"""The watchdog that ends a dashboard whose terminal is gone: Textual's writer thread ends on the hangup,
and the app, blocked on its queue, can never finish (seen: a `mcpstead dev` left running after its tmux
session was killed, stuck in WriterThread.stop)."""

from __future__ import annotations

import threading
import time

from tui.frontend import EXIT_TERMINAL_GONE, WRITER_THREAD, exit_if_stuck


def writer_for(seconds: float) -> threading.Thread:
    thread = threading.Thread(target=time.sleep, args=(seconds,), name=WRITER_THREAD, daemon=True)
    thread.start()
    return thread


def watch(finished: threading.Event, exits: list[int], stopping: threading.Event | None = None) -> threading.Thread:
    flag = stopping or threading.Event()
    thread = threading.Thread(
        target=exit_if_stuck, args=(finished, flag.is_set), kwargs={"grace": 0.3, "poll": 0.02, "exit": exits.append}
    )
    thread.start()
    return thread


def test_an_app_that_cannot_finish_after_its_writer_ended_is_exited() -> None:
    finished, exits = threading.Event(), list[int]()
    writer_for(0.1)
    watcher = watch(finished, exits)
    watcher.join(timeout=5)
    assert not watcher.is_alive()
    assert exits == [EXIT_TERMINAL_GONE]


def test_an_app_that_finishes_in_time_is_left_alone() -> None:
    finished, exits = threading.Event(), list[int]()
    writer = writer_for(0.1)
    watcher = watch(finished, exits)
    writer.join(timeout=5)
    time.sleep(0.1)
    finished.set()  # the app's own shutdown, within the grace
    watcher.join(timeout=5)
    assert exits == []


def test_no_writer_thread_no_exit() -> None:
    finished, exits = threading.Event(), list[int]()
    watcher = watch(finished, exits)
    time.sleep(0.5)
    finished.set()
    watcher.join(timeout=5)
    assert exits == []


def test_an_app_stuck_in_its_shutdown_with_a_writer_alive_is_exited() -> None:
    """The second case seen: the gateway stopping, the app blocked in WriterThread.stop while another writer
    thread still waits on its queue."""
    finished, exits, stopping = threading.Event(), list[int](), threading.Event()
    writer_for(3.0)
    watcher = watch(finished, exits, stopping)
    time.sleep(0.1)
    stopping.set()
    watcher.join(timeout=5)
    assert exits == [EXIT_TERMINAL_GONE]


def test_a_stopping_app_that_finishes_in_time_is_left_alone() -> None:
    finished, exits, stopping = threading.Event(), list[int](), threading.Event()
    watcher = watch(finished, exits, stopping)
    stopping.set()
    time.sleep(0.1)
    finished.set()
    watcher.join(timeout=5)
    assert exits == []
