"""Streamable HTTP upstreams (legacy era): every message is a POST, answers come as JSON or an SSE stream.

This is the hot path of every forwarded call, so it runs on the gateway's own HTTP/1.1 client (`h1.py`: a
keep-alive pool per upstream, answers parsed by httptools; measured several times cheaper than aiohttp) and
reads SSE with the synchronous `SseDecoder`. An SSE answer's stream is read to its end after the answer in
the connection's own callback, so its connection is reused without a task per call. The upstream's session
id and negotiated version ride on every request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from mcpstead import jsonrpc
from mcpstead.aio import BackgroundTasks, cancel_and_wait
from mcpstead.config import ServerConfig
from mcpstead.errors import UpstreamError, UpstreamTimeoutError
from mcpstead.relay import InFlightCall, ServerRequestTasks, UpstreamInbound
from mcpstead.traffic import detach
from mcpstead.upstream.base import (
    DEFAULT_LIMIT,
    MessageLimit,
    WireHook,
    initialize,
    notification_message,
    request_message,
)
from mcpstead.upstream.h1 import H1Pool, H1Response
from mcpstead.upstream.pending import unwrap
from mcpstead.upstream.wire import (
    ERROR_BODY_CHARS,
    SseDecoder,
    default_headers,
    session_reset_reason,
    sse_events,
    sse_message,
)

log = logging.getLogger("mcpstead.upstream")
CLOSE_TIMEOUT_SECONDS = 2.0
LISTEN_RETRY_SECONDS = (1.0, 30.0)
"""First and longest wait before the GET stream is opened again after it ended."""
SESSION_STATE = frozenset({"logging/setLevel", "resources/subscribe", "resources/unsubscribe"})
"""Requests that leave state in the upstream session; a re-initialized session gets them again."""
DRAIN_SECONDS = 5.0
"""How long the rest of an SSE answer's stream (after the answer: usually only its end) is read for, so that
its connection goes back to the pool; a stream still open after that is closed."""
Event = tuple[str, str]
LISTEN_OPEN_SECONDS = 2.0
"""How long requests after the handshake wait for the GET stream to open. A server drops what it sends
outside any request while no GET stream is open (a roots/list a tool asks for), so a call sent at once
could wait for an answer to a request that never arrived."""


def build_pool(config: ServerConfig) -> H1Pool:
    """The upstream's keep-alive connections, with its default headers on every request."""
    assert config.url is not None
    return H1Pool(
        config.name,
        config.url,
        default_headers(config),
        verify_tls=not config.tls_skip_verify,
        connect_seconds=min(10.0, config.timeout_seconds),
    )


def body_error(raw: bytes) -> dict[str, object] | None:
    """The JSON-RPC error object an HTTP error body carries, if it is one."""
    try:
        answer = jsonrpc.parse(raw)
    except ValueError:
        return None
    error = answer.get("error") if isinstance(answer, dict) else None
    return error if isinstance(error, dict) and type(error.get("code")) is int else None


class StreamableHttpConnection:
    def __init__(
        self,
        config: ServerConfig,
        inbound: UpstreamInbound,
        on_session_reset: Callable[[str], None] = lambda reason: None,
        on_wire: WireHook = lambda direction, data: None,
        limit: MessageLimit = DEFAULT_LIMIT,
    ) -> None:
        assert config.url is not None
        self._config = config
        self._limit = limit
        self._on_wire = on_wire
        self._on_session_reset = on_session_reset
        self._reset_lock = asyncio.Lock()
        self._name = config.name
        self._inbound = inbound
        self._answers = ServerRequestTasks()
        self._background = BackgroundTasks()
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        """Clear from the handshake until the GET stream is open (or known not to be coming)."""
        self._listening.set()
        self._client: H1Pool | None = None
        self._handshake: dict[str, Any] | None = None
        """The initialize params, sent again when the upstream forgets the session."""
        self._state: dict[tuple[str, str], dict[str, Any] | None] = {}
        """(method, uri) -> params of the level and subscriptions in force, replayed after a re-initialize."""
        self._session_id: str | None = None
        self._protocol_version: str | None = None
        self.closed = asyncio.Event()
        self.close_reason: str | None = None

    async def open(self) -> None:
        self._client = build_pool(self._config)

    async def request(
        self, method: str, params: dict[str, Any] | None, timeout: float, call: InFlightCall | None = None
    ) -> Any:
        """One request; when the upstream has forgotten our session, re-initialize once and retry once."""
        session = self._session_id
        try:
            result = await self._request_once(method, params, timeout, call)
        except UpstreamError as exc:
            reason = session_reset_reason(exc)
            if reason is None or session is None or method == "initialize":
                raise
            await self._recover_session(session, reason, timeout)
            result = await self._request_once(method, params, timeout, call)
        if method in SESSION_STATE:
            self._remember(method, params)
        return result

    def _remember(self, method: str, params: dict[str, Any] | None) -> None:
        uri = str((params or {}).get("uri", ""))
        if method == "resources/unsubscribe":
            self._state.pop(("resources/subscribe", uri), None)
        else:
            self._state[(method, uri)] = params

    async def _recover_session(self, failed_session: str, reason: str, timeout: float) -> None:
        """Re-initialize, once for all concurrent callers that saw the same dead session."""
        async with self._reset_lock:
            if self._session_id != failed_session:
                return  # another caller already recovered
            log.info("upstream %s session invalidated (%s); re-initializing", self._name, reason)
            self._session_id = None
            self._protocol_version = None
            self._on_session_reset(reason)
            handshake = self._handshake or {}
            await initialize(self, self._name, timeout, handshake.get("capabilities"), handshake.get("clientInfo"))
            for (method, _uri), params in list(self._state.items()):
                with contextlib.suppress(UpstreamError):
                    await self._request_once(method, params, timeout, None)

    async def _request_once(
        self, method: str, params: dict[str, Any] | None, timeout: float, call: InFlightCall | None
    ) -> Any:
        if not self._listening.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(LISTEN_OPEN_SECONDS):
                    await self._listening.wait()
        if method == "initialize":
            self._handshake = params
        request_id, message = request_message(method, params)
        try:
            async with asyncio.timeout(timeout):
                answer = await self._post(message, expect_id=request_id, call=call)
        except TimeoutError:
            self._cancel_upstream(request_id, "timed out")
            raise UpstreamTimeoutError(self._name, timeout) from None
        except asyncio.CancelledError:
            self._cancel_upstream(request_id, call.cancel_reason if call and call.cancel_reason else "cancelled")
            raise
        if answer is None:
            raise UpstreamError(self._name, f"upstream '{self._name}' returned no body")
        if method == "initialize" and isinstance(answer.get("result"), dict):
            version = answer["result"].get("protocolVersion")
            self._protocol_version = version if isinstance(version, str) else None
        return unwrap(self._name, answer)

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        message = notification_message(method, params)
        await self._post(message, expect_id=None)

    async def respond(self, message: dict[str, Any]) -> None:
        await self._post(message, expect_id=None)

    def _cancel_upstream(self, request_id: int, reason: str) -> None:
        """Tell the upstream we gave up a request (a dropped stream is not a cancellation in this era).
        Sent from a task of its own, since the caller is being cancelled or has timed out."""
        if self._client is None:
            return

        async def send() -> None:
            with contextlib.suppress(UpstreamError, TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT_SECONDS):
                    await self.notify("notifications/cancelled", {"requestId": request_id, "reason": reason})

        self._background.spawn(send(), name=f"cancel-{self._name}")

    def initialized(self) -> None:
        """Open the GET stream, where the upstream sends what belongs to no request (list changes,
        resource updates, log messages, requests of its own)."""
        if self._listener is None or self._listener.done():
            self._listening.clear()
            self._listener = asyncio.create_task(self._listen(), name=f"listen-{self._name}")

    async def _listen(self) -> None:
        detach()  # what the GET stream carries belongs to no request
        delay = LISTEN_RETRY_SECONDS[0]
        while self._client is not None:
            try:
                if not await self._listen_once():
                    break
                delay = LISTEN_RETRY_SECONDS[0]
            except (UpstreamError, ValueError) as exc:
                log.debug("upstream %s GET stream ended: %s", self._name, exc)
            self._listening.set()  # a failed attempt holds no request up
            await asyncio.sleep(delay)
            delay = min(delay * 2, LISTEN_RETRY_SECONDS[1])
        self._listening.set()  # no GET stream is coming

    async def _listen_once(self) -> bool:
        """Read the GET stream until it ends. False when the upstream does not offer one."""
        client = self._client
        if client is None:
            return False
        response = await client.request("GET", {**self._headers(), "accept": "text/event-stream"})
        try:
            if response.status in (400, 404, 405):
                log.debug("upstream %s offers no GET stream (HTTP %s)", self._name, response.status)
                return False
            if response.status >= 400 or "text/event-stream" not in response.headers.get("content-type", ""):
                raise UpstreamError(self._name, f"upstream '{self._name}' GET stream: HTTP {response.status}")
            self._listening.set()
            async for kind, data in sse_events(response.chunks(), self._limit.max_bytes):
                self._deliver_event(kind, data, None)
        finally:
            response.release()
        return True

    def _event_message(self, kind: str, data: str) -> dict[str, Any] | None:
        """The message one received SSE event carries (None for a keep-alive), seen on the wire first."""
        self._on_wire("received", data)
        return sse_message(self._name, kind, data, self._config.quirks.normalize_sse_events)

    def _deliver_event(self, kind: str, data: str, call: InFlightCall | None) -> None:
        """An SSE event that answers no request of ours: to the inbound, tied to `call` when it has one."""
        message = self._event_message(kind, data)
        if message is not None:
            self._handle_inbound(message, call)

    def _handle_inbound(self, message: dict[str, Any], call: InFlightCall | None) -> None:
        """A notification or a server-to-client request, from a POST's stream (tied to `call`) or the GET's."""
        if jsonrpc.is_request(message):
            self._answers.spawn(self._inbound, message, call, self.respond)
        elif jsonrpc.is_notification(message):
            self._inbound.deliver(message, call)

    def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self._session_id is not None:
            headers["mcp-session-id"] = self._session_id
        if self._protocol_version is not None:
            headers["mcp-protocol-version"] = self._protocol_version
        return headers

    async def _post(
        self,
        message: dict[str, Any],
        expect_id: int | None,
        call: InFlightCall | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any] | None:
        client = self._client
        if client is None:
            raise UpstreamError(self._name, f"upstream '{self._name}' is not open")
        content = jsonrpc.encode(message)
        self._on_wire("sent", content)
        response = await client.request(
            "POST", self._headers() if headers is None else headers, content, until_body=True
        )
        try:
            session_id = response.headers.get("mcp-session-id")
            if session_id and message.get("method") == "initialize":
                self._session_id = session_id
            return await self._read_answer(response, expect_id, call)
        finally:
            response.release()

    async def _read_answer(
        self, response: H1Response, expect_id: int | None, call: InFlightCall | None
    ) -> dict[str, Any] | None:
        status = response.status
        if status >= 400:
            raw = await response.read_some(ERROR_BODY_CHARS * 8)
            text = raw[:ERROR_BODY_CHARS].decode(errors="replace")
            reason = "upstream_auth_failed" if status in (401, 403) else "upstream_protocol_error"
            raise UpstreamError(
                self._name,
                f"upstream '{self._name}' HTTP {status}: {text}",
                reason=reason,
                status=status,
                body_error=body_error(raw),
            )
        content_type = response.headers.get("content-type", "").lower()
        if "text/event-stream" in content_type:
            return await self._read_sse(response, expect_id, call)
        body = await self._read_bounded(response)
        self._on_wire("received", body)
        if not body.strip() or expect_id is None:
            return None
        if "json" not in content_type:
            shown = content_type.split(";")[0] or "none"
            raise UpstreamError(
                self._name,
                f"upstream '{self._name}' answered with content type '{shown}', expected JSON or SSE",
            )
        try:
            answer = jsonrpc.parse(body)
        except ValueError:
            raise UpstreamError(self._name, f"upstream '{self._name}' response body is not valid JSON") from None
        if not isinstance(answer, dict):
            raise UpstreamError(self._name, f"upstream '{self._name}' answered with a JSON {type(answer).__name__}")
        if answer.get("id") != expect_id:
            raise UpstreamError(self._name, f"upstream '{self._name}' answered with the wrong id")
        if not jsonrpc.is_response(answer):
            raise UpstreamError(self._name, f"upstream '{self._name}' answered with neither a result nor an error")
        return answer

    async def _read_bounded(self, response: H1Response) -> bytes:
        """The whole body, refused past `limits.upstream_message_bytes` before it can fill memory."""
        return await response.read(self._limit.max_bytes, self._too_large)

    def _too_large(self) -> UpstreamError:
        self._limit.hit("upstream_message")
        limit = self._limit.max_bytes
        return UpstreamError(
            self._name,
            f"upstream '{self._name}' answer is larger than {limit:,} bytes (limits.upstream_message_bytes)",
            reason="upstream_answer_too_large",
        )

    async def _read_sse(
        self, response: H1Response, expect_id: int | None, call: InFlightCall | None
    ) -> dict[str, Any] | None:
        """Read events until the answer to `expect_id`; what comes before it goes to the inbound, what comes
        after it (the stream's end, rarely more) is read by the connection itself (`_after_answer`)."""
        decoder = SseDecoder(self._limit.max_bytes)
        try:
            while chunk := await response.chunk():
                events = decoder.feed(chunk)
                for index, (kind, data) in enumerate(events):
                    message = self._event_message(kind, data)
                    if message is None:
                        continue
                    if jsonrpc.is_response(message) and message.get("id") == expect_id:
                        self._after_answer(response, decoder, events[index + 1 :])
                        return message
                    self._handle_inbound(message, call)
        except ValueError as exc:
            if "larger than" in str(exc):
                raise self._too_large() from None
            raise UpstreamError(self._name, f"upstream '{self._name}' sent a broken SSE stream: {exc}") from None
        if expect_id is None:
            return None
        raise UpstreamError(self._name, f"upstream '{self._name}' SSE stream ended before the response")

    def _after_answer(self, response: H1Response, decoder: SseDecoder, events: list[Event]) -> None:
        """Read an SSE answer's stream to its end after the answer, so that its connection goes back to the
        pool (closed before its end, every call on an SSE upstream would cost a new TCP connection). What
        still comes belongs to no call; a stream still open after DRAIN_SECONDS is closed."""

        def deliver(events: list[Event]) -> None:
            for kind, data in events:
                self._deliver_event(kind, data, None)

        def sink(chunk: bytes) -> None:
            detach()  # the connection's callback runs in the context it was opened in, some call's
            deliver(decoder.feed(chunk))

        with contextlib.suppress(UpstreamError):  # the answer stands
            deliver(events)
        response.finish_in_background(sink, DRAIN_SECONDS)

    async def close(self) -> None:
        """End the upstream session (DELETE, bounded) and release the pooled connections."""
        client, self._client = self._client, None
        if client is None:
            return
        listener, self._listener = self._listener, None
        client.close_busy()  # the requests still waiting end now, with UpstreamDisconnectedError
        await cancel_and_wait(listener)
        await self._background.cancel_all()
        await self._answers.cancel_all()
        if self._session_id is not None:
            with contextlib.suppress(UpstreamError, TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT_SECONDS):
                    (await client.request("DELETE", self._headers())).release()
        client.close()
        self.close_reason = self.close_reason or "closed by the gateway"
        self.closed.set()
