"""completion/complete, routed by its `ref`: a prompt by downstream name, a resource template by owner."""

from __future__ import annotations

from typing import Any

from mcpstead import jsonrpc
from mcpstead.context import RequestContext, forward
from mcpstead.errors import RpcError


async def complete(ctx: RequestContext) -> Any:
    catalog = ctx.gateway.catalog
    ref = ctx.params.get("ref")
    if not isinstance(ref, dict):
        raise RpcError(jsonrpc.INVALID_PARAMS, "params.ref is required (an object)")
    if ref.get("type") == "ref/prompt":
        name = ref.get("name")
        route = catalog.prompt_routes.get(name) if isinstance(name, str) else None
        if route is None:
            raise RpcError(jsonrpc.INVALID_PARAMS, f"unknown prompt '{name}' in params.ref")
        params = {**ctx.params, "ref": {**ref, "name": route.name}}
        return await forward(ctx, route.upstream, "completion/complete", params)
    if ref.get("type") == "ref/resource":
        uri = ref.get("uri")
        found = (catalog.route_template(uri) or catalog.route_uri(uri)) if isinstance(uri, str) else None
        if found is None:
            raise RpcError(jsonrpc.INVALID_PARAMS, f"unknown resource template '{uri}' in params.ref", {"uri": uri})
        return await forward(ctx, found.upstream, "completion/complete", ctx.params)
    raise RpcError(
        jsonrpc.INVALID_PARAMS, f"params.ref.type must be 'ref/prompt' or 'ref/resource', got {ref.get('type')!r}"
    )
