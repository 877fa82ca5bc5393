"""The upstream the official MCP conformance suite expects, built on the `mcp` SDK's low-level `Server`.

It serves the fixed names the 2025-era server scenarios call (`test_simple_text`, `test://static-text`,
`test_simple_prompt`, ...; see @modelcontextprotocol/conformance, src/scenarios/server/*.ts), plus a few tools
the gateway's own integration tests use:

- `test_list_roots`: asks the client for roots/list and returns the answer as JSON text;
- `test_slow(seconds)`: sleeps in 0.1 s steps, reporting progress per step when asked; a cancelled call is
  recorded (request id and the client's reason) and `test_cancellations` returns those records as JSON text;
- `test_notify_resource_updated(uri)`: sends notifications/resources/updated for `uri` to every session
  subscribed to it (on their standalone streams, not on this request's stream) and returns "ok".

Streamable HTTP on 127.0.0.1 (stateful sessions, SSE answers, an in-memory event store for resumability):

    python -m tests.conformance.server --port 0 [--no-event-store]

prints `PORT <n>` on stdout once it serves, then serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import mcp.types as types
import uvicorn
from mcp.server.connection import allowed_log_levels
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.lowlevel.server import NotificationOptions, Server
from mcp.server.models import InitializationOptions
from mcp.server.session import ServerSession
from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.subscriptions import ListenHandler
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp.shared.message import ServerMessageMetadata
from pydantic import BaseModel, ConfigDict
from starlette.applications import Starlette
from starlette.routing import Route

from tests.conformance import diagnostics, mrtr

Context = ServerRequestContext[dict[str, Any]]
ToolHandler = Callable[[Context, dict[str, Any]], Awaitable[types.CallToolResult]]

# A 1x1 red PNG and a minimal WAV, the same bytes the suite's reference fixture uses.
TEST_IMAGE_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
TEST_AUDIO_BASE64 = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="

LOG_LEVELS: tuple[types.LoggingLevel, ...] = (
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
)

JSON_SCHEMA_2020_12_INPUT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "$anchor": "addressDef",
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
}

SEP1034_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "User name", "default": "John Doe"},
        "age": {"type": "integer", "description": "User age", "default": 30},
        "score": {"type": "number", "description": "User score", "default": 95.5},
        "status": {
            "type": "string",
            "description": "User status",
            "enum": ["active", "inactive", "pending"],
            "default": "active",
        },
        "verified": {"type": "boolean", "description": "Verification status", "default": True},
    },
    "required": [],
}

SEP1330_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "untitledSingle": {
            "type": "string",
            "description": "Select one option",
            "enum": ["option1", "option2", "option3"],
        },
        "titledSingle": {
            "type": "string",
            "description": "Select one option with titles",
            "oneOf": [
                {"const": "value1", "title": "First Option"},
                {"const": "value2", "title": "Second Option"},
                {"const": "value3", "title": "Third Option"},
            ],
        },
        "legacyEnum": {
            "type": "string",
            "description": "Select one option (legacy)",
            "enum": ["opt1", "opt2", "opt3"],
            "enumNames": ["Option One", "Option Two", "Option Three"],
        },
        "untitledMulti": {
            "type": "array",
            "description": "Select multiple options",
            "minItems": 1,
            "maxItems": 3,
            "items": {"type": "string", "enum": ["option1", "option2", "option3"]},
        },
        "titledMulti": {
            "type": "array",
            "description": "Select multiple options with titles",
            "minItems": 1,
            "maxItems": 3,
            "items": {
                "anyOf": [
                    {"const": "value1", "title": "First Choice"},
                    {"const": "value2", "title": "Second Choice"},
                    {"const": "value3", "title": "Third Choice"},
                ]
            },
        },
    },
    "required": [],
}

COMPLETIONS: dict[str, list[str]] = {
    "arg1": ["alpha", "alpine", "beta", "gamma"],
    "arg2": ["one", "two", "three"],
    "resourceUri": ["test://static-text", "test://static-binary", "test://watched-resource"],
    "id": ["1", "2", "123"],
}

TEMPLATE_URI = re.compile(r"^test://template/(?P<id>[^/]+)/data$")

CANCELLATIONS: list[dict[str, Any]] = []
"""One entry per cancelled `test_slow` call: session, request id, and the reason the client gave."""


@dataclass
class _SessionState:
    session: ServerSession
    """The ServerSession of some request of this MCP session; its standalone channel outlives that request."""
    log_level: types.LoggingLevel = "debug"
    subscriptions: set[str] = field(default_factory=set)


_sessions: dict[str, _SessionState] = {}
_cancel_reasons: dict[tuple[str, str], str | None] = {}


def _session_id(ctx: Context) -> str:
    request = ctx.request
    headers = getattr(request, "headers", None)
    value = headers.get("mcp-session-id") if headers is not None else None
    return str(value) if value else ""


def _state(ctx: Context) -> _SessionState:
    key = _session_id(ctx)
    state = _sessions.get(key)
    if state is None:
        state = _sessions[key] = _SessionState(session=ctx.session)
    return state


def _text(text: str) -> types.TextContent:
    return types.TextContent(type="text", text=text)


def _result(*content: types.ContentBlock, is_error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=list(content), is_error=is_error)


def _image() -> types.ImageContent:
    return types.ImageContent(type="image", data=TEST_IMAGE_BASE64, mime_type="image/png")


def _object_schema(properties: dict[str, Any] | None = None, required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties or {}}
    if required:
        schema["required"] = required
    return schema


def _related(ctx: Context) -> ServerMessageMetadata:
    """Send a server-to-client request on the stream of the request being handled."""
    return ServerMessageMetadata(related_request_id=ctx.request_id)


async def _log(ctx: Context, level: types.LoggingLevel, data: Any) -> None:
    """A notifications/message on this request's stream, if the session's logging level lets it through
    (in 2026-07-28, only at the level the request's envelope asked for, and none without one)."""
    if LOG_LEVELS.index(level) < LOG_LEVELS.index(_state(ctx).log_level):
        return
    if level not in allowed_log_levels(ctx.protocol_version, ctx.meta):
        return
    params = types.LoggingMessageNotificationParams(level=level, data=data, logger="conformance-server")
    await ctx.session.send_notification(types.LoggingMessageNotification(params=params), ctx.request_id)


class _AnyResult(BaseModel):
    """Keeps a client's result as it came (extra fields included)."""

    model_config = ConfigDict(extra="allow")


# ---- tools -------------------------------------------------------------------------------------------------


async def _simple_text(ctx: Context, args: dict[str, Any]) -> types.CallToolResult:
    return _result(_text("This is a simple text response for testing."))


async def _image_content(ctx: Context, args: dict[str, Any]) -> types.CallToolResult:
    return _result(_image())


async def _audio_content(ctx: Context, args: dict[str, Any]) -> types.CallToolResult:
    return _result(types.AudioContent(type="audio", data=TEST_AUDIO_BASE64, mime_type="audio/wav"))


async def _embedded_resource(ctx: Context, args: dict[str, Any]) -> types.CallToolResult:
    resource = types.TextResourceContents(
        uri="test://embedded-resource", mime_type="text/plain", text="This is an embedded resource content."
    )
    return _result(types.EmbeddedResource(type="resource", resource=resource))


async def _multiple_content_types(ctx: Context, args: dict[str, Any]) -> types.CallToolResult:
    resource = types.TextResourceContents(
        uri="test://mixed-content-resource",
        mime_type="application/json",
        text=json.dumps({"test": "data", "value": 123}, separators=(",", ":")),
    )
    return _result(
        _text("Multiple content types test:"), _image(), types.EmbeddedResource(type="resource", resource=resource)
    )


async def _tool_with_logging(ctx: Context, args: dict[str, Any]) -> types.CallToolResult:
    await _log(ctx, "info", "Tool execution started")
    await anyio.sleep(0.05)
    await _log(ctx, "info", "Tool processing data")
    await anyio.sleep(0.05)
    await _log(ctx, "info", "Tool execution completed")
    return _result(_text("Tool with logging executed successfully"))


async def _tool_with_progress(ctx: Context, args: dict[str, Any]) -> types.CallToolResult:
    # report_progress is a no-op unless the request carried _meta.progressToken.
    for step, progress in enumerate((0, 50, 100)):
        if step:
            await anyio.sleep(0.05)
        await ctx.session.report_progress(progress, 100, f"Completed step {progress} of 100")
    token = ctx.meta.get("progressToken") if ctx.meta else None
    return _result(_text(str(token)))


async def _error_handling(ctx: Context, args: dict[str, Any]) -> types.CallToolResult:
    return _result(_text("This tool intentionally returns an error for testing"), is_error=True)


async def _reconnection(ctx: Context, args: dict[str, Any]) -> types.CallToolResult:
    # SEP-1699: close this request's SSE stream mid-call; the answer is kept in the event store and
    # replayed when the client reconnects with Last-Event-ID.
    if ctx.close_sse_stream is not None:
        await ctx.close_sse_stream()
    await anyio.sleep(0.1)
    return _result(
        _text(
            "Reconnection test completed successfully. If you received this, "
            "the client properly reconnected after stream closure."
        )
    )


async def _sampling(ctx: Context, args: dict[str, Any]) -> types.CallToolResult:
    request = types.CreateMessageRequest(
        params=types.CreateMessageRequestParams(
            messages=[types.SamplingMessage(role="user", content=_text(str(args.get("prompt", ""))))],
            max_tokens=100,
        )
    )
    try:
        answer = await ctx.session.send_request(request, types.CreateMessageResult, metadata=_related(ctx))
    except MCPError as error:
        return _result(_text(f"Sampling not supported or error: {error}"), is_error=True)
    content = answer.content
    reply = content.text if isinstance(content, types.TextContent) else "No response"
    return _result(_text(f"LLM response: {reply}"))


async def _elicit(ctx: Context, message: str, schema: dict[str, Any], prefix: str) -> types.CallToolResult:
    try:
        answer = await ctx.session.elicit_form(message, schema, related_request_id=ctx.request_id)
    except MCPError as error:
        return _result(_text(f"Elicitation not supported or error: {error}"), is_error=True)
    return _result(_text(f"{prefix}: action={answer.action}, content={json.dumps(answer.content or {})}"))


async def _elicitation(ctx: Context, args: dict[str, Any]) -> types.CallToolResult:
    schema = _object_schema(
        {
            "username": {"type": "string", "description": "User's response"},
            "email": {"type": "string", "description": "User's email address"},
        },
        ["username", "email"],
    )
    return await _elicit(ctx, str(args.get("message", "")), schema, "User response")


async def _elicitation_sep1034_defaults(ctx: Context, args: dict[str, Any]) -> types.CallToolResult:
    message = "Please review and update the form fields with defaults"
    return await _elicit(ctx, message, SEP1034_SCHEMA, "Elicitation completed")


async def _elicitation_sep1330_enums(ctx: Context, args: dict[str, Any]) -> types.CallToolResult:
    message = "Please select options from the enum fields"
    return await _elicit(ctx, message, SEP1330_SCHEMA, "Elicitation completed")


async def _json_schema_2020_12(ctx: Context, args: dict[str, Any]) -> types.CallToolResult:
    return _result(_text(f"JSON Schema 2020-12 tool called with: {json.dumps(args)}"))


async def _list_roots(ctx: Context, args: dict[str, Any]) -> types.CallToolResult:
    answer = await ctx.session.send_request(types.ListRootsRequest(), _AnyResult, metadata=_related(ctx))
    return _result(_text(json.dumps((answer.model_extra or {}).get("roots", []))))


async def _slow(ctx: Context, args: dict[str, Any]) -> types.CallToolResult:
    seconds = float(args.get("seconds", 1.0))
    steps = max(1, round(seconds / 0.1))
    try:
        for step in range(1, steps + 1):
            await anyio.sleep(seconds / steps)
            await ctx.session.report_progress(step, steps, f"slept {step * seconds / steps:.2f}s")
    except anyio.get_cancelled_exc_class():
        CANCELLATIONS.append({"session": _session_id(ctx), "requestId": ctx.request_id})
        raise
    return _result(_text(f"slept {seconds}s"))


async def _cancellations(ctx: Context, args: dict[str, Any]) -> types.CallToolResult:
    records = [
        {**record, "reason": _cancel_reasons.get((record["session"], str(record["requestId"])))}
        for record in CANCELLATIONS
    ]
    return _result(_text(json.dumps(records)))


async def _notify_resource_updated(ctx: Context, args: dict[str, Any]) -> types.CallToolResult:
    uri = str(args.get("uri", ""))
    for key, state in list(_sessions.items()):
        if uri in state.subscriptions:
            try:
                await state.session.send_resource_updated(uri)
            except Exception:  # that session has ended
                _sessions.pop(key, None)
    return _result(_text("ok"))


@dataclass(frozen=True)
class _Tool:
    description: str
    handler: ToolHandler
    input_schema: dict[str, Any] = field(default_factory=_object_schema)


TOOLS: dict[str, _Tool] = {
    "test_simple_text": _Tool("Tests simple text content response", _simple_text),
    "test_image_content": _Tool("Tests image content response", _image_content),
    "test_audio_content": _Tool("Tests audio content response", _audio_content),
    "test_embedded_resource": _Tool("Tests embedded resource content response", _embedded_resource),
    "test_multiple_content_types": _Tool(
        "Tests response with multiple content types (text, image, resource)", _multiple_content_types
    ),
    "test_tool_with_logging": _Tool("Tests tool that emits log messages during execution", _tool_with_logging),
    "test_logging_tool": _Tool("Emits log messages (in 2026-07-28 only at a requested level)", _tool_with_logging),
    "test_tool_with_progress": _Tool("Tests tool that reports progress notifications", _tool_with_progress),
    "test_error_handling": _Tool("Tests error response handling", _error_handling),
    "test_reconnection": _Tool(
        "Tests SSE stream disconnection and client reconnection (SEP-1699): the server closes the stream "
        "mid-call and sends the result after the client reconnects.",
        _reconnection,
    ),
    "test_sampling": _Tool(
        "Tests server-initiated sampling (LLM completion request)",
        _sampling,
        _object_schema({"prompt": {"type": "string", "description": "The prompt to send to the LLM"}}, ["prompt"]),
    ),
    "test_elicitation": _Tool(
        "Tests server-initiated elicitation (user input request)",
        _elicitation,
        _object_schema({"message": {"type": "string", "description": "The message to show the user"}}, ["message"]),
    ),
    "test_elicitation_sep1034_defaults": _Tool(
        "Tests elicitation with default values per SEP-1034", _elicitation_sep1034_defaults
    ),
    "test_elicitation_sep1330_enums": _Tool(
        "Tests elicitation with enum schema improvements per SEP-1330", _elicitation_sep1330_enums
    ),
    "json_schema_2020_12_tool": _Tool(
        "Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)",
        _json_schema_2020_12,
        JSON_SCHEMA_2020_12_INPUT_SCHEMA,
    ),
    "test_list_roots": _Tool("Asks the client for its roots (roots/list) and returns them as JSON", _list_roots),
    "test_slow": _Tool(
        "Sleeps in 0.1 s steps, reporting progress per step; records it when cancelled",
        _slow,
        _object_schema({"seconds": {"type": "number", "description": "How long to sleep"}}, ["seconds"]),
    ),
    "test_cancellations": _Tool("The cancelled test_slow calls so far, as JSON", _cancellations),
    "test_notify_resource_updated": _Tool(
        "Sends notifications/resources/updated for a URI to the sessions subscribed to it",
        _notify_resource_updated,
        _object_schema({"uri": {"type": "string", "description": "The resource URI"}}, ["uri"]),
    ),
}


async def list_tools(ctx: Context, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
    no_arguments: dict[str, Any] = {"type": "object", "properties": {}}
    return types.ListToolsResult(
        tools=[
            *(
                types.Tool(name=name, description=tool.description, input_schema=tool.input_schema)
                for name, tool in TOOLS.items()
            ),
            *(
                types.Tool(name=name, description=description, input_schema=no_arguments)
                for name, (description, _handler) in mrtr.TOOLS.items()
            ),
            *(
                types.Tool(name=name, description=description, input_schema=schema)
                for name, (description, schema, _handler) in diagnostics.TOOLS.items()
            ),
            *(
                types.Tool(name=name, description="Added by test_trigger_tool_change", input_schema=no_arguments)
                for name in sorted(diagnostics.DYNAMIC["tools"])
            ),
        ]
    )


async def call_tool(ctx: Context, params: types.CallToolRequestParams) -> Any:
    if params.name in mrtr.TOOLS:
        if ctx.protocol_version == diagnostics.MODERN:
            return mrtr.call(params.name, params.input_responses, params.request_state)
        return await diagnostics.in_rounds(ctx, lambda answers, state: mrtr.call(params.name, answers, state))
    if params.name in diagnostics.TOOLS:
        return await diagnostics.TOOLS[params.name][2](ctx, params)
    if params.name in diagnostics.DYNAMIC["tools"]:
        return _result(_text(f"{params.name} answered"))
    tool = TOOLS.get(params.name)
    if tool is None:
        raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown tool: {params.name}")
    return await tool.handler(ctx, params.arguments or {})


# ---- resources -----------------------------------------------------------------------------------------------

STATIC_TEXT = "This is the content of the static text resource."
WATCHED_TEXT = "Watched resource content"

RESOURCES = [
    types.Resource(
        name="static-text",
        title="Static Text Resource",
        uri="test://static-text",
        description="A static text resource for testing",
        mime_type="text/plain",
    ),
    types.Resource(
        name="static-binary",
        title="Static Binary Resource",
        uri="test://static-binary",
        description="A static binary resource (image) for testing",
        mime_type="image/png",
    ),
    types.Resource(
        name="watched-resource",
        title="Watched Resource",
        uri="test://watched-resource",
        description="A resource clients can subscribe to (see test_notify_resource_updated)",
        mime_type="text/plain",
    ),
]


async def list_resources(ctx: Context, params: types.PaginatedRequestParams | None) -> types.ListResourcesResult:
    return types.ListResourcesResult(resources=RESOURCES)


async def list_resource_templates(
    ctx: Context, params: types.PaginatedRequestParams | None
) -> types.ListResourceTemplatesResult:
    template = types.ResourceTemplate(
        name="template",
        title="Resource Template",
        uri_template="test://template/{id}/data",
        description="A resource template with parameter substitution",
        mime_type="application/json",
    )
    return types.ListResourceTemplatesResult(resource_templates=[template])


async def read_resource(ctx: Context, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
    uri = str(params.uri)
    contents: types.TextResourceContents | types.BlobResourceContents
    if uri == "test://static-text":
        contents = types.TextResourceContents(uri=uri, mime_type="text/plain", text=STATIC_TEXT)
    elif uri == "test://static-binary":
        contents = types.BlobResourceContents(uri=uri, mime_type="image/png", blob=TEST_IMAGE_BASE64)
    elif uri == "test://watched-resource":
        contents = types.TextResourceContents(uri=uri, mime_type="text/plain", text=WATCHED_TEXT)
    elif match := TEMPLATE_URI.match(uri):
        item = match.group("id")
        text = json.dumps({"id": item, "templateTest": True, "data": f"Data for ID: {item}"}, separators=(",", ":"))
        contents = types.TextResourceContents(uri=uri, mime_type="application/json", text=text)
    else:
        raise MCPError(code=-32002, message=f"Resource not found: {uri}", data={"uri": uri})
    return types.ReadResourceResult(contents=[contents])


async def subscribe(ctx: Context, params: types.SubscribeRequestParams) -> types.EmptyResult:
    _state(ctx).subscriptions.add(str(params.uri))
    return types.EmptyResult()


async def unsubscribe(ctx: Context, params: types.UnsubscribeRequestParams) -> types.EmptyResult:
    _state(ctx).subscriptions.discard(str(params.uri))
    return types.EmptyResult()


# ---- prompts -------------------------------------------------------------------------------------------------


def _argument(name: str, description: str) -> types.PromptArgument:
    return types.PromptArgument(name=name, description=description, required=True)


PROMPTS = [
    types.Prompt(
        name="test_simple_prompt", title="Simple Test Prompt", description="A simple prompt without arguments"
    ),
    types.Prompt(
        name="test_prompt_with_arguments",
        title="Prompt With Arguments",
        description="A prompt with required arguments",
        arguments=[_argument("arg1", "First test argument"), _argument("arg2", "Second test argument")],
    ),
    types.Prompt(
        name="test_prompt_with_embedded_resource",
        title="Prompt With Embedded Resource",
        description="A prompt that includes an embedded resource",
        arguments=[_argument("resourceUri", "URI of the resource to embed")],
    ),
    types.Prompt(
        name="test_prompt_with_image", title="Prompt With Image", description="A prompt that includes image content"
    ),
]


async def list_prompts(ctx: Context, params: types.PaginatedRequestParams | None) -> types.ListPromptsResult:
    mrtr_prompt = types.Prompt(name=mrtr.PROMPT, description="MRTR: asks for context, then gives the prompt")
    added = [
        types.Prompt(name=name, description="Added by test_trigger_prompt_change")
        for name in sorted(diagnostics.DYNAMIC["prompts"])
    ]
    return types.ListPromptsResult(prompts=[*PROMPTS, mrtr_prompt, *added])


def _user(content: types.ContentBlock) -> types.PromptMessage:
    return types.PromptMessage(role="user", content=content)


async def get_prompt(ctx: Context, params: types.GetPromptRequestParams) -> Any:
    if params.name == mrtr.PROMPT:
        if ctx.protocol_version == diagnostics.MODERN:
            return mrtr.prompt(params.input_responses)
        return await diagnostics.in_rounds(ctx, lambda answers, state: mrtr.prompt(answers))
    args = params.arguments or {}
    if params.name == "test_simple_prompt":
        messages = [_user(_text("This is a simple prompt for testing."))]
    elif params.name == "test_prompt_with_arguments":
        messages = [_user(_text(f"Prompt with arguments: arg1='{args.get('arg1')}', arg2='{args.get('arg2')}'"))]
    elif params.name == "test_prompt_with_embedded_resource":
        resource = types.TextResourceContents(
            uri=args.get("resourceUri") or "test://embedded-resource",
            mime_type="text/plain",
            text="Embedded resource content for testing.",
        )
        messages = [
            _user(types.EmbeddedResource(type="resource", resource=resource)),
            _user(_text("Please process the embedded resource above.")),
        ]
    elif params.name == "test_prompt_with_image":
        messages = [_user(_image()), _user(_text("Please analyze the image above."))]
    elif params.name in diagnostics.DYNAMIC["prompts"]:
        messages = [_user(_text(f"{params.name} was added at run time."))]
    else:
        raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown prompt: {params.name}")
    return types.GetPromptResult(messages=messages)


# ---- logging, completion, cancellation bookkeeping -----------------------------------------------------------


async def set_logging_level(ctx: Context, params: types.SetLevelRequestParams) -> types.EmptyResult:
    _state(ctx).log_level = params.level
    return types.EmptyResult()


async def complete(ctx: Context, params: types.CompleteRequestParams) -> types.CompleteResult:
    prefix = params.argument.value
    values = [value for value in COMPLETIONS.get(params.argument.name, []) if value.startswith(prefix)]
    return types.CompleteResult(completion=types.Completion(values=values, total=len(values), has_more=False))


class _CancellationRecorder:
    """Server middleware that notes the reason of every notifications/cancelled (the SDK cancels the handler)."""

    async def __call__(self, ctx: Context, call_next: CallNext) -> HandlerResult:
        if ctx.method == "notifications/cancelled" and ctx.params:
            request_id = ctx.params.get("requestId")
            _cancel_reasons[(_session_id(ctx), str(request_id))] = ctx.params.get("reason")
        return await call_next(ctx)


class ConformanceServer(Server[dict[str, Any]]):
    """Advertises listChanged for tools, prompts and resources (the session manager asks for the defaults)."""

    def create_initialization_options(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
    ) -> InitializationOptions:
        every_list_changes = NotificationOptions(prompts_changed=True, resources_changed=True, tools_changed=True)
        return super().create_initialization_options(
            notification_options or every_list_changes, experimental_capabilities, extensions
        )


def build_server() -> ConformanceServer:
    server = ConformanceServer(
        "mcp-conformance-test-server",
        version="1.0.0",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_resource_templates,
        on_read_resource=read_resource,
        on_subscribe_resource=subscribe,
        on_unsubscribe_resource=unsubscribe,
        on_list_prompts=list_prompts,
        on_get_prompt=get_prompt,
        on_completion=complete,
        on_subscriptions_listen=ListenHandler(diagnostics.BUS),
    )
    # Registered directly rather than via on_set_logging_level, which warns that logging is deprecated in 2026-07-28.
    server.add_request_handler("logging/setLevel", types.SetLevelRequestParams, set_logging_level)
    server.middleware.append(_CancellationRecorder())
    return server


class InMemoryEventStore(EventStore):
    """Every event of every stream, in order, so a client reconnecting with Last-Event-ID gets what it missed."""

    def __init__(self) -> None:
        self._events: list[tuple[EventId, StreamId, types.JSONRPCMessage | None]] = []
        self._ids = itertools.count(1)

    async def store_event(self, stream_id: StreamId, message: types.JSONRPCMessage | None) -> EventId:
        event_id = f"{stream_id}:{next(self._ids)}"
        self._events.append((event_id, stream_id, message))
        return event_id

    async def replay_events_after(self, last_event_id: EventId, send_callback: EventCallback) -> StreamId | None:
        position = next((i for i, (event_id, _, _) in enumerate(self._events) if event_id == last_event_id), None)
        if position is None:
            return None
        stream_id = self._events[position][1]
        for event_id, stream, message in self._events[position + 1 :]:
            if stream == stream_id and message is not None:
                await send_callback(EventMessage(message, event_id))
        return stream_id


def build_app(*, event_store: bool = True, on_ready: Callable[[], None] | None = None) -> Starlette:
    manager = StreamableHTTPSessionManager(
        app=build_server(),
        event_store=InMemoryEventStore() if event_store else None,
        retry_interval=1000 if event_store else None,
        security_settings=TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
            allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
        ),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with manager.run():
            if on_ready is not None:
                on_ready()
            yield

    return Starlette(routes=[Route("/mcp", endpoint=StreamableHTTPASGIApp(manager))], lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0, help="0: let the OS choose")
    parser.add_argument("--no-event-store", action="store_true", help="no resumability, no SSE priming events")
    args = parser.parse_args()
    sock = socket.create_server(("127.0.0.1", args.port))
    port = sock.getsockname()[1]
    app = build_app(event_store=not args.no_event_store, on_ready=lambda: print(f"PORT {port}", flush=True))
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=2)
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


if __name__ == "__main__":
    main()
