"""The traffic tap on the client hop: the messages of one /mcp HTTP exchange, read off the ASGI channels.

The POST body is one message (or a batch); the response is one JSON body, or SSE events that each carry one.
Reading them here, where the bytes pass anyway, covers every way the gateway answers (results, errors,
streamed progress and server-to-client requests, 4xx bodies, GET and listen streams) with one piece of code
that only runs while something listens. No header is recorded; the session appears by its short id.
"""

from __future__ import annotations

from starlette.types import Message, Receive, Scope, Send

from mcpstead.traffic import CallLink, Traffic, short_session

SESSION_HEADER = b"mcp-session-id"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


class TappedExchange:
    """Wraps `receive` and `send` of one /mcp request, recording each message that crosses them."""

    def __init__(self, traffic: Traffic, scope: Scope) -> None:
        self._traffic = traffic
        self._session = short_session(_header(scope, SESSION_HEADER))
        # A POST is one downstream request (a batch, several): what goes upstream for it is linked to it.
        # What a GET stream carries is caused by no request of its own.
        self._link: CallLink | None = traffic.begin_call(self._session) if scope["method"] == "POST" else None
        self._body = bytearray()
        self._answer = bytearray()
        self._events: SseSplitter | None = None
        self._answer_session: str | None = None

    def receive(self, receive: Receive) -> Receive:
        async def tapped() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self._body += message.get("body", b"")
                if not message.get("more_body", False) and self._body:
                    self._traffic.client("in", bytes(self._body), self._link)
                    self._body.clear()
            return message

        return tapped

    def send(self, send: Send) -> Send:
        async def tapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", ()))
                content_type = bytes(headers.get(b"content-type", b""))
                self._events = SseSplitter() if content_type.startswith(b"text/event-stream") else None
                given = headers.get(SESSION_HEADER)
                if given is not None and self._session is None:
                    self._answer_session = short_session(bytes(given).decode("latin-1"))
            elif message["type"] == "http.response.body":
                self._body_chunk(message.get("body", b""), message.get("more_body", False))
            await send(message)

        return tapped

    def _body_chunk(self, chunk: bytes, more: bool) -> None:
        if self._events is not None:
            for data in self._events.feed(chunk):
                self._traffic.client("out", data, self._link, self._answer_session)
            return
        self._answer += chunk
        if not more:
            if bytes(self._answer).lstrip()[:1] in (b"{", b"["):
                self._traffic.client("out", bytes(self._answer), self._link, self._answer_session)
            self._answer.clear()


class SseSplitter:
    """The data of each event in an SSE byte stream the gateway writes (LF line ends, comments skipped)."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        self._pending += chunk
        *events, self._pending = self._pending.split(b"\n\n")
        found = []
        for event in events:
            data = [line[5:].removeprefix(b" ") for line in event.split(b"\n") if line.startswith(b"data:")]
            if data:
                found.append(b"\n".join(data))
        return found
