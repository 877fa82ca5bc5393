"""Streamable HTTP upstreams that speak 2026-07-28: no handshake, no session, an envelope on every request.

The link is the legacy one's (`http.py`: the upstream's keep-alive pool, the bounded JSON and SSE readers), with
what this era changes: each request carries `_meta` with the protocol version, the calling client's
capabilities (the gateway's own requests declare none) and its log level, and the `MCP-Protocol-Version`,
`Mcp-Method`, `Mcp-Name` and `Mcp-Param-*` headers; an error comes with a 4xx status and a JSON-RPC body;
there is no GET stream and nothing to DELETE, and closing a response stream is the cancellation.

An `input_required` result goes back to a 2026-07-28 client as it is (its retry carries the upstream's own
`requestState` through). For a 2025-era client it is bridged: each of the upstream's input requests is
relayed to the client as the server-to-client request it stands for, on the call's stream, and the call is
retried with the answers as `inputResponses` and the `requestState` echoed, round after round (bounded).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable
from typing import Any

from mcpstead import jsonrpc
from mcpstead.config import ServerConfig
from mcpstead.errors import UpstreamError, UpstreamRpcError, UpstreamTimeoutError
from mcpstead.headers import modern_request_headers
from mcpstead.protocol import (
    CLIENT_CAPABILITIES_KEY,
    CLIENT_INFO_KEY,
    IMPLEMENTATION,
    LOG_LEVEL_KEY,
    MODERN_VERSIONS,
    PROTOCOL_VERSION_KEY,
    SUBSCRIPTION_ID_KEY,
    Era,
    without_meta,
)
from mcpstead.relay import InFlightCall, UpstreamInbound
from mcpstead.traffic import detach
from mcpstead.upstream.base import DEFAULT_LIMIT, MessageLimit, WireHook, notification_message, request_message
from mcpstead.upstream.h1 import H1Response
from mcpstead.upstream.http import LISTEN_OPEN_SECONDS, StreamableHttpConnection
from mcpstead.upstream.pending import unwrap
from mcpstead.upstream.stdio import StdioConnection
from mcpstead.upstream.wire import sse_events

MODERN_VERSION = MODERN_VERSIONS[0]
MAX_INPUT_ROUNDS = 16
"""How many input_required rounds one call may take before it is given up (an upstream that never stops
asking must not hold a client forever)."""
LIST_FLAGS = ("toolsListChanged", "promptsListChanged", "resourcesListChanged")
RELISTEN_SECONDS = 1.0
"""A stdio child that ended its listen request gets a new one this much later."""
log = logging.getLogger("mcpstead.upstream")
_bridged_ids = itertools.count(1)


class ModernExchanges:
    """What both transports do the same in this era: the request loop that bridges `input_required` for a
    2025-era client, and subscriptions held in the filter of a `subscriptions/listen` stream. A transport
    gives `_exchange` (one request and its result) and `_relisten` (the stream again, with the filter)."""

    _name: str
    _uris: set[str]
    """Resources the gateway's clients subscribed to, for the listen stream's filter."""
    _acknowledged: asyncio.Event
    """Set when the current listen stream's filter is acknowledged (or no stream is coming)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """The transport's own arguments, passed on."""
        super().__init__(*args, **kwargs)
        self._uris = set()
        self._acknowledged = asyncio.Event()

    async def _exchange(self, method: str, params: dict[str, Any], timeout: float, call: InFlightCall | None) -> Any:
        raise NotImplementedError

    def _relisten(self) -> None:
        raise NotImplementedError

    def _listen_filter(self) -> dict[str, Any]:
        wanted: dict[str, Any] = {flag: True for flag in LIST_FLAGS}
        if self._uris:
            wanted["resourceSubscriptions"] = sorted(self._uris)
        return {"notifications": wanted}

    async def request(
        self, method: str, params: dict[str, Any] | None, timeout: float, call: InFlightCall | None = None
    ) -> Any:
        """`resources/subscribe` and `unsubscribe` do not exist in this era: the URI joins (or leaves) the
        listen stream's filter, which is opened again with it. Anything else is a request, with as many
        input_required rounds as a 2025-era client is asked to answer."""
        if method in ("resources/subscribe", "resources/unsubscribe"):
            uri = (params or {}).get("uri")
            if isinstance(uri, str):
                (self._uris.add if method == "resources/subscribe" else self._uris.discard)(uri)
                self._relisten()
                with contextlib.suppress(TimeoutError):  # in force once the new stream is acknowledged
                    async with asyncio.timeout(min(timeout, LISTEN_OPEN_SECONDS)):
                        await self._acknowledged.wait()
            return {}
        asked = dict(params or {})
        current = asked
        for _round in range(MAX_INPUT_ROUNDS + 1):
            result = await self._exchange(method, current, timeout, call)
            if not isinstance(result, dict) or result.get("resultType") != "input_required":
                return result
            if call is not None and call.bridge is not None:
                return result  # a 2026-07-28 client answers it itself, and retries with the upstream's state
            if call is None or call.session is None:
                raise UpstreamError(
                    self._name, f"upstream '{self._name}' asked for input ({method}) that no client is there to give"
                )
            current = {**asked, "inputResponses": await self._ask_client(call, result.get("inputRequests"))}
            if "requestState" in result:
                current["requestState"] = result["requestState"]
        raise UpstreamError(
            self._name, f"upstream '{self._name}' asked for input more than {MAX_INPUT_ROUNDS} times in one call"
        )

    async def _ask_client(self, call: InFlightCall, requests: Any) -> dict[str, Any]:
        """Each input request as the server-to-client request it stands for, relayed to the calling (legacy)
        client; its answers, by key. A refused or failed one is not answered (the upstream decides)."""
        if not isinstance(requests, dict):
            return {}
        keys, asks = [], []
        for key, request in requests.items():
            if isinstance(request, dict) and isinstance(request.get("method"), str):
                message = {"jsonrpc": "2.0", "id": f"mrtr-{next(_bridged_ids)}", "method": request["method"]}
                if "params" in request:
                    message["params"] = request["params"]
                keys.append(key)
                asks.append(call.relay_request(message))
        answers = await asyncio.gather(*asks)
        return {
            key: answer["result"]
            for key, answer in zip(keys, answers, strict=True)
            if isinstance(answer, dict) and isinstance(answer.get("result"), dict)
        }


class ModernHttpConnection(ModernExchanges, StreamableHttpConnection):
    def __init__(
        self,
        config: ServerConfig,
        inbound: UpstreamInbound,
        on_wire: WireHook = lambda direction, data: None,
        limit: MessageLimit = DEFAULT_LIMIT,
        tool_schema: Callable[[str], Any] = lambda name: None,
    ) -> None:
        super().__init__(config, inbound, on_wire=on_wire, limit=limit)
        self._tool_schema = tool_schema
        """The input schema of one of the upstream's tools, for the Mcp-Param-* headers its calls carry."""

    def _relisten(self) -> None:
        self._acknowledged.clear()
        listener = self._listener
        if listener is not None and not listener.done():
            listener.cancel()
        self._listener = None
        if self._client is not None:
            super().initialized()

    async def _listen_once(self) -> bool:
        """Read the listen stream until it ends; False when the upstream offers none. List changes and
        resource updates go to the inbound as a GET stream's would, without the subscription's tag."""
        client = self._client
        if client is None:
            return False
        request_id, message = request_message("subscriptions/listen", with_envelope(self._listen_filter(), None))
        headers = self._request_headers("subscriptions/listen", {})
        response = await client.request("POST", headers, jsonrpc.encode(message))
        try:
            if response.status in (400, 404, 405):
                log.debug("upstream %s offers no subscriptions/listen (HTTP %s)", self._name, response.status)
                self._acknowledged.set()  # nothing will acknowledge a subscription: do not wait for it
                return False
            if response.status >= 400 or "text/event-stream" not in response.headers.get("content-type", ""):
                raise UpstreamError(self._name, f"upstream '{self._name}' listen stream: HTTP {response.status}")
            self._listening.set()
            async for kind, data in sse_events(response.chunks(), self._limit.max_bytes):
                event = self._event_message(kind, data)
                if event is None:
                    continue
                if event.get("method") == "notifications/subscriptions/acknowledged":
                    self._acknowledged.set()
                    continue
                if jsonrpc.is_notification(event):
                    self._inbound.deliver(untagged(event))
                elif event.get("id") == request_id:
                    break  # the upstream ended the subscription
        finally:
            response.release()
        return True

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        """This era defines no client notification over HTTP (a cancellation is a closed stream)."""

    async def respond(self, message: dict[str, Any]) -> None:
        """Never asked: a 2026-07-28 server sends its client no requests."""

    async def _exchange(self, method: str, params: dict[str, Any], timeout: float, call: InFlightCall | None) -> Any:
        request_id, message = request_message(method, with_envelope(params, call))
        try:
            async with asyncio.timeout(timeout):
                answer = await self._post(
                    message, expect_id=request_id, call=call, headers=self._request_headers(method, params)
                )
        except TimeoutError:
            raise UpstreamTimeoutError(self._name, timeout) from None
        if answer is None:
            raise UpstreamError(self._name, f"upstream '{self._name}' returned no body")
        return unwrap(self._name, answer)

    def _request_headers(self, method: str, params: dict[str, Any]) -> dict[str, str]:
        return modern_request_headers(MODERN_VERSION, method, params, self._tool_schema)

    async def _read_answer(
        self, response: H1Response, expect_id: int | None, call: InFlightCall | None
    ) -> dict[str, Any] | None:
        """This era answers errors with a 4xx status and a JSON-RPC error body: that is the upstream's own
        error (-32601 for a method it does not have, ...), not a broken link."""
        try:
            return await super()._read_answer(response, expect_id, call)
        except UpstreamError as exc:
            if exc.status is not None and exc.body_error is not None:
                raise UpstreamRpcError(self._name, exc.body_error) from None
            raise


class ModernStdioConnection(ModernExchanges, StdioConnection):
    """A child that speaks 2026-07-28 on stdin/stdout: the envelope on every request, no handshake, and a
    `subscriptions/listen` request whose notifications (tagged with its id) come on stdout among the rest;
    a new filter cancels it (`notifications/cancelled`, the one client notification of this era on stdio)
    and listens again. Detection asks a child `server/discover` and then `initialize` on this connection,
    switching the era it speaks (`speak`), so finding out costs no second start."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """As StdioConnection's."""
        super().__init__(*args, **kwargs)
        self._legacy = False
        self._listen_id: int | None = None
        """The id of the listen request in force; its notifications carry it."""
        self._listen_lock = asyncio.Lock()

    def speak(self, era: Era) -> None:
        self._legacy = era == "legacy"

    async def request(
        self, method: str, params: dict[str, Any] | None, timeout: float, call: InFlightCall | None = None
    ) -> Any:
        if self._legacy:
            return await StdioConnection.request(self, method, params, timeout, call)
        return await super().request(method, params, timeout, call)

    async def _exchange(self, method: str, params: dict[str, Any], timeout: float, call: InFlightCall | None) -> Any:
        return await StdioConnection.request(self, method, with_envelope(params, call), timeout, call)

    def initialized(self) -> None:
        """Once the era is settled (a 2025 handshake on this connection says so too): listen."""
        if not self._legacy:
            self._relisten()

    def _relisten(self, after: float = 0.0) -> None:
        self._acknowledged.clear()
        task = asyncio.create_task(self._listen(after), name=f"stdio-listen-{self._name}")
        self._tasks.append(task)
        task.add_done_callback(self._tasks.remove)

    async def _listen(self, after: float) -> None:
        """End the listen request in force, if any, and send one with the current filter."""
        detach()  # a listen belongs to no request, even when a subscribe started it
        await asyncio.sleep(after)
        async with self._listen_lock:
            with contextlib.suppress(UpstreamError):  # the link is gone: the supervisor sees it
                ending, self._listen_id = self._listen_id, None  # its answer, should it come, is not the new one's
                if ending is not None:
                    ended = {"requestId": ending, "reason": "listening with a new filter"}
                    await self._send(notification_message("notifications/cancelled", ended))
                request_id, message = request_message(
                    "subscriptions/listen", with_envelope(self._listen_filter(), None)
                )
                self._listen_id = request_id
                await self._send(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        if self._legacy:
            super()._dispatch(message)
        elif jsonrpc.is_response(message) and self._listen_id is not None and message.get("id") == self._listen_id:
            self._listen_id = None
            self._acknowledged.set()  # nothing will acknowledge a subscription now: do not wait for it
            if "error" in message:  # no listen offered: list changes are seen at the scheduled refresh
                log.debug("upstream %s refused subscriptions/listen: %s", self._name, message["error"])
            else:  # the child ended it: listen again, as the HTTP stream is opened again
                self._relisten(after=RELISTEN_SECONDS)
        elif message.get("method") == "notifications/subscriptions/acknowledged":
            if subscription_of(message) == self._listen_id:
                self._acknowledged.set()
        elif jsonrpc.is_notification(message) and subscription_of(message) is not None:
            self._inbound.deliver(untagged(message))  # this listen's or the one it replaced: both count
        else:
            super()._dispatch(message)


def subscription_of(message: dict[str, Any]) -> Any:
    """The subscription id a listen stream's notification carries in `_meta` (None if it has none)."""
    params = message.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    return meta.get(SUBSCRIPTION_ID_KEY) if isinstance(meta, dict) else None


def untagged(message: dict[str, Any]) -> dict[str, Any]:
    """A listen stream's notification without its subscription id (the clients it goes to never asked)."""
    params = message.get("params")
    if not isinstance(params, dict):
        return message
    return {**message, "params": without_meta(params, (SUBSCRIPTION_ID_KEY,))}


def with_envelope(params: dict[str, Any], call: InFlightCall | None) -> dict[str, Any]:
    """`params` with this era's envelope in `_meta`: the calling client's capabilities and log level (none
    for the gateway's own requests), mcpstead as the client."""
    meta = params.get("_meta")
    envelope = dict(meta) if isinstance(meta, dict) else {}
    session = call.session if call is not None else None
    envelope[PROTOCOL_VERSION_KEY] = MODERN_VERSION
    envelope[CLIENT_CAPABILITIES_KEY] = session.capabilities if session is not None else {}
    envelope[CLIENT_INFO_KEY] = IMPLEMENTATION
    if session is not None and session.log_level is not None:
        envelope[LOG_LEVEL_KEY] = session.log_level
    return {**params, "_meta": envelope}
