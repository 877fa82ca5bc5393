"""tools/call, routed by the tool's downstream name."""

from __future__ import annotations

from typing import Any

from mcpstead.context import RequestContext


async def call_tool(ctx: RequestContext) -> Any:
    return await ctx.gateway.route_tool_call(
        ctx.params, session=ctx.session, received_at=ctx.received_at, message_id=ctx.message_id, channel=ctx.channel
    )
