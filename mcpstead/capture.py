"""Capture files: the traffic tap's records as JSON lines, rotated by size, and read back by `mcpstead view`.

One line per message: `ts` (ISO 8601, UTC), `seq`, `hop`, `direction`, `session`, `upstream`, `call`,
`size` and `message` (the JSON-RPC message itself), or `text` for bytes that are not JSON (what a broken
upstream sent). Records carry no HTTP header, so no Authorization or secret header value can reach a file;
sessions appear by a short id. Lines go through a 1 MiB buffer, written out when it fills, by `flush()` (the
runner calls it twice a second) and on close, so most messages cost the request path no system call. The
file is created readable by its owner only: it holds whole tool arguments and results.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

import orjson

from mcpstead.errors import CaptureError
from mcpstead.state import TrafficRecord

BUFFER_BYTES = 1024 * 1024
FIELDS = ("seq", "hop", "direction", "session", "upstream", "call", "size")


def encode_line(record: TrafficRecord) -> bytes:
    """The record as one JSON line; the message's own bytes are spliced in when they are JSON.

    Built by hand (this runs for every message while capturing): the fixed fields need no escaping, the
    session and upstream go through json.dumps, and only what arrived from outside is checked to be JSON
    (what the gateway itself wrote always is). The check is orjson's strict parser: a quarter of json's
    time, and it refuses what would make the line something other than JSON (NaN, Infinity, a number past a
    double, a lone surrogate, a BOM) or deeper than a reader can take back (1024 levels); such bytes are
    kept as text."""
    call = "null" if record.call is None else str(record.call)
    cut = ',"cut":true' if record.cut else ""
    head = (
        f'{{"ts":"{_iso(record.at)}","seq":{record.seq},"hop":"{record.hop}","direction":"{record.direction}",'
        f'"session":{_text_json(record.session)},"upstream":{_text_json(record.upstream)},"call":{call},'
        f'"size":{record.size}{cut}'
    ).encode()
    if record.direction == "in":
        try:
            orjson.loads(record.data)
            if record.data[:1] not in (b"{", b"["):
                raise ValueError("not a JSON-RPC message")
        except ValueError:  # orjson.JSONDecodeError is one
            text = json.dumps(record.data.decode(errors="replace"), ensure_ascii=False).encode()
            return head + b',"text":' + text + b"}\n"
    # Inside valid JSON a raw CR or LF can only be whitespace between tokens: a space keeps it one line.
    message = record.data.replace(b"\r", b" ").replace(b"\n", b" ")
    return head + b',"message":' + message + b"}\n"


def _text_json(value: str | None) -> str:
    return "null" if value is None else json.dumps(value)


_second: tuple[int, str] = (-1, "")


def _iso(at: float) -> str:
    """ISO 8601 in UTC to the microsecond; the date and time of day are formatted once per second."""
    global _second
    micros = round(at * 1_000_000)
    second, fraction = divmod(micros, 1_000_000)
    if _second[0] != second:
        _second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return f"{_second[1]}.{fraction:06d}Z"


class CaptureFile:
    """Appends records to `path`; past `max_bytes` it becomes `path.1` (older ones move up to `path.<keep>`,
    the oldest is deleted) and a new `path` starts."""

    def __init__(self, path: Path, max_bytes: int, keep: int) -> None:
        self.path = path
        self._max_bytes = max_bytes
        self._keep = keep
        try:
            self._file: IO[bytes] = _open_private(path)
        except OSError as exc:
            raise CaptureError(f"cannot write the capture file {path}: {exc.strerror or exc}") from None
        self._written = self._file.tell()
        self.lines = 0
        self.failed: str | None = None
        """Why writing stopped (a full disk): the gateway goes on, the capture ends and says so."""

    def __call__(self, record: TrafficRecord) -> None:
        if self.failed is not None:
            return
        line = encode_line(record)
        try:
            if self._written and self._written + len(line) > self._max_bytes:
                self._rotate()
            self._file.write(line)
        except OSError as exc:
            self.failed = f"writing {self.path} failed: {exc.strerror or exc}"
            return
        self._written += len(line)
        self.lines += 1

    def _rotate(self) -> None:
        self._file.close()
        for index in range(self._keep, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{index}")
            if index == self._keep:
                older.unlink(missing_ok=True)
            newer = self.path if index == 1 else self.path.with_name(f"{self.path.name}.{index - 1}")
            if newer.exists():
                os.replace(newer, older)
        if self._keep == 0:
            self.path.unlink(missing_ok=True)
        self._file = _open_private(self.path)
        self._written = 0

    def flush(self) -> None:
        if self.failed is None:
            try:
                self._file.flush()
            except OSError as exc:
                self.failed = f"writing {self.path} failed: {exc.strerror or exc}"

    def close(self) -> None:
        self.flush()
        with contextlib.suppress(OSError):  # what a full disk kept in the buffer is lost (and was said)
            self._file.close()


def _open_private(path: Path) -> IO[bytes]:
    """Append to `path`, creating it with mode 0600."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab", buffering=BUFFER_BYTES)


def read_capture(paths: Iterable[Path]) -> list[TrafficRecord]:
    """Every record in these files, in the order given (oldest first), numbered anew: a file appended to by
    several runs starts its numbers again, and each run's call numbers are kept apart. A line that is not a
    capture record is an error naming the file and line (a capture is evidence: nothing is skipped)."""
    records: list[TrafficRecord] = []
    for path in paths:
        try:
            with open(path, "rb") as file:
                records.extend(_records(path, file))
        except OSError as exc:
            raise CaptureError(f"cannot read {path}: {exc.strerror or exc}") from None
    return _renumbered(records)


def _renumbered(records: list[TrafficRecord]) -> list[TrafficRecord]:
    renumbered: list[TrafficRecord] = []
    last_seq, calls_before, highest_call = 0, 0, 0
    for index, record in enumerate(records, 1):
        if record.seq <= last_seq:  # a new run of the gateway
            calls_before = highest_call
        last_seq = record.seq
        call = record.call + calls_before if record.call is not None else None
        highest_call = max(highest_call, call or 0)
        renumbered.append(replace(record, seq=index, call=call))
    return renumbered


def _records(path: Path, lines: Iterable[bytes]) -> Iterator[TrafficRecord]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield _record(json.loads(line))
        except (ValueError, KeyError, TypeError) as exc:
            raise CaptureError(f"{path}:{number}: not a capture record ({exc})") from None


def _record(line: Any) -> TrafficRecord:
    if not isinstance(line, dict):
        raise TypeError("a line must be a JSON object")
    if "message" in line:
        data = json.dumps(line["message"], ensure_ascii=False).encode()
    elif isinstance(line.get("text"), str):
        data = line["text"].encode()
    else:
        raise KeyError("message")
    hop, direction = line["hop"], line["direction"]
    if hop not in ("client", "upstream") or direction not in ("in", "out"):
        raise ValueError(f"unknown hop/direction {hop!r}/{direction!r}")
    return TrafficRecord(
        seq=int(line["seq"]),
        at=datetime.datetime.fromisoformat(str(line["ts"]).replace("Z", "+00:00")).timestamp(),
        hop=hop,
        direction=direction,
        session=_text(line.get("session")),
        upstream=_text(line.get("upstream")),
        call=int(line["call"]) if isinstance(line.get("call"), int) else None,
        size=int(line.get("size", len(data))),
        data=data,
        cut=line.get("cut") is True,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
