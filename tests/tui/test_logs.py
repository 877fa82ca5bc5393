"""The Logs tab: new gateway lines and stderr are appended once, and filtered by level, source and text."""

from __future__ import annotations

import dataclasses

from textual.pilot import Pilot

from tests.tui.fakes import FakeView, snapshot, two_upstreams, upstream
from tests.tui.helpers import dashboard, toasts, wait_until
from tui.widgets.logs import LogPanel, StderrRecord, guess_level, unseen


def panel(pilot: Pilot[None]) -> LogPanel:
    return dashboard(pilot).logs


def shown(pilot: Pilot[None]) -> list[str]:
    return [entry.message for entry in panel(pilot).shown]


def with_stderr(*lines: str, seq: int | None = None) -> tuple[object, ...]:
    github, files = two_upstreams().upstreams
    return (github, dataclasses.replace(files, stderr_tail=lines, stderr_seq=len(lines) if seq is None else seq))


async def test_new_log_lines_are_appended_once(pilot: Pilot[None], view: FakeView) -> None:
    logs = panel(pilot)
    view.log("INFO", "listening on http://127.0.0.1:8080/mcp")
    view.log("DEBUG", "tools/list refreshed", "mcpstead.upstream.supervisor")
    await wait_until(pilot, lambda: len(logs.entries) == 2)
    assert logs.log_view.lines == []  # a hidden tab queues nothing in the RichLog
    await pilot.press("3")
    await wait_until(pilot, lambda: len(logs.log_view.lines) == 2)

    def refuse() -> None:
        raise AssertionError("the log was rewritten instead of appended to")

    logs.log_view.clear = refuse  # type: ignore[method-assign,assignment]
    view.log("ERROR", "upstream files: process exited with code 1")
    await wait_until(pilot, lambda: len(logs.entries) == 3)
    assert shown(pilot) == [
        "listening on http://127.0.0.1:8080/mcp",
        "tools/list refreshed",
        "upstream files: process exited with code 1",
    ]
    assert [entry.origin for entry in logs.entries] == ["gateway", "supervisor", "gateway"]
    await wait_until(pilot, lambda: len(logs.log_view.lines) == 3)


async def test_level_filter_hides_lower_levels(pilot: Pilot[None], view: FakeView) -> None:
    for level in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        view.log(level, f"a {level.lower()} line")
    logs = panel(pilot)
    await wait_until(pilot, lambda: len(logs.entries) == 5)
    await pilot.press("3")
    await wait_until(pilot, lambda: pilot.app.focused is logs.log_view)
    await pilot.press("l", "l")  # debug → info → warning
    await wait_until(pilot, lambda: shown(pilot) == ["a warning line", "a error line", "a critical line"])
    assert len(logs.log_view.lines) == 3
    view.log("INFO", "new but too quiet")
    view.log("ERROR", "new and loud")
    await wait_until(pilot, lambda: len(logs.entries) == 7)
    assert shown(pilot)[-1] == "new and loud"
    assert "new but too quiet" not in shown(pilot)
    logs.set_level("debug")
    await wait_until(pilot, lambda: len(shown(pilot)) == 7)


async def test_stderr_tails_are_diffed_and_can_be_shown_alone(pilot: Pilot[None], view: FakeView) -> None:
    logs = panel(pilot)
    view.log("INFO", "gateway line")
    view.publish(snapshot(with_stderr("Traceback (most recent call last):", "ModuleNotFoundError: fsserver")))  # type: ignore[arg-type]
    await wait_until(pilot, lambda: len(logs.entries) == 3)
    view.publish(snapshot(with_stderr("ModuleNotFoundError: fsserver", "retrying", "warning: slow disk", seq=4)))  # type: ignore[arg-type]
    await wait_until(pilot, lambda: len(logs.entries) == 5)
    stderr = [e for e in logs.entries if e.source == "stderr:files"]
    assert [e.message for e in stderr] == [
        "Traceback (most recent call last):",
        "ModuleNotFoundError: fsserver",
        "retrying",
        "warning: slow disk",
    ]
    assert [e.level for e in stderr] == ["ERROR", "ERROR", "INFO", "WARNING"]  # the traceback is one record
    assert stderr[0].origin == "files:stderr"

    logs.set_source("stderr:files")
    await wait_until(pilot, lambda: len(shown(pilot)) == 4)
    logs.set_source("gateway")
    await wait_until(pilot, lambda: shown(pilot) == ["gateway line"])


async def test_the_slash_filter_applies_to_log_lines(pilot: Pilot[None], view: FakeView) -> None:
    view.log("INFO", "session 1a2b opened by cursor")
    view.log("INFO", "session 9f8e opened by claude-code")
    await wait_until(pilot, lambda: len(panel(pilot).entries) == 2)
    dashboard(pilot).filter_input.value = "CURSOR"
    await wait_until(pilot, lambda: shown(pilot) == ["session 1a2b opened by cursor"])


async def test_a_view_without_logs_is_one_warning_not_a_crash(pilot: Pilot[None], view: FakeView) -> None:
    def broken(after_seq: int = 0) -> tuple[()]:
        raise AttributeError("no log ring")

    view.log_lines = broken  # type: ignore[method-assign]
    await wait_until(pilot, lambda: any("log lines unavailable" in m for m in toasts(pilot)))
    view.publish(snapshot((upstream("alpha"),)))
    await wait_until(pilot, lambda: dashboard(pilot).upstreams.keys == ["alpha"])
    assert sum("log lines unavailable" in m for m in toasts(pilot)) == 1


def test_unseen_counts_lines_even_when_they_repeat() -> None:
    assert unseen(("a", "b"), seq=2, seen=0) == ("a", "b")
    assert unseen(("a", "b"), seq=2, seen=2) == ()
    assert unseen(("b", "c", "c"), seq=4, seen=3) == ("c",)  # a repeated line is still new
    assert unseen(("c", "d"), seq=10, seen=2) == ("c", "d")  # a flood: only the tail is left to show
    assert unseen(("x",), seq=1, seen=5) == ("x",)  # a new upstream of the same name after a reload


def test_guess_level_reads_common_words() -> None:
    assert guess_level("Traceback (most recent call last):") == "ERROR"
    assert guess_level("WARNING: deprecated option") == "WARNING"
    assert guess_level("fatal: cannot open") == "CRITICAL"
    assert guess_level("debug: cache hit") == "DEBUG"
    assert guess_level("ready on stdio") == "INFO"


def test_a_traceback_is_one_error_record_whatever_its_lines_say() -> None:
    record = StderrRecord()
    lines = [
        "starting up",
        "Traceback (most recent call last):",
        '  File "server.py", line 3, in <module>',
        "    import fsserver",
        "ModuleNotFoundError: No module named 'fsserver'",
        "ready on stdio",
        "error: bad config",
        "  at line 4",
    ]
    assert [record.level_of(line) for line in lines] == [
        "INFO", "ERROR", "ERROR", "ERROR", "ERROR", "INFO", "ERROR", "ERROR",
    ]  # fmt: skip
