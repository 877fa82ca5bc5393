"""The Traffic tab's model: records of both hops turned into rows, paired and grouped under their call.

Pure logic, no widgets. A row's group is the downstream request that caused it: the records of one POST share
a call number; what an upstream sends outside any request is placed by its id (an answer goes with the
request it answers), its progress token, or, as the relay itself does, by being the only call in flight to
that upstream. A client's answer to a server-to-client request joins the request it answers; a cancellation
joins the request it names. Groups appear in the order they started, their rows in the order they happened,
so what a call caused shows under it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from mcpstead.state import TrafficRecord

CLIENT_INFO_KEY = "io.modelcontextprotocol/clientInfo"
Kind = Literal["request", "notification", "result", "error", "batch", "invalid"]
HOP_LABELS = {
    ("client", "in"): "client→gw",
    ("client", "out"): "gw→client",
    ("upstream", "out"): "gw→up",
    ("upstream", "in"): "up→gw",
}
TOWARD_SERVER = {("client", "in"), ("upstream", "out")}
"""The direction a client's request travels (the rest travels toward the client)."""


@dataclass(frozen=True, slots=True)
class Summary:
    """What a row shows of one message, read once from its JSON."""

    kind: Kind
    method: str | None
    message_id: Any
    parsed: Any
    """The message as JSON (None when it could not be parsed: cut, or not JSON)."""
    progress_token: Any = None
    error_code: int | None = None
    client: str | None = None
    """A 2026-07-28 request's client, from the clientInfo in its _meta."""
    cancels: Any = None
    """notifications/cancelled: the id of the request it cancels."""


def summarize(data: bytes) -> Summary:
    try:
        message = json.loads(data)
    except ValueError:
        return Summary("invalid", None, None, None)
    if isinstance(message, list):
        return Summary("batch", None, None, message)
    if not isinstance(message, dict):
        return Summary("invalid", None, None, message)
    method = message.get("method") if isinstance(message.get("method"), str) else None
    params: dict[str, Any] = message["params"] if isinstance(message.get("params"), dict) else {}
    meta: dict[str, Any] = params["_meta"] if isinstance(params.get("_meta"), dict) else {}
    if method is not None:
        kind: Kind = "request" if "id" in message else "notification"
        info = meta.get(CLIENT_INFO_KEY)
        client = f"2026:{info.get('name') or 'unknown'}/{info.get('version', '')}" if isinstance(info, dict) else None
        token = params.get("progressToken") if method == "notifications/progress" else meta.get("progressToken")
        cancels = params.get("requestId") if method == "notifications/cancelled" else None
        return Summary(kind, method, message.get("id"), message, token, None, client, cancels)
    error = message.get("error")
    if isinstance(error, dict):
        code = error.get("code") if type(error.get("code")) is int else None
        return Summary("error", None, message.get("id"), message, error_code=code)
    return Summary("result", None, message.get("id"), message)


@dataclass(slots=True)
class TrafficRow:
    record: TrafficRecord
    summary: Summary
    group: int
    """The seq of the row that started this row's group."""
    child: bool
    """Placed under a request that caused it (not the group's first row)."""
    answers: TrafficRow | None = None
    """For an answer: the request it answers."""
    answered_by: TrafficRow | None = None

    @property
    def seq(self) -> int:
        return self.record.seq

    @property
    def hop_label(self) -> str:
        return HOP_LABELS[(self.record.hop, self.record.direction)]

    @property
    def toward_server(self) -> bool:
        return (self.record.hop, self.record.direction) in TOWARD_SERVER

    @property
    def method(self) -> str | None:
        """The method, or for an answer the method of its request."""
        if self.summary.method is not None:
            return self.summary.method
        return self.answers.summary.method if self.answers is not None else None

    @property
    def latency_ms(self) -> float | None:
        if self.answers is None:
            return None
        return (self.record.at - self.answers.record.at) * 1000

    @property
    def is_error(self) -> bool:
        """An error answer, a tool's isError result, or bytes that are not JSON (a message cut to the
        dashboard's limit is not one of those)."""
        if self.summary.kind == "invalid":
            return not self.record.cut
        result = self.summary.parsed.get("result") if isinstance(self.summary.parsed, dict) else None
        return self.summary.kind == "error" or (isinstance(result, dict) and result.get("isError") is True)


@dataclass(slots=True)
class _Group:
    first: TrafficRow
    rows: list[TrafficRow] = field(default_factory=list)
    session: str | None = None
    upstream: str | None = None


class TrafficModel:
    """Rows for every record added, bounded to the newest `keep` rows (older groups are forgotten whole)."""

    def __init__(self, keep: int = 20_000) -> None:
        self._keep = keep
        self._groups: dict[int, _Group] = {}
        self._by_call: dict[int, int] = {}
        self._rows: dict[int, TrafficRow] = {}
        self._pending: dict[tuple[Any, ...], TrafficRow] = {}
        """Requests waiting for their answer, by (hop, side, peer, id)."""
        self._open_upstream: dict[str, list[TrafficRow]] = {}
        """Requests sent to each upstream and not yet answered, oldest first."""
        self._tokens: dict[tuple[str, Any], TrafficRow] = {}
        self.last_seq = 0

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, records: Iterable[TrafficRecord]) -> None:
        for record in records:
            if record.seq <= self.last_seq:
                continue
            self.last_seq = record.seq
            self._add(record)
        self._trim()

    def _add(self, record: TrafficRecord) -> None:
        summary = summarize(record.data)
        row = TrafficRow(record, summary, record.seq, False)
        self._pair(row)
        group = self._place(row)
        row.group = group.first.seq
        row.child = group.first is not row
        group.rows.append(row)
        group.session = group.session or record.session or summary.client
        if record.hop == "upstream":
            group.upstream = group.upstream or record.upstream
        self._rows[record.seq] = row

    def _pair(self, row: TrafficRow) -> None:
        record, summary = row.record, row.summary
        peer = record.upstream if record.hop == "upstream" else record.session
        if summary.kind == "request":
            side = (record.hop, record.direction)
            key = (
                *side,
                record.call if record.hop == "client" and record.direction == "in" else peer,
                summary.message_id,
            )
            self._pending[key] = row
            if record.hop == "upstream" and record.direction == "out" and record.upstream is not None:
                self._open_upstream.setdefault(record.upstream, []).append(row)
                if summary.progress_token is not None:
                    self._tokens[(record.upstream, summary.progress_token)] = row
        elif summary.kind in ("result", "error"):
            asked = (record.hop, "out" if record.direction == "in" else "in")
            by_call = (*asked, record.call, summary.message_id)
            request = self._pending.pop(by_call, None) or self._pending.pop((*asked, peer, summary.message_id), None)
            if request is not None:
                row.answers, request.answered_by = request, row
                if record.hop == "upstream" and request.record.upstream in self._open_upstream:
                    waiting = self._open_upstream[request.record.upstream]
                    if request in waiting:
                        waiting.remove(request)

    def _place(self, row: TrafficRow) -> _Group:
        record = row.record
        cause = self._cause(row)
        if cause is not None and cause.group in self._groups:
            return self._groups[cause.group]
        if record.call is not None:
            seq = self._by_call.get(record.call)
            if seq is not None and seq in self._groups:
                return self._groups[seq]
            self._by_call[record.call] = record.seq
        group = _Group(row)
        self._groups[record.seq] = group
        return group

    def _cause(self, row: TrafficRow) -> TrafficRow | None:
        """The row whose group this one joins, when its call number does not say (or says less)."""
        record, summary = row.record, row.summary
        if row.answers is not None and (record.call is None or row.answers.record.hop == "client"):
            return row.answers  # an upstream answer read by a reader task; a client answering a relayed request
        if summary.cancels is not None and record.hop == "client":
            # It comes on a POST of its own: the request it names is found by its id in the same session.
            return next(
                (
                    r
                    for key, r in self._pending.items()
                    if key[0:2] == ("client", "in") and key[3] == summary.cancels and r.record.session == record.session
                ),
                None,
            )
        if record.hop != "upstream" or record.direction != "in" or record.call is not None or record.upstream is None:
            return None
        if summary.progress_token is not None:
            owner = self._tokens.get((record.upstream, summary.progress_token))
            if owner is not None:
                return owner
        waiting = self._open_upstream.get(record.upstream, [])
        return waiting[0] if len(waiting) == 1 else None

    def _trim(self) -> None:
        if len(self._rows) <= self._keep:
            return
        while len(self._rows) > self._keep and self._groups:
            oldest = next(iter(self._groups))
            for row in self._groups.pop(oldest).rows:
                self._rows.pop(row.seq, None)
        # What pointed into the forgotten groups goes with them (requests never answered included).
        alive = self._rows
        self._pending = {key: row for key, row in self._pending.items() if row.seq in alive}
        self._tokens = {key: row for key, row in self._tokens.items() if row.seq in alive}
        self._by_call = {call: seq for call, seq in self._by_call.items() if seq in self._groups}
        for upstream, waiting in self._open_upstream.items():
            self._open_upstream[upstream] = [row for row in waiting if row.seq in alive]

    def rows(self) -> Iterator[TrafficRow]:
        """Every row: groups in the order they started, each group's rows in the order they happened."""
        for group in self._groups.values():
            yield from group.rows

    def row(self, seq: int) -> TrafficRow | None:
        return self._rows.get(seq)

    def session_of(self, row: TrafficRow) -> str | None:
        group = self._groups.get(row.group)
        return row.record.session or row.summary.client or (group.session if group else None)

    def upstream_of(self, row: TrafficRow) -> str | None:
        group = self._groups.get(row.group)
        return row.record.upstream or (group.upstream if group else None)

    def group_rows(self, row: TrafficRow) -> list[TrafficRow]:
        group = self._groups.get(row.group)
        return list(group.rows) if group else [row]

    def counterpart(self, row: TrafficRow) -> TrafficRow | None:
        """The same message on the other hop: the n-th of its kind, method and direction in the group on
        one hop matches the n-th on the other (the client's request and the one sent upstream for it, the
        upstream's answer and the client's, each progress notification, each relayed request)."""
        rows = self.group_rows(row)
        role = _role(row)
        mine = [r for r in rows if r.record.hop == row.record.hop and _role(r) == role]
        theirs = [r for r in rows if r.record.hop != row.record.hop and _role(r) == role]
        index = mine.index(row) if row in mine else -1
        return theirs[index] if 0 <= index < len(theirs) else None


def _role(row: TrafficRow) -> tuple[Any, ...]:
    kind = "answer" if row.summary.kind in ("result", "error") else row.summary.kind
    return (kind, row.method, row.toward_server)


@dataclass(frozen=True, slots=True)
class TrafficFilter:
    """`session:ID upstream:NAME method:TEXT errors` and free text, from the filter bar."""

    session: str | None = None
    upstream: str | None = None
    method: str | None = None
    errors: bool = False
    text: str = ""

    @classmethod
    def parse(cls, query: str, errors: bool = False) -> TrafficFilter:
        values: dict[str, str] = {}
        words: list[str] = []
        for word in query.split():
            key, sep, value = word.partition(":")
            if sep and key.lower() in ("session", "s", "upstream", "u", "method", "m") and value:
                values[key.lower()[0]] = value
            elif word.lower() in ("errors", "is:error"):
                errors = True
            else:
                words.append(word)
        return cls(values.get("s"), values.get("u"), values.get("m"), errors, " ".join(words).lower())

    def admits(self, row: TrafficRow, model: TrafficModel) -> bool:
        if self.errors and not row.is_error:
            return False
        if self.session is not None and not (model.session_of(row) or "").startswith(self.session):
            return False
        if self.upstream is not None and (model.upstream_of(row) or "") != self.upstream:
            return False
        if self.method is not None and self.method.lower() not in (row.method or "").lower():
            return False
        return not self.text or self.text in row.record.data.decode(errors="replace").lower()


def changes(before: Any, after: Any, path: str = "") -> list[str]:
    """Where two JSON values differ, one line per leaf: what the gateway changed on the way."""
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[str] = []
        for key in dict.fromkeys([*before, *after]):
            where = f"{path}.{key}" if path else str(key)
            if key not in after:
                found.append(f"{where}: {_short(before[key])} (removed)")
            elif key not in before:
                found.append(f"{where}: {_short(after[key])} (added)")
            else:
                found.extend(changes(before[key], after[key], where))
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            line for i, (a, b) in enumerate(zip(before, after, strict=True)) for line in changes(a, b, f"{path}[{i}]")
        ]
    if before != after or type(before) is not type(after):
        return [f"{path or '(message)'}: {_short(before)} → {_short(after)}"]
    return []


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."
