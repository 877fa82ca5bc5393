"""Pure text formatting for the dashboard: one place decides how states, times and sizes read.

Everything here returns rich `Text` (never markup strings), so names and error messages that contain
square brackets are shown literally.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from rich.text import Text

from mcpstead.state import CallOutcome, TransportShown, UpstreamStatus, short_session_id
from tui.runs import RunKind

STATUS_STYLES: dict[UpstreamStatus, str] = {
    "ready": "green",
    "connecting": "yellow",
    "backoff": "red",
    "failed": "bold red",
    "stopped": "dim",
}

OUTCOME_STYLES: dict[CallOutcome, str] = {
    "ok": "green",
    "tool_error": "yellow",
    "error": "red",
}

OUTCOME_LABELS: dict[CallOutcome, str] = {
    "ok": "ok",
    "tool_error": "tool error",
    "error": "error",
}

LEVEL_STYLES: dict[str, str] = {
    "DEBUG": "dim",
    "INFO": "green",
    "WARNING": "yellow",
    "ERROR": "red",
    "CRITICAL": "bold red",
}

TRANSPORT_LABELS: dict[TransportShown, str] = {
    "streamable-http": "http",
    "sse": "sse",
    "stdio": "stdio",
    "auto": "auto",
}

ERA_LABELS = {"legacy": "2025", "modern": "2026"}
"""2025: the handshake and sessions (2024-11-05 to 2025-11-25); 2026: 2026-07-28, stateless."""

ELLIPSIS = "…"


def one_line(value: str, limit: int) -> str:
    """First line of `value`, cut to `limit` characters with an ellipsis, so a cell stays one row high."""
    line = value.strip().splitlines()[0] if value.strip() else ""
    if len(line) > limit:
        return line[: max(limit - 1, 0)] + ELLIPSIS
    return line


def plain(value: str, limit: int = 200, style: str = "") -> Text:
    """A literal one-line cell (no markup parsing)."""
    return Text(one_line(value, limit), style=style, no_wrap=True, overflow="ellipsis", end="")


def number(value: int | float | None, *, decimals: int = 0, style: str = "") -> Text:
    """A right-aligned number cell; None reads as a dash."""
    if value is None:
        return Text("—", style="dim", justify="right", end="")
    shown = f"{value:.{decimals}f}" if decimals else str(value)
    return Text(shown, style=style, justify="right", end="")


def duration(seconds: float) -> str:
    """A compact human duration: 3s, 4m, 2h, 5d (whole units, rounded down)."""
    seconds = max(int(seconds), 0)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def ago(then: float | None, now: float) -> Text:
    """How long since `then`: "3s ago", or "never" when it has not happened."""
    if then is None:
        return Text("never", style="dim", end="")
    return Text(f"{duration(now - then)} ago", end="")


def uptime(started_at: float, now: float) -> str:
    """Uptime as H:MM:SS (with a day prefix past 24 h), so the header visibly ticks every second."""
    total = max(int(now - started_at), 0)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    clock = f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{days}d {clock}" if days else clock


def clock_time(when: float, tz: tzinfo | None) -> str:
    """Wall-clock HH:MM:SS in `tz` (None: the local zone)."""
    return datetime.fromtimestamp(when, tz).strftime("%H:%M:%S")


def status(value: UpstreamStatus) -> Text:
    """Coloured upstream status."""
    return Text(value, style=STATUS_STYLES.get(value, ""), end="")


def next_retry(value: UpstreamStatus, next_retry_at: float | None, now: float) -> Text:
    """When a backing-off upstream tries again ("in 8s"), else a dash."""
    if value != "backoff" or next_retry_at is None:
        return Text("—", style="dim", end="")
    return Text(f"in {duration(max(next_retry_at - now, 0))}", style="red", end="")


def level(name: str) -> Text:
    """A log level, coloured and padded to one width."""
    upper = name.upper()
    return Text(f"{upper:<7}", style=LEVEL_STYLES.get(upper, ""), end="")


def short_id(session_id: str) -> str:
    """A session id as the screen shows it (its instance prefix, then eight characters)."""
    return short_session_id(session_id)


def rate(per_second: float) -> str:
    """Calls per second with one decimal below 100."""
    return f"{per_second:.1f}" if per_second < 100 else f"{per_second:.0f}"


def outcome(value: CallOutcome) -> Text:
    """Coloured call outcome."""
    return Text(OUTCOME_LABELS.get(value, value), style=OUTCOME_STYLES.get(value, ""), end="")


def run_outcome(kind: RunKind) -> Text:
    """How a dashboard run ended: a call outcome, or "cancelled"."""
    if kind == "cancelled":
        return Text("cancelled", style="yellow", end="")
    return outcome(kind)


def transport(value: TransportShown) -> Text:
    """Short transport name, to keep the upstream table narrow."""
    return Text(TRANSPORT_LABELS.get(value, value), end="")


def era(value: str | None) -> Text:
    """The protocol era an upstream speaks, by the year of its revisions ("" until it is known)."""
    return Text(ERA_LABELS.get(value or "", ""), end="")


def qualified(name: str, limit: int = 60) -> Text:
    """A qualified tool name with its `<server>__` prefix dimmed, so the tool's own name stands out."""
    shown = one_line(name, limit)
    prefix, sep, rest = shown.partition("__")
    if not sep:
        return Text(shown, no_wrap=True, end="")
    return Text.assemble((prefix + sep, "dim"), rest, no_wrap=True, end="")


def reload_changes(
    added: tuple[str, ...], removed: tuple[str, ...], restarted: tuple[str, ...], updated: tuple[str, ...]
) -> str:
    """What a successful reload changed, in one line: "added a, b; restarted c" or "no changes"."""
    parts = [
        f"{label} {', '.join(names)}"
        for label, names in (("added", added), ("removed", removed), ("restarted", restarted), ("updated", updated))
        if names
    ]
    return "; ".join(parts) if parts else "no changes"
