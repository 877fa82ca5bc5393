"""tasks/get, tasks/result, tasks/cancel (routed to the upstream that created the task) and tasks/list."""

from __future__ import annotations

from typing import Any

from mcpstead import jsonrpc
from mcpstead.context import RequestContext, forward
from mcpstead.errors import RpcError


async def by_task_id(ctx: RequestContext) -> Any:
    task_id = ctx.text("taskId")
    owner = ctx.gateway.tasks.get(task_id)
    if owner is None or owner.session_id != (ctx.session.session_id if ctx.session else None):
        raise RpcError(jsonrpc.INVALID_PARAMS, f"unknown task '{task_id}'")
    return await forward(ctx, owner.upstream, ctx.method, ctx.params)


async def list_tasks(ctx: RequestContext) -> Any:
    return await ctx.gateway.list_tasks(ctx.session)
