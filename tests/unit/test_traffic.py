"""The traffic tap, its ring, capture files and the SSE splitter of the client-hop tap."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from mcpstead.capture import CaptureFile, encode_line, read_capture
from mcpstead.downstream.tap import SseSplitter
from mcpstead.errors import CaptureError
from mcpstead.state import TrafficRecord
from mcpstead.traffic import Traffic, TrafficRing, detach


def record(seq: int, data: bytes = b'{"jsonrpc":"2.0","id":1,"result":{}}', **fields: object) -> TrafficRecord:
    base: dict[str, object] = {
        "seq": seq,
        "at": 1_700_000_000.25,
        "hop": "client",
        "direction": "in",
        "session": "abcd1234",
        "upstream": None,
        "call": 1,
        "size": len(data),
        "data": data,
    }
    base.update(fields)
    return TrafficRecord(**base)  # type: ignore[arg-type]


def test_nothing_is_recorded_while_nothing_listens() -> None:
    traffic = Traffic(lambda: 1.0)
    assert not traffic.active
    seen: list[TrafficRecord] = []
    stop = traffic.add_sink(seen.append)
    assert traffic.active
    traffic.upstream("up", "sent", b'{"id": 1}\n')
    stop()
    assert not traffic.active
    traffic.upstream("up", "sent", b"{}")
    assert [(r.hop, r.direction, r.upstream, r.data, r.size) for r in seen] == [
        ("upstream", "out", "up", b'{"id": 1}', 10)
    ]


async def test_upstream_messages_carry_the_call_of_their_task_and_readers_carry_none() -> None:
    traffic = Traffic(lambda: 1.0)
    seen: list[TrafficRecord] = []
    traffic.add_sink(seen.append)

    async def request() -> None:
        link = traffic.begin_call("sess")
        traffic.client("in", b"{}", link)
        traffic.upstream("up", "sent", "{}")
        await asyncio.create_task(reader())  # a task started from a request, as a reader may be

    async def reader() -> None:
        detach()
        traffic.upstream("up", "received", b"{}")

    await asyncio.create_task(request())
    traffic.upstream("up", "received", b"{}")  # outside any request
    assert [(r.hop, r.direction, r.session, r.call) for r in seen] == [
        ("client", "in", "sess", 1),
        ("upstream", "out", "sess", 1),
        ("upstream", "in", None, None),
        ("upstream", "in", None, None),
    ]


def test_the_ring_keeps_the_newest_within_its_bounds_and_cuts_big_messages() -> None:
    ring = TrafficRing(messages=3, max_bytes=1000, message_bytes=10)
    for seq in range(1, 6):
        ring(record(seq, b"x" * 4))
    assert [r.seq for r in ring.since(0)] == [3, 4, 5]
    assert [r.seq for r in ring.since(4)] == [5]
    ring(record(6, b"y" * 50))
    newest = ring.since(5)[0]
    assert newest.cut and newest.data == b"y" * 10 and newest.size == 50
    by_bytes = TrafficRing(messages=100, max_bytes=20, message_bytes=10)
    for seq in range(1, 6):
        by_bytes(record(seq, b"z" * 8))
    assert [r.seq for r in by_bytes.since(0)] == [4, 5] and by_bytes.held_bytes == 16


def test_a_capture_line_is_one_json_object_holding_the_message() -> None:
    pretty = b'{\n  "jsonrpc": "2.0",\r\n  "method": "ping"\n}'
    line = encode_line(record(7, pretty, hop="upstream", direction="out", upstream="up", session=None))
    assert line.endswith(b"}\n") and line.count(b"\n") == 1
    parsed = json.loads(line)
    assert parsed["message"] == {"jsonrpc": "2.0", "method": "ping"}
    assert parsed["ts"] == "2023-11-14T22:13:20.250000Z"
    assert (parsed["hop"], parsed["direction"], parsed["upstream"], parsed["seq"]) == ("upstream", "out", "up", 7)
    broken = json.loads(encode_line(record(8, b"not json \xff")))
    assert broken["text"] == "not json \ufffd" and "message" not in broken


def test_a_capture_reads_back_as_the_records_it_was_made_of(tmp_path: Path) -> None:
    path = tmp_path / "cap.jsonl"
    capture = CaptureFile(path, max_bytes=1_000_000, keep=2)
    written = [
        record(1, b'{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"x"}}'),
        record(2, b'{"jsonrpc":"2.0","id":5,"method":"tools/call"}', hop="upstream", direction="out", upstream="u"),
        record(3, b"garbage", hop="upstream", direction="in", upstream="u", call=None),
    ]
    for item in written:
        capture(item)
    capture.close()
    read = read_capture([path])
    assert [(r.seq, r.hop, r.direction, r.session, r.upstream, r.call, r.at) for r in read] == [
        (r.seq, r.hop, r.direction, r.session, r.upstream, r.call, r.at) for r in written
    ]
    assert [json.loads(r.data) for r in read[:2]] == [json.loads(r.data) for r in written[:2]]
    assert read[2].data == b"garbage"


def test_a_capture_rotates_by_size_keeping_the_newest_files(tmp_path: Path) -> None:
    path = tmp_path / "cap.jsonl"
    one = len(encode_line(record(1)))
    capture = CaptureFile(path, max_bytes=one * 2, keep=2)
    for seq in range(1, 8):
        capture(record(seq, f'{{"id":{seq}}}'.encode()))
    capture.close()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["cap.jsonl", "cap.jsonl.1", "cap.jsonl.2"]
    ids = [[json.loads(r.data)["id"] for r in read_capture([tmp_path / name])] for name in files[::-1]]
    assert ids == [[3, 4], [5, 6], [7]]
    together = read_capture([tmp_path / name for name in files[::-1]])
    assert [r.seq for r in together] == [1, 2, 3, 4, 5] and (path.stat().st_mode & 0o777) == 0o600


def test_runs_appended_to_one_file_read_back_apart(tmp_path: Path) -> None:
    path = tmp_path / "cap.jsonl"
    for _run in range(2):  # each run of the gateway numbers messages and calls from 1 again
        capture = CaptureFile(path, 1_000_000, 1)
        capture(record(1, call=1))
        capture(record(2, call=1))
        capture.close()
    read = read_capture([path])
    assert [(r.seq, r.call) for r in read] == [(1, 1), (2, 1), (3, 2), (4, 2)]


def test_only_utf8_json_is_spliced_into_a_line() -> None:
    for odd in (b"\xef\xbb\xbf{}", '{"a": 1}'.encode("utf-16"), b"42"):
        line = json.loads(encode_line(record(1, odd)))
        assert "text" in line and "message" not in line


def test_what_is_not_strict_json_is_kept_as_text_so_every_line_is_json(tmp_path: Path) -> None:
    """Python's json takes NaN, Infinity and lone surrogates; spliced in, they would make a line that strict
    JSON readers (jq, another language) refuse. Too deep a message would not read back either."""
    odd = [b'{"a":NaN}', b'{"a":-Infinity}', b'{"a":1e400}', b'{"a":"\\ud800"}', b"[" * 1100 + b"]" * 1100]
    for data in odd:
        line = encode_line(record(1, data))
        assert b"message" not in line
        json.loads(line, parse_constant=lambda name: pytest.fail(f"{name} in a capture line"))
    path = tmp_path / "capture.jsonl"
    capture = CaptureFile(path, 1 << 20, 0)
    for seq, data in enumerate(odd, 1):
        capture(record(seq, data))
    capture.close()
    assert [r.data for r in read_capture([path])] == odd
    fine = b'{"jsonrpc":"2.0","id":1,"result":{"n":123456789012345678901234567890,"s":"\\ud83d\\ude00"}}'
    assert json.loads(encode_line(record(9, fine)))["message"]["result"]["n"] == 123456789012345678901234567890


def test_capture_errors_name_the_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="cannot write the capture file"):
        CaptureFile(tmp_path / "missing" / "cap.jsonl", 1000, 1)
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(encode_line(record(1)) + b'{"seq": 2}\n')
    with pytest.raises(CaptureError, match=r"bad.jsonl:2: not a capture record"):
        read_capture([bad])
    with pytest.raises(CaptureError, match="cannot read"):
        read_capture([tmp_path / "nope.jsonl"])


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a disk that is always full)")
def test_a_full_disk_stops_the_capture_and_says_why() -> None:
    capture = CaptureFile(Path("/dev/full"), 1_000_000, 0)
    capture(record(1))
    capture.flush()
    assert capture.failed is not None and "No space left" in capture.failed
    capture(record(2))  # ignored from now on, never raises
    capture.close()
    assert capture.lines == 1


def test_the_sse_splitter_yields_each_event_data_across_chunks() -> None:
    splitter = SseSplitter()
    assert splitter.feed(b': stream open\n\nevent: message\ndata: {"a"') == []
    assert splitter.feed(b":1}\n\nevent: message\ndata: {}\n\n: keepalive\n\n") == [b'{"a":1}', b"{}"]
