"""The gateway's side of `mcpstead connect`: each client message as a POST to /mcp, and everything that comes
back for it (answers, progress, server-to-client requests) written to the client as it arrives; the GET
stream for what the gateway sends outside any request; and a new session, opened without the client knowing,
when the gateway has forgotten ours (it restarted), with the session's state (log level, subscriptions) sent
again and the lists announced as changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from mcpstead import __version__, jsonrpc
from mcpstead.bridge.endpoint import Endpoint
from mcpstead.bridge.stdio import MAX_LINE_BYTES
from mcpstead.config import DEFAULT_ACCEPT
from mcpstead.errors import GatewayGoneError
from mcpstead.headers import modern_request_headers
from mcpstead.protocol import PROTOCOL_VERSION_KEY
from mcpstead.upstream.wire import sse_events

RETRY_DELAYS = (0.05, 0.1, 0.25, 0.5, 1.0)
"""Waits between attempts to reach a gateway that is not there (the last one repeats)."""
ERROR_BODY_BYTES = 64 * 1024
CLOSE_SECONDS = 2.0
STATE_METHODS = frozenset({"logging/setLevel", "resources/subscribe", "resources/unsubscribe"})
"""Requests that leave state in the session: a session opened again after a restart gets them again."""
LIST_KINDS = ("tools", "prompts", "resources")
NOT_REPEATED = frozenset({"tools/call"})
"""Requests not sent again when the gateway dropped the connection after their body went out: it may have
run them (a tool's side effects must not happen twice). Reads, lists and answers are repeated."""

WriteOut = Callable[[bytes], Awaitable[None]]
Say = Callable[[str], None]


@dataclass
class _Session:
    """The 2025-era session the client believes it has, and what opens it again."""

    initialize: dict[str, Any]
    session_id: str | None = None
    protocol_version: str | None = None
    initialized: bool = False
    state: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    generation: int = 0


@dataclass
class _Exchange:
    """One client message on its way: whether its body has been handed to the socket (what comes after it
    waits for that, so a cancellation does not race its request over another connection), whether its
    answer came, and whether the client cancelled it."""

    message: Any
    sent: asyncio.Event
    answered: bool = False
    cancelled: bool = False
    answer: dict[str, Any] | None = None


def modern_version(message: Any) -> str | None:
    """The 2026-07-28-style version a request names in its `_meta`, if it does."""
    params = message.get("params") if isinstance(message, dict) else None
    meta = params.get("_meta") if isinstance(params, dict) else None
    version = meta.get(PROTOCOL_VERSION_KEY) if isinstance(meta, dict) else None
    return version if isinstance(version, str) else None


class GatewayLink:
    def __init__(self, endpoint: Endpoint, write: WriteOut, say: Say, retry_seconds: float) -> None:
        self._endpoint = endpoint
        self._write = write
        self._say = say
        self._retry_seconds = retry_seconds
        self._client: aiohttp.ClientSession | None = None
        self._session: _Session | None = None
        self._reopening = asyncio.Lock()
        self._listener: asyncio.Task[None] | None = None
        self._tool_schemas: dict[str, Any] = {}
        self._own_ids = itertools.count(1)
        self._unreachable_since: float | None = None
        self._exchanges: dict[Any, _Exchange] = {}
        self.gone: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        """Set, with the reason, when the gateway has been out of reach for longer than the retry window."""

    async def open(self) -> None:
        headers = {
            "content-type": "application/json",
            "accept": DEFAULT_ACCEPT,
            "user-agent": f"mcpstead/{__version__}",
        }
        if self._endpoint.token is not None:
            headers["authorization"] = f"Bearer {self._endpoint.token.reveal()}"
        tracing = aiohttp.TraceConfig()
        tracing.on_request_chunk_sent.append(_body_sent)
        self._client = aiohttp.ClientSession(
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
            connector=aiohttp.TCPConnector(limit=0),
            trace_configs=[tracing],
        )

    async def close(self) -> None:
        """End the session (DELETE, bounded) so the gateway forgets it now, not at its idle timeout."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, GatewayGoneError):
                await self._listener
        client, self._client = self._client, None
        if client is None:
            return
        session = self._session
        if session is not None and session.session_id is not None and not self.gone.done():
            with contextlib.suppress(aiohttp.ClientError, TimeoutError, OSError):
                async with asyncio.timeout(CLOSE_SECONDS):
                    async with client.delete(self._endpoint.url, headers=self._legacy_headers()):
                        pass
        await client.close()

    def cancelled(self, request_id: Any) -> bool:
        """The client cancelled `request_id`: no answer is owed for it (True when it was in flight)."""
        exchange = self._exchanges.get(request_id)
        if exchange is not None:
            exchange.cancelled = True
        return exchange is not None

    def is_modern_in_flight(self, request_id: Any) -> bool:
        exchange = self._exchanges.get(request_id)
        return exchange is not None and modern_version(exchange.message) is not None

    async def send(self, message: Any, sent: asyncio.Event | None = None) -> None:
        """Relay one client message, and what the gateway sends back for it, to the end of its answer.
        `sent` is set once its body has gone out (or it will not be sent)."""
        request_id = message.get("id") if isinstance(message, dict) and "method" in message else None
        exchange = _Exchange(message, sent or asyncio.Event())
        if request_id is not None:
            self._exchanges[request_id] = exchange
        try:
            if isinstance(message, dict) and message.get("method") == "initialize" and request_id is not None:
                await self._initialize(exchange)
            else:
                await self._relay(exchange)
        except GatewayGoneError as exc:
            await self._owe(exchange, str(exc))
        except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError, ValueError) as exc:
            await self._owe(exchange, f"the gateway's answer broke off ({_cause(exc)}); it may have restarted")
        except Exception as exc:  # a bug here must cost one message, never the bridge and the client's session
            await self._owe(exchange, f"mcpstead connect could not relay it: {type(exc).__name__}: {_cause(exc)}")
        finally:
            exchange.sent.set()
            if request_id is not None and self._exchanges.get(request_id) is exchange:
                del self._exchanges[request_id]

    async def _owe(self, exchange: _Exchange, reason: str) -> None:
        """A request that will get no answer from the gateway gets one saying why; anything else is said."""
        message = exchange.message
        if isinstance(message, dict) and jsonrpc.is_request(message):
            if not exchange.answered and not exchange.cancelled:
                await self._write(jsonrpc.encode(jsonrpc.error_response(message["id"], jsonrpc.UPSTREAM_ERROR, reason)))
        else:
            self._say(f"could not pass {_describe(message)} to the gateway: {reason}")

    async def _initialize(self, exchange: _Exchange) -> None:
        session = _Session(initialize=exchange.message)
        async with self._post(exchange.message, {}, exchange) as response:
            session.session_id = response.headers.get("mcp-session-id")
            await self._read(response, exchange)
        result = exchange.answer.get("result") if exchange.answer is not None else None
        if isinstance(result, dict) and session.session_id is not None:
            session.protocol_version = _version_of(result)
            self._close_listener()
            self._session = session
            self._tool_schemas.clear()

    async def _relay(self, exchange: _Exchange) -> None:
        message = exchange.message
        version = modern_version(message)
        for attempt in range(2):
            session = self._session
            generation = session.generation if session is not None else 0
            if version is not None and isinstance(message, dict):
                headers = modern_request_headers(
                    version, str(message.get("method")), message.get("params"), self._tool_schemas.get
                )
            else:
                headers = self._legacy_headers()
            async with self._post(message, headers, exchange) as response:
                lost = response.status == 404 and version is None and session is not None and not attempt
                if not lost:
                    await self._read(response, exchange)
                    break
            await self._reopen(generation)
        if isinstance(message, dict) and version is None:
            self._remember(message, exchange)

    def _remember(self, message: dict[str, Any], exchange: _Exchange) -> None:
        session = self._session
        if session is None:
            return
        method = message.get("method")
        if method == "notifications/initialized" and not session.initialized:
            session.initialized = True
            self._listener = asyncio.create_task(self._listen())
        elif method in STATE_METHODS and exchange.answer is not None and "result" in exchange.answer:
            params = message.get("params")
            params = params if isinstance(params, dict) else {}
            key = str(params.get("uri", "")) if method != "logging/setLevel" else ""
            session.state.pop(("resources/subscribe", key), None)
            session.state.pop(("resources/unsubscribe", key), None)
            if method != "resources/unsubscribe":
                session.state[(str(method), key)] = params

    def _legacy_headers(self) -> dict[str, str]:
        session = self._session
        headers: dict[str, str] = {}
        if session is not None and session.session_id is not None:
            headers["mcp-session-id"] = session.session_id
            if session.protocol_version is not None:
                headers["mcp-protocol-version"] = session.protocol_version
        return headers

    @contextlib.asynccontextmanager
    async def _post(
        self, message: Any, headers: dict[str, str], exchange: _Exchange | None = None
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        body = jsonrpc.encode(message)
        client = self._client
        assert client is not None
        sent = exchange.sent if exchange is not None else asyncio.Event()
        items = message if isinstance(message, list) else [message]
        repeatable = not any(isinstance(item, dict) and item.get("method") in NOT_REPEATED for item in items)
        start = functools.partial(
            client.post, self._endpoint.url, data=body, headers=headers, trace_request_ctx=_Sent(sent)
        )
        async with await self._reach(start, sent, repeatable=repeatable) as response:
            yield response

    async def _reach(
        self,
        start: Callable[[], Awaitable[aiohttp.ClientResponse]],
        sent: asyncio.Event | None = None,
        *,
        repeatable: bool = True,
    ) -> aiohttp.ClientResponse:
        """Start a request, trying again while the gateway is not there (it may be restarting), until the
        retry window has passed; then the gateway is gone. A request the gateway may have got (its body
        went out before the connection dropped) is tried again only when it is `repeatable`."""
        delays = iter(RETRY_DELAYS)
        stale_retried = False
        while True:
            try:
                response = await start()
            except aiohttp.ClientConnectorError as exc:
                reason = _cause(exc)
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, aiohttp.ClientConnectionResetError) as exc:
                if not repeatable and sent is not None and sent.is_set() and not _unwritten(exc):
                    raise GatewayGoneError(
                        "the gateway closed the connection after it got the request (it may have restarted); "
                        "it may or may not have run, so it is not sent again"
                    ) from None
                if sent is not None:
                    sent.clear()
                if not stale_retried:  # a kept-alive connection the gateway closed (it restarted): once more now
                    stale_retried = True
                    continue
                reason = _cause(exc)
            else:
                self._unreachable_since = None
                return response
            now = time.monotonic()
            since = self._unreachable_since = self._unreachable_since or now
            if now - since >= self._retry_seconds:
                text = f"the gateway at {self._endpoint.url} has not answered for {self._retry_seconds:g} s ({reason})"
                if not self.gone.done():
                    self.gone.set_result(text)
                raise GatewayGoneError(text)
            await asyncio.sleep(next(delays, RETRY_DELAYS[-1]))

    async def _read(self, response: aiohttp.ClientResponse, exchange: _Exchange) -> None:
        """Write what the gateway answered to the client: the JSON body, or each SSE event as it comes."""
        status = response.status
        if status in (202, 204):
            return
        if status >= 400:
            await self._refused(response, exchange)
            return
        if "text/event-stream" in response.headers.get("content-type", "").lower():
            async for _kind, data in sse_events(response.content.iter_any(), MAX_LINE_BYTES):
                if data:
                    await self._deliver(data.encode(), exchange)
        else:
            body = await _read_bounded(response, MAX_LINE_BYTES)
            if body.strip():
                await self._deliver(body, exchange)
        if isinstance(exchange.message, dict) and jsonrpc.is_request(exchange.message) and not exchange.answered:
            await self._owe(exchange, "the gateway ended its answer without a result; it may have restarted")

    async def _deliver(self, data: bytes, exchange: _Exchange | None) -> None:
        try:
            message = jsonrpc.parse(data)
        except ValueError:
            self._say("the gateway sent a message that is not JSON; it was dropped")
            return
        if b"\n" in data or b"\r" in data:
            data = jsonrpc.encode(message)  # one message, one line
        if exchange is not None and isinstance(message, dict) and jsonrpc.is_response(message):
            origin = exchange.message
            if isinstance(origin, dict) and message.get("id") == origin.get("id"):
                exchange.answered = True
                exchange.answer = message
                self._learn(origin, message)
        elif exchange is not None and isinstance(message, list):
            exchange.answered = True
        await self._write(data)

    def _learn(self, request: dict[str, Any], answer: dict[str, Any]) -> None:
        """The tools' input schemas: a 2026-07-28 tools/call mirrors the arguments they annotate into headers."""
        result = answer.get("result")
        if request.get("method") == "tools/list" and isinstance(result, dict) and isinstance(result.get("tools"), list):
            for tool in result["tools"]:
                if isinstance(tool, dict) and isinstance(tool.get("name"), str):
                    self._tool_schemas[tool["name"]] = tool.get("inputSchema")

    async def _refused(self, response: aiohttp.ClientResponse, exchange: _Exchange) -> None:
        """A 4xx/5xx answer: the gateway's JSON-RPC error as it is, else one that says what happened."""
        raw = await response.content.read(ERROR_BODY_BYTES)
        try:
            body = jsonrpc.parse(raw)
        except ValueError:
            body = None
        message = exchange.message
        request_id = message.get("id") if isinstance(message, dict) and jsonrpc.is_request(message) else None
        refused = response.status in (401, 403)
        if refused:
            self._say(f"the gateway refused the token (HTTP {response.status}); set MCPSTEAD_BEARER_TOKEN to its token")
        if isinstance(body, dict) and isinstance(body.get("error"), dict) and request_id is not None:
            body["id"] = request_id
            if refused and isinstance(body["error"].get("message"), str):
                body["error"]["message"] += " (mcpstead connect sends $MCPSTEAD_BEARER_TOKEN)"
            exchange.answered = True
            await self._write(jsonrpc.encode(body))
            return
        text = raw[:300].decode(errors="replace").strip() or response.reason or ""
        reason = f"the gateway answered HTTP {response.status}: {text}"
        if isinstance(body, dict) and isinstance(body.get("error"), dict) and request_id is None:
            reason = f"the gateway refused it: {body['error'].get('message')}"
        await self._owe(exchange, reason)
        exchange.answered = True

    async def _reopen(self, generation: int) -> None:
        """The gateway does not know our session (404): open a new one with the client's own initialize,
        once for every request that found it lost."""
        async with self._reopening:
            session = self._session
            if session is None or session.generation != generation:
                return
            fresh = _Session(
                initialize=session.initialize,
                initialized=session.initialized,
                state=session.state,
                generation=session.generation + 1,
            )
            answer = await self._ask(fresh, "initialize", session.initialize.get("params"))
            result = answer.get("result") if isinstance(answer, dict) else None
            if not isinstance(result, dict) or fresh.session_id is None:
                raise GatewayGoneError(f"the gateway refused to open a new session: {_error_text(answer)}")
            fresh.protocol_version = _version_of(result)
            self._session = fresh
            self._tool_schemas.clear()
            if fresh.initialized:
                await self._ask(fresh, "notifications/initialized", None)
                for (method, _key), state_params in fresh.state.items():
                    await self._ask(fresh, method, state_params)
            self._say("the gateway no longer knew this session (it restarted?); a new one is open")
            capabilities = result.get("capabilities")
            for kind in LIST_KINDS:
                capability = capabilities.get(kind) if isinstance(capabilities, dict) else None
                if fresh.initialized and isinstance(capability, dict) and capability.get("listChanged"):
                    await self._write(
                        jsonrpc.encode({"jsonrpc": "2.0", "method": f"notifications/{kind}/list_changed"})
                    )

    async def _ask(self, session: _Session, method: str, params: Any) -> Any:
        """The bridge's own request (or notification) on `session`; its answer is not the client's."""
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        if not method.startswith("notifications/"):
            message["id"] = f"mcpstead-connect-{next(self._own_ids)}"
        headers: dict[str, str] = {}
        if session.session_id is not None:
            headers["mcp-session-id"] = session.session_id
            if session.protocol_version is not None:
                headers["mcp-protocol-version"] = session.protocol_version
        async with self._post(message, headers) as response:
            if method == "initialize":
                session.session_id = response.headers.get("mcp-session-id")
            if response.status in (202, 204):
                return None
            if response.status >= 400:
                return _parsed(await response.content.read(ERROR_BODY_BYTES))
            if "text/event-stream" in response.headers.get("content-type", "").lower():
                async for _kind, data in sse_events(response.content.iter_any(), MAX_LINE_BYTES):
                    answer = _parsed(data.encode())
                    if isinstance(answer, dict) and answer.get("id") == message.get("id"):
                        return answer
                return None
            return _parsed(await _read_bounded(response, MAX_LINE_BYTES))

    def _close_listener(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            self._listener = None

    async def _listen(self) -> None:
        """The GET stream: what the gateway sends outside any request (list changes, resource updates, its
        requests), opened again whenever it ends, on a new session when the old one is lost."""
        delays = iter(RETRY_DELAYS)
        while (session := self._session) is not None and session.session_id is not None:
            client = self._client
            assert client is not None
            generation = session.generation
            headers = {**self._legacy_headers(), "accept": "text/event-stream"}
            try:
                async with await self._reach(
                    functools.partial(client.get, self._endpoint.url, headers=headers)
                ) as response:
                    if response.status == 404:
                        await self._reopen(generation)
                        continue
                    if response.status == 405:
                        return  # this gateway offers no stream
                    if response.status == 200:
                        delays = iter(RETRY_DELAYS)
                        async for _kind, data in sse_events(response.content.iter_any(), MAX_LINE_BYTES):
                            if data:
                                await self._deliver(data.encode(), None)
                    else:
                        self._say(f"the gateway refused the stream for its own messages: HTTP {response.status}")
            except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError, ValueError):
                pass  # the stream broke off: open it again
            except GatewayGoneError as exc:
                if self.gone.done():
                    return  # the bridge is ending
                self._say(f"{exc}; trying again")
                await asyncio.sleep(RETRY_DELAYS[-1])
            await asyncio.sleep(next(delays, RETRY_DELAYS[-1]))


@dataclass
class _Sent:
    """A request's trace context: the event its body going out sets."""

    event: asyncio.Event


async def _body_sent(
    _session: aiohttp.ClientSession, context: Any, _params: aiohttp.TraceRequestChunkSentParams
) -> None:
    sent = context.trace_request_ctx
    if isinstance(sent, _Sent):
        sent.event.set()


def _unwritten(exc: BaseException) -> bool:
    """The body was never written: the connection was found closed when aiohttp came to write it."""
    return isinstance(exc, aiohttp.ClientConnectionResetError) and "closing transport" in str(exc)


async def _read_bounded(response: aiohttp.ClientResponse, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise ValueError(f"an answer larger than {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _parsed(raw: bytes) -> Any:
    try:
        return jsonrpc.parse(raw) if raw.strip() else None
    except ValueError:
        return None


def _version_of(result: dict[str, Any]) -> str | None:
    version = result.get("protocolVersion")
    return version if isinstance(version, str) else None


def _cause(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _error_text(answer: Any) -> str:
    error = answer.get("error") if isinstance(answer, dict) else None
    return str(error.get("message")) if isinstance(error, dict) else "no answer"


def _describe(message: Any) -> str:
    if isinstance(message, dict) and "method" in message:
        return f"the notification {message['method']}"
    if isinstance(message, dict):
        return f"the answer to request {message.get('id')!r}"
    return "a batch"
