"""logging/setLevel: a level per downstream session; the upstreams hear the most verbose one wanted."""

from __future__ import annotations

from typing import Any

from mcpstead import jsonrpc
from mcpstead.context import RequestContext
from mcpstead.errors import RpcError
from mcpstead.sessions import LOG_LEVELS


async def set_level(ctx: RequestContext) -> Any:
    level = ctx.params.get("level")
    if level not in LOG_LEVELS:
        raise RpcError(jsonrpc.INVALID_PARAMS, f"params.level must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
    if ctx.session is not None:
        await ctx.gateway.sync.set_level(ctx.session, str(level))
    return {}
