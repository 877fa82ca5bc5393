"""Legacy HTTP+SSE upstreams (protocol 2024-11-05): GET opens an event stream whose first event names the
URL to POST messages to; every answer comes back on the stream. The stream is the session: when it ends,
the connection is closed and the supervisor reconnects.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from mcpstead import jsonrpc
from mcpstead.aio import cancel_and_wait
from mcpstead.config import ServerConfig
from mcpstead.errors import UpstreamDisconnectedError, UpstreamError, UpstreamTimeoutError
from mcpstead.relay import ServerRequestTasks, UpstreamInbound
from mcpstead.traffic import detach
from mcpstead.upstream.base import DEFAULT_LIMIT, MessageLimit, WireHook
from mcpstead.upstream.pending import OutOfBandLink
from mcpstead.upstream.wire import (
    ERROR_BODY_CHARS,
    default_headers,
    first_line,
    is_refused,
    sse_events,
    sse_message,
)

log = logging.getLogger("mcpstead.upstream")


def build_client(config: ServerConfig, accept: str | None = None) -> httpx.AsyncClient:
    """The legacy transport keeps httpx on the aiohttp transport; its stream is read by our own bounded SSE parser.

    Default headers first; configured headers replace a default of the same name instead of adding to it.
    """
    return httpx.AsyncClient(
        transport=AiohttpTransport(verify=not config.tls_skip_verify, trust_env=False),
        timeout=httpx.Timeout(config.timeout_seconds, connect=min(10.0, config.timeout_seconds)),
        headers=default_headers(config, accept),
    )


def describe_http_error(upstream: str, exc: httpx.HTTPError) -> UpstreamError:
    """A transport failure as an UpstreamError with a short human cause ('connection refused').

    The aiohttp transport reports a refused connection as httpx.ConnectTimeout, so the cause chain is
    inspected before the exception's class is believed.
    """
    cause = _root_cause(exc)
    if is_refused(cause):
        return UpstreamError(upstream, f"upstream '{upstream}' request failed: connection refused")
    if isinstance(cause, aiohttp.ClientConnectorError):
        return UpstreamError(upstream, f"upstream '{upstream}' request failed: cannot connect ({cause.os_error})")
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamError(upstream, f"upstream '{upstream}' timed out: {first_line(exc)}", reason="upstream_timeout")
    return UpstreamError(upstream, f"upstream '{upstream}' request failed: {first_line(exc)}")


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


class SseConnection(OutOfBandLink):
    def __init__(
        self,
        config: ServerConfig,
        inbound: UpstreamInbound,
        on_wire: WireHook = lambda direction, data: None,
        limit: MessageLimit = DEFAULT_LIMIT,
    ) -> None:
        super().__init__(config.name)
        assert config.url is not None
        self._config = config
        self._limit = limit
        self._on_wire = on_wire
        self._name = config.name
        self._url = config.url
        self._inbound = inbound
        self._answers = ServerRequestTasks(out_of_band=True)
        self._client: httpx.AsyncClient | None = None
        self._stream: httpx.Response | None = None
        self._endpoint: str | None = None
        self._reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        """Open the event stream and wait (bounded) for the `endpoint` event."""
        self._client = build_client(self._config, accept="text/event-stream")
        request = self._client.build_request(
            "GET", self._url, timeout=httpx.Timeout(self._config.timeout_seconds, read=None)
        )
        try:
            async with asyncio.timeout(self._config.timeout_seconds):
                self._stream = await self._client.send(request, stream=True)
                if self._stream.status_code >= 400:
                    text = (await self._stream.aread()).decode(errors="replace")[:ERROR_BODY_CHARS]
                    raise UpstreamError(
                        self._name,
                        f"upstream '{self._name}' HTTP {self._stream.status_code}: {text}",
                        status=self._stream.status_code,
                    )
                content_type = self._stream.headers.get("content-type", "")
                if "text/event-stream" not in content_type:
                    raise UpstreamError(
                        self._name,
                        f"upstream '{self._name}' answered GET with '{content_type.split(';')[0] or 'no content type'}', "
                        "expected an SSE stream",
                    )
                events = sse_events(self._stream.aiter_bytes(), self._limit.max_bytes)
                kind, data = await anext(events)
                if kind != "endpoint" or not data.strip():
                    raise UpstreamError(
                        self._name, f"upstream '{self._name}' SSE stream did not start with an 'endpoint' event"
                    )
                self._endpoint = self._resolve_endpoint(data.strip())
        except TimeoutError:
            raise UpstreamTimeoutError(self._name, self._config.timeout_seconds) from None
        except ValueError as exc:
            raise UpstreamError(self._name, f"upstream '{self._name}' sent a broken SSE stream: {exc}") from None
        except StopAsyncIteration:
            raise UpstreamError(self._name, f"upstream '{self._name}' SSE stream ended before the endpoint") from None
        except httpx.HTTPError as exc:
            raise describe_http_error(self._name, exc) from None
        self._reader = asyncio.create_task(self._read(events), name=f"sse-{self._name}")

    def _resolve_endpoint(self, data: str) -> str:
        """The endpoint may be relative; it must stay on the upstream's own origin."""
        endpoint = urljoin(self._url, data)
        mine, theirs = urlsplit(self._url), urlsplit(endpoint)
        if (mine.scheme, mine.netloc) != (theirs.scheme, theirs.netloc):
            raise UpstreamError(self._name, f"upstream '{self._name}' sent an endpoint on another origin: {endpoint}")
        return endpoint

    async def _read(self, events: AsyncIterator[tuple[str, str]]) -> None:
        detach()  # the one stream carries everything; answers are linked by their ids
        reason = "SSE stream ended"
        try:
            async for kind, data in events:
                if kind != "endpoint":  # a later endpoint event names the session's URL: not a message
                    self._on_wire("received", data)
                try:
                    message = sse_message(self._name, kind, data, self._config.quirks.normalize_sse_events)
                except UpstreamError as exc:  # one bad event must not end the session's stream
                    log.warning("%s", exc)
                    continue
                if message is None:
                    continue
                if jsonrpc.is_response(message):
                    self._pending.resolve(message)
                elif jsonrpc.is_request(message):
                    self._answers.spawn(self._inbound, message, None, self.respond)
                elif jsonrpc.is_notification(message):
                    self._inbound.deliver(message)
        except httpx.HTTPError as exc:
            reason = f"SSE stream broke: {exc}"
        except ValueError as exc:  # an event past limits.upstream_message_bytes: the stream cannot go on
            self._limit.hit("upstream_message")
            reason = f"SSE stream refused: {exc} (limits.upstream_message_bytes)"
        finally:
            self._mark_closed(reason)

    async def _send(self, message: dict[str, Any]) -> None:
        client, endpoint = self._client, self._endpoint
        if client is None or endpoint is None:
            raise UpstreamDisconnectedError(self._name, self.close_reason)
        content = jsonrpc.encode(message)
        self._on_wire("sent", content)
        try:
            response = await client.post(
                endpoint, content=content, headers={"accept": "application/json, text/event-stream"}
            )
        except httpx.HTTPError as exc:
            raise describe_http_error(self._name, exc) from None
        if response.status_code >= 400:
            text = response.text[:ERROR_BODY_CHARS]
            raise UpstreamError(
                self._name, f"upstream '{self._name}' HTTP {response.status_code}: {text}", status=response.status_code
            )

    async def close(self) -> None:
        reader, self._reader = self._reader, None
        await cancel_and_wait(reader)
        await self._answers.cancel_all()
        if self._stream is not None:
            await self._stream.aclose()
            self._stream = None
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
        self._mark_closed(self.close_reason or "closed by the gateway")
