"""ping, a second initialize, and the client's notifications about itself."""

from __future__ import annotations

from typing import Any

from mcpstead import jsonrpc
from mcpstead.context import RequestContext
from mcpstead.errors import RpcError
from mcpstead.relay import InFlightCall


async def ping(ctx: RequestContext) -> Any:
    return {}


async def initialize_again(ctx: RequestContext) -> Any:
    raise RpcError(jsonrpc.INVALID_REQUEST, "this session is already initialized")


async def initialized(ctx: RequestContext) -> None:
    return None


async def cancelled(ctx: RequestContext) -> None:
    """The client gave up one of its requests: stop waiting for it, and tell the upstream."""
    session = ctx.session
    call = session.in_flight.get(ctx.params.get("requestId")) if session is not None else None
    reason = ctx.params.get("reason")
    if isinstance(call, InFlightCall):
        call.cancel(reason if isinstance(reason, str) else None)
    elif call is not None:
        call.cancel()


async def roots_changed(ctx: RequestContext) -> None:
    if ctx.session is not None:
        await ctx.gateway.roots_changed(ctx.session)
