"""resources/read, subscribe and unsubscribe, routed by URI: a listed resource, else a matching template."""

from __future__ import annotations

from typing import Any

from mcpstead import jsonrpc
from mcpstead.catalog import Route
from mcpstead.context import RequestContext, forward
from mcpstead.errors import RpcError


def route_uri(ctx: RequestContext) -> tuple[str, Route]:
    uri = ctx.text("uri")
    route = ctx.gateway.catalog.route_uri(uri)
    if route is None:
        raise RpcError(
            jsonrpc.INVALID_PARAMS,
            f"unknown resource '{uri}': no upstream lists it or a template that matches it",
            {"uri": uri},
        )
    return uri, route


async def read_resource(ctx: RequestContext) -> Any:
    _uri, route = route_uri(ctx)
    return await forward(ctx, route.upstream, "resources/read", ctx.params)


async def subscribe(ctx: RequestContext) -> Any:
    """Subscriptions are kept per session; a shared upstream session subscribes once for all of them."""
    uri, route = route_uri(ctx)
    key = (route.upstream, uri)
    if ctx.gateway.sync.reaches_upstream(ctx.session, key):
        await forward(ctx, route.upstream, "resources/subscribe", ctx.params)
    if ctx.session is not None:
        ctx.session.subscriptions.add(key)
    return {}


async def unsubscribe(ctx: RequestContext) -> Any:
    uri, route = route_uri(ctx)
    key = (route.upstream, uri)
    if ctx.session is not None:
        ctx.session.subscriptions.discard(key)
    if ctx.gateway.sync.reaches_upstream(ctx.session, key):
        await forward(ctx, route.upstream, "resources/unsubscribe", ctx.params)
    return {}
