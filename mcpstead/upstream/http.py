"""Streamable HTTP upstreams (legacy era): every message is a POST, answers come as JSON or an SSE stream.

One pooled keep-alive client per upstream, on the aiohttp transport (design.md §8: httpx's own pool costs
4-5x more CPU per forwarded call here). The upstream's session id and negotiated version ride on every request.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
from collections.abc import Callable
from typing import Any

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport
from httpx_sse import EventSource, ServerSentEvent, SSEError

from mcpstead import __version__, jsonrpc
from mcpstead.config import DEFAULT_ACCEPT, ServerConfig
from mcpstead.errors import UpstreamError, UpstreamRpcError, UpstreamTimeoutError
from mcpstead.jsonrpc import SESSION_NOT_FOUND
from mcpstead.upstream.base import (
    ByteCounter,
    NotificationHandler,
    initialize,
    next_request_id,
    reply_to_server_request,
)
from mcpstead.upstream.pending import unwrap

log = logging.getLogger("mcpstead.upstream")
ERROR_BODY_CHARS = 512
IGNORED_SSE_EVENTS = frozenset({"ping", "keepalive", "heartbeat"})
CLOSE_TIMEOUT_SECONDS = 2.0


def build_client(config: ServerConfig, accept: str | None = None) -> httpx.AsyncClient:
    """One pooled keep-alive client for an upstream, on the aiohttp transport.

    Default headers first; configured headers replace a default of the same name instead of adding to it.
    """
    headers = httpx.Headers(
        {
            "content-type": "application/json",
            "accept": accept or config.quirks.inject_accept_header or DEFAULT_ACCEPT,
            "user-agent": f"mcpstead/{__version__}",
        }
    )
    token = config.auth.token
    if token is not None:
        headers["authorization"] = f"Bearer {token.reveal()}"
    for name, value in config.headers.items():
        headers[name] = value
    return httpx.AsyncClient(
        transport=AiohttpTransport(verify=not config.tls_skip_verify, trust_env=False),
        timeout=httpx.Timeout(config.timeout_seconds, connect=min(10.0, config.timeout_seconds)),
        headers=headers,
    )


def describe_http_error(upstream: str, exc: httpx.HTTPError) -> UpstreamError:
    """A transport failure as an UpstreamError with a short human cause ('connection refused').

    The aiohttp transport reports a refused connection as httpx.ConnectTimeout, so the cause chain is
    inspected before the exception's class is believed.
    """
    cause = _root_cause(exc)
    if isinstance(cause, ConnectionRefusedError) or getattr(cause, "errno", None) == errno.ECONNREFUSED:
        return UpstreamError(upstream, f"upstream '{upstream}' request failed: connection refused")
    if isinstance(cause, aiohttp.ClientConnectorError):
        return UpstreamError(upstream, f"upstream '{upstream}' request failed: cannot connect ({cause.os_error})")
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamError(
            upstream, f"upstream '{upstream}' timed out: {_first_line(exc)}", reason="upstream_timeout"
        )
    return UpstreamError(upstream, f"upstream '{upstream}' request failed: {_first_line(exc)}")


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost exception, or the first aiohttp connector error on the way there."""
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, aiohttp.ClientConnectorError):
            refused = exc.os_error
            return refused if isinstance(refused, ConnectionRefusedError) else exc
        inner = exc.__cause__ or exc.__context__
        if inner is None:
            break
        exc = inner
    return exc


def _first_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]


class StreamableHttpConnection:
    def __init__(
        self,
        config: ServerConfig,
        on_notification: NotificationHandler,
        on_session_reset: Callable[[str], None] = lambda reason: None,
        count_bytes: ByteCounter = lambda direction, size: None,
    ) -> None:
        assert config.url is not None
        self._config = config
        self._count_bytes = count_bytes
        self._on_session_reset = on_session_reset
        self._reset_lock = asyncio.Lock()
        self._name = config.name
        self._url = config.url
        self._on_notification = on_notification
        self._client: httpx.AsyncClient | None = None
        self._session_id: str | None = None
        self._protocol_version: str | None = None
        self.closed = asyncio.Event()
        self.close_reason: str | None = None

    async def open(self) -> None:
        self._client = build_client(self._config)

    async def request(self, method: str, params: dict[str, Any] | None, timeout: float) -> Any:
        """One request; when the upstream has forgotten our session, re-initialize once and retry once."""
        session = self._session_id
        try:
            return await self._request_once(method, params, timeout)
        except UpstreamError as exc:
            reason = session_reset_reason(exc)
            if reason is None or session is None or method == "initialize":
                raise
            await self._recover_session(session, reason, timeout)
            return await self._request_once(method, params, timeout)

    async def _recover_session(self, failed_session: str, reason: str, timeout: float) -> None:
        """Re-initialize, once for all concurrent callers that saw the same dead session."""
        async with self._reset_lock:
            if self._session_id != failed_session:
                return  # another caller already recovered
            log.info("upstream %s session invalidated (%s); re-initializing", self._name, reason)
            self._session_id = None
            self._protocol_version = None
            self._on_session_reset(reason)
            await initialize(self, self._name, timeout)

    async def _request_once(self, method: str, params: dict[str, Any] | None, timeout: float) -> Any:
        request_id = next_request_id()
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        try:
            async with asyncio.timeout(timeout):
                answer = await self._post(message, expect_id=request_id)
        except TimeoutError:
            raise UpstreamTimeoutError(self._name, timeout) from None
        if answer is None:
            raise UpstreamError(self._name, f"upstream '{self._name}' returned no body")
        if method == "initialize" and isinstance(answer.get("result"), dict):
            version = answer["result"].get("protocolVersion")
            self._protocol_version = version if isinstance(version, str) else None
        return unwrap(self._name, answer)

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        await self._post(message, expect_id=None)

    def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self._session_id is not None:
            headers["mcp-session-id"] = self._session_id
        if self._protocol_version is not None:
            headers["mcp-protocol-version"] = self._protocol_version
        return headers

    async def _post(self, message: dict[str, Any], expect_id: int | None) -> dict[str, Any] | None:
        client = self._client
        if client is None:
            raise UpstreamError(self._name, f"upstream '{self._name}' is not open")
        content = jsonrpc.encode(message)
        self._count_bytes("sent", len(content))
        request = client.build_request("POST", self._url, content=content, headers=self._headers())
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise describe_http_error(self._name, exc) from None
        try:
            session_id = response.headers.get("mcp-session-id")
            if session_id and message.get("method") == "initialize":
                self._session_id = session_id
            return await self._read_answer(response, expect_id)
        except httpx.TimeoutException:
            raise UpstreamTimeoutError(self._name, self._config.timeout_seconds) from None
        except httpx.HTTPError as exc:
            raise UpstreamError(self._name, f"upstream '{self._name}' answer broke off: {_first_line(exc)}") from None
        finally:
            await response.aclose()

    async def _read_answer(self, response: httpx.Response, expect_id: int | None) -> dict[str, Any] | None:
        status = response.status_code
        if status >= 400:
            text = (await response.aread()).decode(errors="replace")[:ERROR_BODY_CHARS]
            reason = "upstream_auth_failed" if status in (401, 403) else "upstream_protocol_error"
            raise UpstreamError(
                self._name, f"upstream '{self._name}' HTTP {status}: {text}", reason=reason, status=status
            )
        content_type = response.headers.get("content-type", "").lower()
        if "text/event-stream" in content_type:
            return await self._read_sse(response, expect_id)
        body = await response.aread()
        self._count_bytes("received", len(body))
        if not body.strip():
            return None
        if expect_id is None:
            return None
        if "json" not in content_type:
            shown = content_type.split(";")[0] or "none"
            raise UpstreamError(
                self._name,
                f"upstream '{self._name}' answered with content type '{shown}', expected JSON or SSE",
            )
        try:
            answer = json.loads(body)
        except ValueError:
            raise UpstreamError(self._name, f"upstream '{self._name}' response body is not valid JSON") from None
        if not isinstance(answer, dict):
            raise UpstreamError(self._name, f"upstream '{self._name}' answered with a JSON {type(answer).__name__}")
        if answer.get("id") != expect_id:
            raise UpstreamError(self._name, f"upstream '{self._name}' answered with the wrong id")
        return answer

    async def _read_sse(self, response: httpx.Response, expect_id: int | None) -> dict[str, Any] | None:
        """Read events until the answer to `expect_id`; notifications before it go to the handler."""
        normalize = self._config.quirks.normalize_sse_events
        try:
            async for event in EventSource(response).aiter_sse():
                self._count_bytes("received", len(event.data))
                message = sse_message(self._name, event, normalize)
                if message is None:
                    continue
                if jsonrpc.is_response(message) and message.get("id") == expect_id:
                    return message
                if jsonrpc.is_request(message):
                    await self._answer_server_request(message)
                elif jsonrpc.is_notification(message):
                    self._on_notification(message)
        except SSEError as exc:
            raise UpstreamError(self._name, f"upstream '{self._name}' sent a broken SSE stream: {exc}") from None
        if expect_id is None:
            return None
        raise UpstreamError(self._name, f"upstream '{self._name}' SSE stream ended before the response")

    async def _answer_server_request(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(UpstreamError):
            await self._post(reply_to_server_request(message), expect_id=None)

    async def close(self) -> None:
        """End the upstream session (DELETE, bounded) and release the pooled connections."""
        client, self._client = self._client, None
        if client is None:
            return
        if self._session_id is not None:
            with contextlib.suppress(httpx.HTTPError, TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT_SECONDS):
                    await client.delete(self._url, headers=self._headers())
        await client.aclose()
        self.close_reason = self.close_reason or "closed by the gateway"
        self.closed.set()


def sse_message(upstream: str, event: ServerSentEvent, normalize: bool) -> dict[str, Any] | None:
    """The JSON-RPC message an SSE event carries, or None for events to skip.

    JSON-RPC rides on `message` events (the default type). Keep-alive events are skipped, an `error` event
    is an error, and other event names are skipped unless `normalize_sse_events` says to ignore names (for
    servers that put messages in events of their own naming).
    """
    kind = event.event or "message"
    data = event.data.strip()
    if not data or data == "[DONE]" or kind in IGNORED_SSE_EVENTS:
        return None
    if kind == "error" and not normalize:
        raise UpstreamError(upstream, f"upstream '{upstream}' SSE error event: {data[:ERROR_BODY_CHARS]}")
    if kind != "message" and not normalize:
        return None
    try:
        message = json.loads(data)
    except ValueError:
        if kind != "message":
            return None
        raise UpstreamError(upstream, f"upstream '{upstream}' SSE message data is not valid JSON") from None
    return message if isinstance(message, dict) else None


def session_reset_reason(exc: UpstreamError) -> str | None:
    """Whether an upstream error means "your session is gone", and why (the reference's three reasons)."""
    text = str(exc).lower()
    if isinstance(exc, UpstreamRpcError):
        if exc.error.get("code") != SESSION_NOT_FOUND:
            return None
    elif exc.status not in (401, 403, 404, 410):
        return None
    if "session expired" in text:
        return "expired"
    if "session terminated" in text:
        return "terminated"
    if exc.status == 404 or isinstance(exc, UpstreamRpcError):
        return "unknown_session"
    if "unknown mcp session" in text or "session not found" in text:
        return "unknown_session"
    return None
