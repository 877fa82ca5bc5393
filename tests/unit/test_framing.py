"""negotiate_framing: the Accept header decides JSON, SSE or 406."""

from __future__ import annotations

import pytest

from mcpstead.downstream.mcp import accepts_event_stream, negotiate_framing


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "",
        "   ",
        "*/*",
        "application/json",
        "application/*",
        "application/json, text/event-stream",
        "text/event-stream, application/json",
        "text/event-stream;q=0.5, application/json",
        "APPLICATION/JSON",
        "text/html, */*;q=0.1",
        "application/json; charset=utf-8",
    ],
)
def test_json(accept: str | None) -> None:
    assert negotiate_framing(accept) == "json"


@pytest.mark.parametrize(
    "accept",
    [
        "text/event-stream",
        "text/event-stream;q=1",
        "TEXT/EVENT-STREAM",
        "text/event-stream, */*",
        "text/event-stream, text/html",
    ],
)
def test_sse(accept: str) -> None:
    assert negotiate_framing(accept) == "sse"


def test_json_refused_with_q0_gives_sse() -> None:
    # Deliberately not the reference (which did substring matching and answered JSON): q=0 means
    # "not acceptable", so the only type the client takes is the event stream.
    assert negotiate_framing("application/json;q=0, text/event-stream") == "sse"
    assert negotiate_framing("application/json; q=0.0, text/event-stream") == "sse"


@pytest.mark.parametrize(
    "accept",
    [
        "text/html",
        "application/xml",
        "text/plain, image/png",
        "application/json;q=0",
        "*/*;q=0",
        "text/event-stream;q=0",
    ],
)
def test_not_acceptable(accept: str) -> None:
    assert negotiate_framing(accept) is None


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/event-stream", True),
        ("*/*", True),
        ("text/*", True),
        ("application/json, text/event-stream", True),
        ("application/json", False),
        ("text/event-stream;q=0", False),
        (None, False),
    ],
)
def test_accepts_event_stream(accept: str | None, expected: bool) -> None:
    assert accepts_event_stream(accept) is expected
