"""The SSE reader and the other pieces both HTTP upstream transports share."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from mcpstead.errors import UpstreamError, UpstreamRpcError
from mcpstead.upstream.base import DEFAULT_MESSAGE_BYTES
from mcpstead.upstream.wire import session_reset_reason, speaks_modern, sse_events, sse_message


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def events(*parts: bytes) -> list[tuple[str, str]]:
    return [event async for event in sse_events(chunks(*parts))]


async def test_events_survive_any_chunk_boundary() -> None:
    stream = b'event: message\r\ndata: {"a":\r\ndata: 1}\r\n\r\n: keepalive\n\ndata: two\n\n'
    expected = [("message", '{"a":\n1}'), ("message", "two")]
    for cut in range(1, len(stream)):
        assert await events(stream[:cut], stream[cut:]) == expected
    assert await events(*(bytes([b]) for b in stream)) == expected


async def test_event_names_comments_and_unterminated_tail() -> None:
    stream = b"event: endpoint\ndata:/messages?s=1\n\n:comment\nevent: ping\ndata: x\n\ndata: cut off"
    assert await events(stream) == [("endpoint", "/messages?s=1"), ("ping", "x")]


async def limited(limit: int, *parts: bytes) -> list[tuple[str, str]]:
    return [event async for event in sse_events(chunks(*parts), max_event_bytes=limit)]


async def test_an_endless_line_is_refused_before_it_ends() -> None:
    with pytest.raises(ValueError, match="larger than 10 bytes"):
        await limited(10, b"data: " + b"x" * 20)


async def test_an_event_of_many_lines_is_refused_when_they_add_up() -> None:
    with pytest.raises(ValueError, match="larger than 50 bytes"):
        await limited(50, *[b"data: 0123456789\n"] * 10)


async def test_events_under_the_limit_pass_and_the_count_starts_again_for_each() -> None:
    stream = b"data: 0123456789\ndata: 0123456789\n\n" * 5
    assert await limited(60, stream) == [("message", "0123456789\n0123456789")] * 5


async def test_the_default_limit_is_the_modules() -> None:
    assert sse_events.__defaults__ == (DEFAULT_MESSAGE_BYTES,)


async def test_a_stream_split_at_every_byte_gives_the_same_events() -> None:
    stream = b': hi\r\nevent: message\r\ndata: {"a":\r\ndata:  1}\r\n\r\nid: 7\ndata: x\n\ndata: \xc3\xa9\n\n'
    whole = await events(stream)
    assert whole == [("message", '{"a":\n 1}'), ("message", "x"), ("message", "\u00e9")]
    for cut in range(1, len(stream)):
        assert await events(stream[:cut], stream[cut:]) == whole
    assert await events(*(stream[i : i + 1] for i in range(len(stream)))) == whole


async def test_a_lone_cr_ends_a_line_and_a_split_crlf_is_one_line_end() -> None:
    stream = b"event: message\rdata: one\r\rdata: two\r\n\r\ndata: three\n\r\n"
    whole = await events(stream)
    assert whole == [("message", "one"), ("message", "two"), ("message", "three")]
    for cut in range(1, len(stream)):
        assert await events(stream[:cut], stream[cut:]) == whole
    assert await events(*(stream[i : i + 1] for i in range(len(stream)))) == whole
    assert await events(b"data: a\r", b"", b"\ndata: b\n\n") == [("message", "a\nb")]


@pytest.mark.parametrize(
    ("kind", "data", "normalize", "expected"),
    [
        ("message", '{"jsonrpc":"2.0","id":1,"result":{}}', False, {"jsonrpc": "2.0", "id": 1, "result": {}}),
        ("ping", "{}", False, None),
        ("message", "  ", False, None),
        ("message", "[DONE]", False, None),
        ("result", '{"id":1}', False, None),
        ("result", '{"id":1}', True, {"id": 1}),
        ("result", "not json", True, None),
        ("message", "[1, 2]", False, None),
    ],
)
def test_sse_message(kind: str, data: str, normalize: bool, expected: object) -> None:
    assert sse_message("up", kind, data, normalize) == expected


def test_sse_message_errors() -> None:
    with pytest.raises(UpstreamError, match="SSE error event: boom"):
        sse_message("up", "error", "boom", False)
    with pytest.raises(UpstreamError, match="SSE message data is not valid JSON"):
        sse_message("up", "message", "{nope", False)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (UpstreamError("u", "upstream 'u' HTTP 404: nothing here", status=404), "unknown_session"),
        (UpstreamError("u", "upstream 'u' HTTP 401: session expired", status=401), "expired"),
        (UpstreamError("u", "upstream 'u' HTTP 403: Session terminated", status=403), "terminated"),
        (UpstreamError("u", "upstream 'u' HTTP 410: unknown MCP session", status=410), "unknown_session"),
        (UpstreamError("u", "upstream 'u' HTTP 401: bad token", status=401), None),
        (UpstreamError("u", "upstream 'u' HTTP 500: session expired", status=500), None),
        (UpstreamRpcError("u", {"code": -32001, "message": "Session not found"}), "unknown_session"),
        (UpstreamRpcError("u", {"code": -32001, "message": "session expired"}), "expired"),
        (UpstreamRpcError("u", {"code": -32602, "message": "session expired"}), None),
    ],
)
def test_session_reset_reason(error: UpstreamError, expected: str | None) -> None:
    assert session_reset_reason(error) == expected


@pytest.mark.parametrize(
    ("body_error", "modern"),
    [
        (None, False),
        ({"code": -32601, "message": "initialize does not exist in 2026-07-28"}, True),
        ({"code": -32022, "message": "Unsupported protocol version"}, True),
        ({"code": -32000, "message": "Bad Request: no session", "data": {"supported": ["2026-07-28"]}}, True),
        ({"code": -32000, "message": "Bad Request: Server not initialized"}, False),
        ({"code": -32602, "message": "Unsupported protocol version", "data": {"supported": ["2024-11-05"]}}, False),
    ],
)
def test_speaks_modern(body_error: dict[str, object] | None, modern: bool) -> None:
    error = UpstreamError("u", "upstream 'u' HTTP 404: ...", status=404, body_error=body_error)
    assert speaks_modern(error) is modern
