"""The method table: every MCP method the gateway serves, its handler, and the capability it belongs to.

Dispatch is one dict lookup. The capabilities `initialize` advertises are derived from the table and from
what the connected upstreams declare, as the mcp SDK's low-level Server derives them from its handlers.
Metrics and the translation of errors into JSON-RPC answers happen here, once for every method.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from mcpstead import jsonrpc
from mcpstead.context import RequestContext
from mcpstead.errors import RpcError
from mcpstead.handlers import completion, lifecycle, lists, logging, prompts, resources, tasks, tools

Handler = Callable[[RequestContext], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Method:
    handler: Handler
    capability: str | None = None
    """The server capability that offers this method (None: always there)."""


REQUESTS: dict[str, Method] = {
    "ping": Method(lifecycle.ping),
    "initialize": Method(lifecycle.initialize_again),
    "tools/list": Method(lists.list_tools, "tools"),
    "tools/call": Method(tools.call_tool, "tools"),
    "prompts/list": Method(lists.list_prompts, "prompts"),
    "prompts/get": Method(prompts.get_prompt, "prompts"),
    "resources/list": Method(lists.list_resources, "resources"),
    "resources/templates/list": Method(lists.list_resource_templates, "resources"),
    "resources/read": Method(resources.read_resource, "resources"),
    "resources/subscribe": Method(resources.subscribe, "resources"),
    "resources/unsubscribe": Method(resources.unsubscribe, "resources"),
    "completion/complete": Method(completion.complete, "completions"),
    "logging/setLevel": Method(logging.set_level, "logging"),
    "tasks/get": Method(tasks.by_task_id, "tasks"),
    "tasks/result": Method(tasks.by_task_id, "tasks"),
    "tasks/cancel": Method(tasks.by_task_id, "tasks"),
    "tasks/list": Method(tasks.list_tasks, "tasks"),
}
NOTIFICATIONS: dict[str, Method] = {
    "notifications/initialized": Method(lifecycle.initialized),
    "notifications/cancelled": Method(lifecycle.cancelled),
    "notifications/roots/list_changed": Method(lifecycle.roots_changed),
}


async def dispatch(ctx: RequestContext) -> dict[str, Any] | None:
    """Answer one request (or handle one notification, returning None)."""
    metrics = ctx.gateway.metrics
    if ctx.message_id is None:
        method = NOTIFICATIONS.get(ctx.method)
        metrics.request(ctx.method if method is not None else "unknown", True)
        if method is not None:
            await method.handler(ctx)
        return None
    method = REQUESTS.get(ctx.method)
    label = ctx.method if method is not None else "unknown"
    clock = ctx.gateway.clock.monotonic
    started = clock()
    try:
        if method is None:
            raise RpcError(jsonrpc.METHOD_NOT_FOUND, f"method '{ctx.method}' not found")
        result = await method.handler(ctx)
    except RpcError as exc:
        metrics.request(label, False, clock() - started)
        return jsonrpc.error_response(ctx.message_id, exc.code, exc.message, exc.data)
    metrics.request(label, True, clock() - started)
    return jsonrpc.result_response(ctx.message_id, result)


def server_capabilities(upstream_capabilities: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """What the gateway offers a client: the capability of every method in the table that some connected
    upstream offers (tools always), with list changes announced for every list."""
    offered = list(upstream_capabilities)
    capabilities: dict[str, Any] = {}
    for name in dict.fromkeys(method.capability for method in REQUESTS.values() if method.capability):
        declared = [caps[name] for caps in offered if isinstance(caps.get(name), dict)]
        if name == "tools":
            capabilities[name] = {"listChanged": True}
        elif not declared:
            continue
        elif name == "prompts":
            capabilities[name] = {"listChanged": True}
        elif name == "resources":
            capabilities[name] = {"listChanged": True, "subscribe": any(d.get("subscribe") is True for d in declared)}
        elif name == "tasks":
            capabilities[name] = _merged(declared)
        else:
            capabilities[name] = {}
    return capabilities


def _merged(values: list[dict[str, Any]]) -> dict[str, Any]:
    """The union of nested capability objects (tasks: list, cancel, requests.tools.call, ...)."""
    merged: dict[str, Any] = {}
    for value in values:
        for key, item in value.items():
            if isinstance(item, dict) and isinstance(merged.get(key), dict):
                merged[key] = _merged([merged[key], item])
            else:
                merged.setdefault(key, item)
    return merged
