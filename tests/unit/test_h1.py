"""The upstream HTTP/1.1 client against a raw asyncio server that writes exactly the bytes each case needs:
keep-alive reuse, chunked and close-delimited bodies, redirects, a stale kept-alive connection, bounds, broken
HTTP, answers that break off, an SSE answer's end read in the background, backpressure and cancellation."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
import uvloop

from mcpstead.errors import UpstreamDisconnectedError, UpstreamError
from mcpstead.upstream import h1
from mcpstead.upstream.h1 import H1Pool, Origin


@dataclass
class Request:
    line: str
    headers: dict[str, str]
    body: bytes
    names: list[str]


Responder = Callable[[Request, asyncio.StreamWriter], Awaitable[bool]]
"""Writes the answer to one request; False closes the connection after it."""


@dataclass
class RawServer:
    respond: Responder
    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    port: int = 0
    writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.add(writer)
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                line, *lines = head.decode().split("\r\n")
                headers = {}
                names = []
                for text in lines:
                    if text:
                        name, _, value = text.partition(":")
                        names.append(name.strip().lower())
                        headers[names[-1]] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                request = Request(line, headers, body, names)
                self.requests.append(request)
                if not await self.respond(request, writer):
                    break
        writer.close()


@contextlib.asynccontextmanager
async def raw_server(respond: Responder) -> AsyncIterator[RawServer]:
    server = RawServer(respond)
    listening = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    server.port = listening.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        listening.close()
        for writer in server.writers:
            writer.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await listening.wait_closed()


@contextlib.asynccontextmanager
async def pool_for(url: str, headers: dict[str, str] | None = None) -> AsyncIterator[H1Pool]:
    pool = H1Pool("u", url, headers or {"content-type": "application/json"}, connect_seconds=2)
    try:
        yield pool
    finally:
        pool.close()


def answer(body: bytes, *extra: str, status: str = "200 OK") -> bytes:
    head = "".join(f"{line}\r\n" for line in extra)
    return f"HTTP/1.1 {status}\r\ncontent-length: {len(body)}\r\n{head}\r\n".encode() + body


def chunked(*pieces: bytes, status: str = "200 OK", content_type: str = "text/event-stream") -> bytes:
    out = f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\n\r\n".encode()
    for piece in pieces:
        out += b"%x\r\n%s\r\n" % (len(piece), piece)
    return out + b"0\r\n\r\n"


async def until(condition: Callable[[], bool]) -> None:
    """Polls: a pool's state changes in its connections' callbacks, with nothing to wait on."""
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not so after 2 s")


def too_large() -> UpstreamError:
    return UpstreamError("u", "too large")


async def echo(request: Request, writer: asyncio.StreamWriter) -> bool:
    writer.write(answer(request.body, "content-type: application/json"))
    return True


async def test_requests_reuse_one_kept_alive_connection_and_carry_their_headers() -> None:
    async with raw_server(echo) as server, pool_for(server.url, {"Authorization": "Bearer t", "Accept": "a"}) as pool:
        for index in range(3):
            response = await pool.request("POST", {"mcp-session-id": "s"}, b'{"n": %d}' % index)
            assert response.status == 200
            assert response.headers["content-type"] == "application/json"
            assert await response.read(1000, too_large) == b'{"n": %d}' % index
            response.release()
        get = await pool.request("GET", {"accept": "text/event-stream"})
        get.release()
    assert server.connections == 1
    first = server.requests[0]
    assert first.line == "POST /mcp HTTP/1.1"
    assert first.headers["host"] == f"127.0.0.1:{server.port}"
    assert first.headers["authorization"] == "Bearer t"
    assert first.headers["mcp-session-id"] == "s"
    assert first.headers["content-length"] == "8"
    assert server.requests[-1].line == "GET /mcp HTTP/1.1"
    assert server.requests[-1].headers["accept"] == "text/event-stream"
    assert server.requests[-1].names.count("accept") == 1  # it replaces the default of its name, whatever the case
    assert "content-length" not in server.requests[-1].headers


async def test_a_chunked_body_arrives_in_its_chunks_and_a_close_delimited_one_at_the_close() -> None:
    async def respond(request: Request, writer: asyncio.StreamWriter) -> bool:
        if request.body == b"chunked":
            writer.write(chunked(b"one ", b"two ", b"three"))
            return True
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.01)
        writer.write(b"until the close")
        return False

    async with raw_server(respond) as server, pool_for(server.url) as pool:
        response = await pool.request("POST", None, b"chunked")
        assert [piece async for piece in response.chunks()] == [b"one ", b"two ", b"three"]
        response.release()
        response = await pool.request("POST", None, b"plain")
        assert await response.read(1000, too_large) == b"until the close"
        response.release()
        response = await pool.request("POST", None, b"chunked")  # the close-delimited one's was not kept
        assert await response.read(1000, too_large) == b"one two three"
        response.release()
    assert server.connections == 2


async def test_same_origin_307_is_followed_with_method_and_body_and_others_are_refused_clearly() -> None:
    async def respond(request: Request, writer: asyncio.StreamWriter) -> bool:
        path = request.line.split()[1]
        moves = {
            "/mcp": "307 Temporary Redirect\r\nlocation: /mcp/",
            "/loop": "308 Permanent Redirect\r\nlocation: /loop",
            "/away": "307 Temporary Redirect\r\nlocation: http://elsewhere.invalid/mcp",
            "/see": "303 See Other\r\nlocation: /mcp/",
        }
        if path in moves:
            writer.write(answer(b"", status=moves[path]))
        else:
            writer.write(answer(request.line.encode() + b" " + request.body))
        return True

    async with raw_server(respond) as server:
        base = f"http://127.0.0.1:{server.port}"
        async with pool_for(f"{base}/mcp") as pool:
            response = await pool.request("POST", None, b"{}")
            assert await response.read(1000, too_large) == b"POST /mcp/ HTTP/1.1 {}"
            response.release()
        async with pool_for(f"{base}/see") as pool:
            response = await pool.request("GET")  # 303 keeps GET a GET
            assert await response.read(1000, too_large) == b"GET /mcp/ HTTP/1.1 "
            response.release()
            with pytest.raises(UpstreamError, match=r"answered POST with a redirect \(HTTP 303\) to /mcp/"):
                await pool.request("POST", None, b"{}")
        async with pool_for(f"{base}/away") as pool:
            with pytest.raises(UpstreamError, match="redirected to another origin"):
                await pool.request("POST", None, b"{}")
        async with pool_for(f"{base}/loop") as pool:
            with pytest.raises(UpstreamError, match=f"redirected more than {h1.MAX_REDIRECTS} times"):
                await pool.request("POST", None, b"{}")
    assert server.connections == 4  # each pool kept its one connection through its redirects


async def test_a_kept_alive_connection_the_server_closed_is_retried_once_on_a_new_one() -> None:
    async def respond(request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(answer(request.body))
        return False  # closes without saying so (no "connection: close")

    async with raw_server(respond) as server, pool_for(server.url) as pool:
        for body in (b"first", b"second"):
            response = await pool.request("POST", None, body)
            assert await response.read(1000, too_large) == body
            response.release()
        assert server.connections == 2


async def test_a_server_that_answers_nothing_or_breaks_off_or_speaks_no_http_is_an_upstream_error() -> None:
    async def respond(request: Request, writer: asyncio.StreamWriter) -> bool:
        if request.body == b"cut":
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part")
        elif request.body == b"garbage":
            writer.write(b"SMTP ready\r\n\r\n")
        return False

    async with raw_server(respond) as server, pool_for(server.url) as pool:
        with pytest.raises(UpstreamError, match="closed the connection before answering"):
            await pool.request("POST", None, b"nothing")
        response = await pool.request("POST", None, b"cut")
        with pytest.raises(UpstreamError, match="answer broke off: the connection closed"):
            await response.read(1000, too_large)
        response.release()
        with pytest.raises(UpstreamError, match="sent broken HTTP"):
            await pool.request("POST", None, b"garbage")


async def test_refused_connections_and_header_text_that_would_forge_headers() -> None:
    async with raw_server(echo) as server:
        pass  # closed: its port now refuses
    async with pool_for(server.url) as pool:
        with pytest.raises(UpstreamError, match="request failed: connection refused"):
            await pool.request("POST", None, b"{}")
        with pytest.raises(UpstreamError, match="header 'x-evil' is not valid header text"):
            await pool.request("POST", {"x-evil": "a\r\nx-forged: 1"}, b"{}")


async def test_bodies_past_the_limit_are_refused_by_their_length_or_as_they_grow() -> None:
    async def respond(request: Request, writer: asyncio.StreamWriter) -> bool:
        if request.body == b"declared":
            writer.write(answer(b"x" * 5000))
        else:
            writer.write(chunked(*[b"x" * 1000] * 5))
        return True

    async with raw_server(respond) as server, pool_for(server.url) as pool:
        for body in (b"declared", b"streamed"):
            response = await pool.request("POST", None, body)
            with pytest.raises(UpstreamError, match="too large"):
                await response.read(4000, too_large)
            response.release()
        assert server.connections == 2  # a refused body is not read on: its connection is closed


async def test_error_bodies_are_read_only_as_far_as_they_are_shown() -> None:
    async def respond(request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(chunked(b"e" * 3000, b"e" * 3000, status="500 Internal Server Error", content_type="text/plain"))
        return True

    async with raw_server(respond) as server, pool_for(server.url) as pool:
        response = await pool.request("POST", None, b"{}")
        assert response.status == 500
        assert await response.read_some(4000) == b"e" * 4000
        response.release()


async def test_the_rest_of_an_sse_answer_is_read_in_the_background_and_its_connection_kept() -> None:
    async def respond(request: Request, writer: asyncio.StreamWriter) -> bool:
        head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
        writer.write(head + b"8\r\nanswer\n\n\r\n")
        await writer.drain()
        if request.body == b"open":
            await asyncio.sleep(5)  # longer than the reader waits for the end
            return False
        await asyncio.sleep(0.02)
        writer.write(b"6\r\nlater\n\r\n0\r\n\r\n")
        return True

    async with raw_server(respond) as server, pool_for(server.url) as pool:
        rest: list[bytes] = []
        response = await pool.request("POST", None, b"ends")
        assert await response.chunk() == b"answer\n\n"
        response.finish_in_background(rest.append, 2.0)
        response.release()  # nothing to do: the connection finishes it
        await until(lambda: bool(pool._idle))
        assert rest == [b"later\n"]
        response = await pool.request("POST", None, b"open")
        assert await response.chunk() == b"answer\n\n"
        response.finish_in_background(rest.append, 0.05)
        await until(lambda: not pool._busy)  # cut after 0.05 s
        assert not pool._idle
    assert server.connections == 1  # the second answer came on the first's connection


async def test_until_body_the_answer_is_handed_over_with_its_first_piece_not_at_its_headers() -> None:
    go_on = asyncio.Event()
    head_sent = asyncio.Event()

    async def respond(request: Request, writer: asyncio.StreamWriter) -> bool:
        if request.body == b"accepted":
            writer.write(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n")
            return True
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
        await writer.drain()
        head_sent.set()
        await go_on.wait()
        go_on.clear()
        if request.body == b"break":
            return False
        writer.write(b"8\r\nanswer\n\n\r\n0\r\n\r\n")
        return True

    async with raw_server(respond) as server, pool_for(server.url) as pool:
        response = await pool.request("POST", None, b"sse")  # without: at the headers, the body still to come
        assert response.status == 200 and response.headers["content-type"] == "text/event-stream"
        go_on.set()
        assert await response.chunk() == b"answer\n\n"
        response.release()

        head_sent.clear()
        waiting = asyncio.create_task(pool.request("POST", None, b"sse", until_body=True))
        await head_sent.wait()
        await until(lambda: any(conn.response is not None and conn.response.status for conn in pool._busy))
        for _ in range(3):  # the headers are parsed: a ready answer would hand itself over within a loop turn
            await asyncio.sleep(0)
        assert not waiting.done()
        go_on.set()
        response = await waiting
        assert response.status == 200
        assert response._chunks  # here already: no second wake-up to read it
        assert await response.chunk() == b"answer\n\n"
        assert await response.chunk() == b""
        response.release()

        response = await pool.request("POST", None, b"accepted", until_body=True)  # no body: ready at its end
        assert response.status == 202 and await response.chunk() == b""
        response.release()

        head_sent.clear()
        waiting = asyncio.create_task(pool.request("POST", None, b"break", until_body=True))
        await head_sent.wait()
        go_on.set()  # the server closes after the headers
        with pytest.raises(UpstreamError, match="broke off"):
            await waiting
        (await pool.request("POST", None, b"accepted", until_body=True)).release()
    assert server.connections == 2  # one kept alive until the answer that broke off, then a new one


async def test_reading_pauses_while_the_reader_is_far_behind() -> None:
    size = 4 * h1.READ_AHEAD_BYTES

    async def respond(request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(answer(b"x" * size))
        await writer.drain()
        return True

    async with raw_server(respond) as server, pool_for(server.url) as pool:
        response = await pool.request("POST", None, b"{}")
        await asyncio.sleep(0.2)
        assert response._unread <= h1.READ_AHEAD_BYTES + 256 * 1024  # not the whole 4 MiB
        assert len(await response.read(size, too_large)) == size
        response.release()


async def test_cancelling_or_closing_ends_a_request_waiting_for_its_answer() -> None:
    async def respond(request: Request, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(5)
        return False

    async with raw_server(respond) as server, pool_for(server.url) as pool:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.1):
                await pool.request("POST", None, b"{}")
        assert not pool._busy and not pool._idle
        waiting = asyncio.create_task(pool.request("POST", None, b"{}"))
        await asyncio.sleep(0.1)
        pool.close_busy()
        with pytest.raises(UpstreamDisconnectedError):
            await waiting
        pool.close()
        with pytest.raises(UpstreamDisconnectedError):
            await pool.request("POST", None, b"{}")


async def test_interim_answers_are_skipped_and_userinfo_becomes_basic_auth() -> None:
    async def respond(request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n" + answer(request.headers["authorization"].encode()))
        return True

    async with raw_server(respond) as server, pool_for(f"http://me:p%40ss@127.0.0.1:{server.port}/mcp") as pool:
        response = await pool.request("POST", None, b"{}")
        assert response.status == 200
        assert await response.read(1000, too_large) == b"Basic " + base64.b64encode(b"me:p@ss")
        response.release()


def test_origins_name_their_host_port_and_target() -> None:
    origin = Origin.of("https://example.test/a/b?x=1")
    assert (origin.key, origin.target, origin.host_header) == (
        ("https", "example.test", 443),
        "/a/b?x=1",
        "example.test",
    )
    assert Origin.of("http://[::1]:8080").host_header == "[::1]:8080"
    assert Origin.of("http://[::1]:8080").target == "/"
    with pytest.raises(ValueError, match="not an http"):
        Origin.of("ftp://example.test/")


CASES = [
    case for name, case in list(globals().items()) if name.startswith("test_") and asyncio.iscoroutinefunction(case)
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.__name__.removeprefix("test_")[:40])
def test_on_uvloop(case: Callable[[], Awaitable[None]]) -> None:
    """Every case again on uvloop, which the gateway serves on: its transports call back at other moments
    (connection_made after create_connection has returned, for one)."""

    async def run() -> None:
        await case()

    uvloop.run(run())
