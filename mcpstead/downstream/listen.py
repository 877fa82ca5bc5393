"""subscriptions/listen: the 2026-07-28 client's one long-lived stream, for list changes and resource updates.

While its stream is open the listener is a session of the gateway (era "modern", listed by its clientInfo),
so list changes and resource updates reach it as they reach a legacy GET stream, and its resource
subscriptions join the ones the shared upstream sessions hold. The stream opens with
`notifications/subscriptions/acknowledged` naming what is honoured; every message on it carries the listen
request's id as `_meta["io.modelcontextprotocol/subscriptionId"]`; only what was asked for is sent. Closing
the stream ends the subscription (and what it held upstream); a gateway that stops ends it with a result.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import Response, StreamingResponse

from mcpstead import jsonrpc
from mcpstead.downstream.streams import sse_event
from mcpstead.errors import RpcError
from mcpstead.gateway import Gateway
from mcpstead.protocol import SUBSCRIPTION_ID_KEY
from mcpstead.sessions import DownstreamSession

log = logging.getLogger("mcpstead.downstream")
KEEPALIVE_SECONDS = 15.0
LIST_FLAGS = {
    "toolsListChanged": ("notifications/tools/list_changed", "tools"),
    "promptsListChanged": ("notifications/prompts/list_changed", "prompts"),
    "resourcesListChanged": ("notifications/resources/list_changed", "resources"),
}
"""Filter flag -> the notification it asks for, and the server capability that offers it."""
SSE_HEADERS = {"cache-control": "no-cache, no-transform", "x-accel-buffering": "no"}


async def open_listen(
    gateway: Gateway, client: DownstreamSession, request_id: jsonrpc.JsonId, params: dict[str, Any]
) -> Response | None:
    """The listen stream for `client` (the request's envelope), or None when params.notifications is not an
    object (the caller answers -32602)."""
    wanted = params.get("notifications")
    if not isinstance(wanted, dict):
        return None
    info = {"name": client.client_name, "version": client.client_version}
    session = gateway.open_session(client.protocol_version, info, client.capabilities)
    session.era = "modern"
    honoured = _honoured_flags(gateway, wanted)
    uris = wanted.get("resourceSubscriptions")
    if isinstance(uris, list) and uris:
        honoured["resourceSubscriptions"] = await _subscribe(gateway, session, [u for u in uris if isinstance(u, str)])
    gateway.metrics.request("subscriptions/listen", True)
    stream = _events(gateway, session, request_id, honoured)
    return StreamingResponse(stream, media_type="text/event-stream", headers=SSE_HEADERS)


def _honoured_flags(gateway: Gateway, wanted: dict[str, Any]) -> dict[str, Any]:
    offered: set[str] = {"tools"}
    for capabilities in gateway.upstream_capabilities():
        offered.update(name for name in ("prompts", "resources") if isinstance(capabilities.get(name), dict))
    return {flag: True for flag, (_method, kind) in LIST_FLAGS.items() if wanted.get(flag) is True and kind in offered}


async def _subscribe(gateway: Gateway, session: DownstreamSession, uris: list[str]) -> list[str]:
    """Subscribe the listener to each URI an upstream that offers subscriptions can route; the ones that
    fail are left out of the acknowledgement (and logged), as the spec says of what is not honoured."""
    honoured: list[str] = []
    for uri in dict.fromkeys(uris):
        route = gateway.catalog.route_uri(uri)
        supervisor = gateway.supervisors.get(route.upstream) if route is not None else None
        resources = supervisor.capabilities.get("resources") if supervisor is not None else None
        if route is None or not isinstance(resources, dict) or resources.get("subscribe") is not True:
            continue
        key = (route.upstream, uri)
        try:
            if gateway.sync.reaches_upstream(session, key):
                await gateway.forward(route.upstream, "resources/subscribe", {"uri": uri}, session=session)
        except RpcError as exc:
            log.info("listen: cannot subscribe to %s on %s: %s", uri, route.upstream, exc.message)
            continue
        session.subscriptions.add(key)
        honoured.append(uri)
    return honoured


def _tagged(message: dict[str, Any], subscription: jsonrpc.JsonId) -> dict[str, Any]:
    params = message.get("params")
    params = dict(params) if isinstance(params, dict) else {}
    meta = params.get("_meta")
    params["_meta"] = {**(meta if isinstance(meta, dict) else {}), SUBSCRIPTION_ID_KEY: subscription}
    return {**message, "params": params}


def _wanted(message: dict[str, Any], honoured: dict[str, Any]) -> bool:
    method = message.get("method")
    if method == "notifications/resources/updated":
        params = message.get("params")
        uri = params.get("uri") if isinstance(params, dict) else None
        return uri in honoured.get("resourceSubscriptions", ())
    return any(honoured.get(flag) and method == name for flag, (name, _kind) in LIST_FLAGS.items())


async def _events(
    gateway: Gateway, session: DownstreamSession, subscription: jsonrpc.JsonId, honoured: dict[str, Any]
) -> AsyncIterator[bytes]:
    outbox = session.open_stream()
    assert outbox is not None  # a fresh session has no stream yet
    try:
        ack = {"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged"}
        yield sse_event(_tagged({**ack, "params": {"notifications": honoured}}, subscription))
        while True:
            try:
                async with asyncio.timeout(KEEPALIVE_SECONDS):
                    message = await outbox.get()
            except TimeoutError:
                gateway.touch(session)  # an open stream is not an idle session
                yield b": keepalive\n\n"
                continue
            if message is None:  # the gateway is stopping (or ended the session): end it properly
                ended = {"resultType": "complete", "_meta": {SUBSCRIPTION_ID_KEY: subscription}}
                yield sse_event(jsonrpc.result_response(subscription, ended))
                return
            if _wanted(message, honoured):
                yield sse_event(_tagged(message, subscription))
    finally:
        gateway.close_session(session.session_id, "listen_closed")
