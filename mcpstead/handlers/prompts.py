"""prompts/get, routed by the prompt's downstream name."""

from __future__ import annotations

from typing import Any

from mcpstead import jsonrpc
from mcpstead.context import RequestContext, forward
from mcpstead.errors import RpcError


async def get_prompt(ctx: RequestContext) -> Any:
    name = ctx.text("name")
    route = ctx.gateway.catalog.prompt_routes.get(name)
    if route is None:
        raise RpcError(jsonrpc.INVALID_PARAMS, f"unknown prompt '{name}'")
    return await forward(ctx, route.upstream, "prompts/get", {**ctx.params, "name": route.name})
