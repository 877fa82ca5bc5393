"""ping, a second initialize, and the client's notifications about itself."""

from __future__ import annotations

import asyncio
from typing import Any

from mcpstead import jsonrpc
from mcpstead.context import RequestContext
from mcpstead.errors import RpcError
from mcpstead.relay import InFlightCall
from mcpstead.sessions import DownstreamSession, is_request_id


async def ping(ctx: RequestContext) -> Any:
    return {}


async def initialize_again(ctx: RequestContext) -> Any:
    raise RpcError(jsonrpc.INVALID_REQUEST, "this session is already initialized")


async def initialized(ctx: RequestContext) -> None:
    return None


async def cancelled(ctx: RequestContext) -> None:
    """The client gave up one of its requests: stop waiting for it, and tell the upstream."""
    session, request_id = ctx.session, ctx.params.get("requestId")
    if session is not None and is_request_id(request_id):
        _cancel(session, request_id, ctx.params.get("reason"))


def _cancel(session: DownstreamSession, request_id: str | int, reason: Any) -> None:
    call = session.in_flight.get(request_id)
    if isinstance(call, InFlightCall):
        call.cancel(reason if isinstance(reason, str) else None)
    elif call is not None:
        call.cancel()
    else:  # it may have overtaken its request (they travel on separate connections)
        session.cancels.cancel_unseen(request_id, asyncio.get_running_loop().time())


async def roots_changed(ctx: RequestContext) -> None:
    if ctx.session is not None:
        await ctx.gateway.roots_changed(ctx.session)
