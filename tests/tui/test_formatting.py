"""How states, times and long strings read in the dashboard."""

from __future__ import annotations

from datetime import UTC

from tui import formatting


def test_ago_and_never() -> None:
    assert formatting.ago(None, 100).plain == "never"
    assert formatting.ago(97, 100).plain == "3s ago"
    assert formatting.ago(100 - 125, 100).plain == "2m ago"
    assert formatting.ago(100 - 7200, 100).plain == "2h ago"
    assert formatting.ago(105, 100).plain == "0s ago"  # a clock step back is not "-5s"


def test_uptime_ticks_in_seconds() -> None:
    assert formatting.uptime(0, 59) == "0:00:59"
    assert formatting.uptime(0, 3723) == "1:02:03"
    assert formatting.uptime(0, 2 * 86400 + 5) == "2d 0:00:05"


def test_status_colours_and_backoff_countdown() -> None:
    assert formatting.status("ready").style == "green"
    assert formatting.status("connecting").style == "yellow"
    assert formatting.status("failed").style == "bold red"
    assert formatting.status("stopped").style == "dim"
    assert (formatting.status("backoff").plain, formatting.status("backoff").style) == ("backoff", "red")
    assert formatting.next_retry("backoff", 12.0, 4.0).plain == "in 8s"
    assert formatting.next_retry("backoff", 2.0, 4.0).plain == "in 0s"
    assert formatting.next_retry("ready", 12.0, 4.0).plain == "—"


def test_reload_changes_in_one_line() -> None:
    assert formatting.reload_changes((), (), (), ()) == "no changes"
    assert formatting.reload_changes(("a", "b"), (), ("c",), ()) == "added a, b; restarted c"


def test_long_and_multiline_text_stays_one_short_line() -> None:
    assert formatting.one_line("first\nsecond", 20) == "first"
    assert formatting.one_line("x" * 30, 10) == "x" * 9 + "…"
    assert formatting.one_line("", 10) == ""
    assert formatting.plain("[bold]not markup[/]").plain == "[bold]not markup[/]"


def test_qualified_name_dims_the_server_prefix() -> None:
    text = formatting.qualified("github__search_issues")
    assert text.plain == "github__search_issues"
    assert [(span.start, span.end, span.style) for span in text.spans] == [(0, 8, "dim")]


def test_clock_time_uses_the_given_zone() -> None:
    assert formatting.clock_time(1_700_000_000.0, UTC) == "22:13:20"
