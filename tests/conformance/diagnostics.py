"""The conformance upstream's diagnostic tools of the 2026-07-28 scenarios (`server-stateless`,
`http-custom-header-server-validation`, `input-required-result-capability-check`), in both eras
(`test_logging_tool` is server.py's logging tool, whose messages follow each era's rule).

On a 2026-07-28 request a tool reads the client's capabilities from the request's envelope (the SDK gives
them as the session's) and answers `input_required` or -32021; on a 2025-era session it asks the client
mid-call, as a 2025 server does, so that through mcpstead these become the same answers by bridging. List
changes are published to the `subscriptions/listen` streams (2026-07-28) and sent to the calling session.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import mcp.types as types
from mcp.server.context import ServerRequestContext
from mcp.server.subscriptions import InMemorySubscriptionBus, PromptsListChanged, ToolsListChanged
from mcp.shared.exceptions import MCPError
from mcp.shared.message import ServerMessageMetadata
from pydantic import BaseModel, ConfigDict, TypeAdapter

Context = ServerRequestContext[dict[str, Any]]
MODERN = "2026-07-28"
MISSING_CLIENT_CAPABILITY = -32021
BUS = InMemorySubscriptionBus()
"""Where list changes go to the open `subscriptions/listen` streams."""
DYNAMIC: dict[str, set[str]] = {"tools": set(), "prompts": set()}
"""Names the trigger tools added (each trigger adds one more), listed beside the fixed ones."""
HEADER_SCHEMA = {
    "type": "object",
    "properties": {
        "region": {"type": "string", "x-mcp-header": "Region", "description": "Mirrored in Mcp-Param-Region"},
        "query": {"type": "string", "description": "Anything"},
    },
    "required": ["region"],
}
NO_ARGUMENTS: dict[str, Any] = {"type": "object", "properties": {}}


def _modern(ctx: Context) -> bool:
    return ctx.protocol_version == MODERN


def _declares(ctx: Context, capability: str) -> bool:
    capabilities = ctx.session.client_capabilities
    return capabilities is not None and getattr(capabilities, capability, None) is not None


def _text(text: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "isError": False, "resultType": "complete"}


def _sample(text: str) -> dict[str, Any]:
    messages = [{"role": "user", "content": {"type": "text", "text": text}}]
    return {"method": "sampling/createMessage", "params": {"messages": messages, "maxTokens": 50}}


def _elicit(message: str) -> dict[str, Any]:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    return {"method": "elicitation/create", "params": {"mode": "form", "message": message, "requestedSchema": schema}}


def _ask(requests: dict[str, Any]) -> dict[str, Any]:
    return {"resultType": "input_required", "inputRequests": requests}


class _AnyResult(BaseModel):
    """A client's result as it came (extra fields included)."""

    model_config = ConfigDict(extra="allow")


async def _push(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    """A 2025-era server's way: ask the client mid-call, on this request's stream; its result."""
    typed = TypeAdapter(types.ServerRequest).validate_python(request)
    metadata = ServerMessageMetadata(related_request_id=ctx.request_id)
    answer = await ctx.session.send_request(typed, _AnyResult, metadata=metadata)
    return answer.model_dump(mode="json", by_alias=True, exclude_none=True)


async def in_rounds(ctx: Context, step: Callable[[dict[str, Any], str | None], dict[str, Any]]) -> dict[str, Any]:
    """An input_required handler (`step(responses, requestState)`) served to a 2025-era session: each
    round's input requests are asked mid-call and fed to the next step, until it completes, as a
    dual-era server does; in 2026-07-28 the one step is the answer."""
    responses: dict[str, Any] = {}
    state: str | None = None
    for _round in range(8):
        result = step(responses, state)
        if result.get("resultType") != "input_required":
            return result
        requests = result.get("inputRequests") or {}
        answers = await asyncio.gather(*(_push(ctx, request) for request in requests.values()))  # at once
        responses = dict(zip(requests, answers, strict=True))
        state = result.get("requestState")
    raise MCPError(code=types.INTERNAL_ERROR, message="more than 8 rounds of questions")


async def missing_capability(ctx: Context, params: types.CallToolRequestParams) -> dict[str, Any]:
    """Needs sampling: -32021 naming it when the request does not declare it."""
    if not _declares(ctx, "sampling"):
        raise MCPError(
            code=MISSING_CLIENT_CAPABILITY,
            message="test_missing_capability needs the client capability 'sampling'",
            data={"requiredCapabilities": {"sampling": {}}},
        )
    if _modern(ctx):
        answered = (params.input_responses or {}).get("llm")
        if answered is None:
            return _ask({"llm": _sample("Say anything")})
        return _text("sampled")
    await _push(ctx, _sample("Say anything"))
    return _text("sampled")


async def streaming_elicitation(ctx: Context, params: types.CallToolRequestParams) -> dict[str, Any]:
    """Asks the user something: `input_required` in 2026-07-28 (the stream carries no request of the
    server's own), an elicitation mid-call in the 2025 era."""
    if _modern(ctx):
        if (params.input_responses or {}).get("answer") is None:
            return _ask({"answer": _elicit("Anything to say?")})
        return _text("elicited")
    answer = await _push(ctx, _elicit("Anything to say?"))
    return _text(f"elicited: {answer.get('action')}")


async def _change(ctx: Context, kind: str) -> dict[str, Any]:
    """One more tool or prompt, said to the listen streams (2026-07-28) and to the calling session."""
    DYNAMIC[kind].add(f"test_dynamic_{kind[:-1]}_{len(DYNAMIC[kind]) + 1}")
    await BUS.publish(ToolsListChanged() if kind == "tools" else PromptsListChanged())
    if not _modern(ctx):
        await (ctx.session.send_tool_list_changed() if kind == "tools" else ctx.session.send_prompt_list_changed())
    return _text(f"{kind[:-1]} list changed")


async def trigger_tool_change(ctx: Context, params: types.CallToolRequestParams) -> dict[str, Any]:
    return await _change(ctx, "tools")


async def trigger_prompt_change(ctx: Context, params: types.CallToolRequestParams) -> dict[str, Any]:
    return await _change(ctx, "prompts")


async def custom_headers(ctx: Context, params: types.CallToolRequestParams) -> dict[str, Any]:
    """`region` is mirrored in the `Mcp-Param-Region` header (the SDK checks it on the 2026-07-28 wire)."""
    return _text(f"region: {(params.arguments or {}).get('region')}")


async def input_required_capabilities(ctx: Context, params: types.CallToolRequestParams) -> dict[str, Any]:
    """Asks for sampling and elicitation, but only what the request declared it can answer."""
    responses = params.input_responses or {}
    wanted = {"llm": _sample("Say anything")} if _declares(ctx, "sampling") else {}
    if _declares(ctx, "elicitation"):
        wanted["user"] = _elicit("Anything to say?")
    if not _modern(ctx):
        for request in wanted.values():
            await _push(ctx, request)
        return _text(f"asked: {', '.join(sorted(wanted)) or 'nothing'}")
    if not wanted or all(key in responses for key in wanted):
        return _text(f"answered: {', '.join(sorted(wanted)) or 'nothing'}")
    return _ask(wanted)


Handler = Callable[[Context, types.CallToolRequestParams], Awaitable[dict[str, Any]]]
TOOLS: dict[str, tuple[str, dict[str, Any], Handler]] = {
    "test_missing_capability": ("Needs the sampling capability (-32021 without it)", NO_ARGUMENTS, missing_capability),
    "test_streaming_elicitation": ("Asks the user something", NO_ARGUMENTS, streaming_elicitation),
    "test_trigger_tool_change": ("Adds a tool and says the tool list changed", NO_ARGUMENTS, trigger_tool_change),
    "test_trigger_prompt_change": (
        "Adds a prompt and says the prompt list changed",
        NO_ARGUMENTS,
        trigger_prompt_change,
    ),
    "test_custom_headers": ("Its region argument is mirrored in Mcp-Param-Region", HEADER_SCHEMA, custom_headers),
    "test_input_required_result_capabilities": (
        "Asks only for what the client declared it can answer",
        NO_ARGUMENTS,
        input_required_capabilities,
    ),
}
