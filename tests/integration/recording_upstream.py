"""A small SDK upstream (the `mcp` SDK's low-level Server over Streamable HTTP) that records what it is asked,
for tests that must see the gateway from the upstream's side: which upstream sessions were opened and ended,
subscriptions, server-to-client requests and what they were answered with.

Tools:
- `whoami`: the upstream session id this call arrived on (the `mcp-session-id` header);
- `client`: what this upstream session's client declared in initialize (capabilities, clientInfo), as JSON;
- `sample(prompt)`: asks the calling client for sampling/createMessage on this call's stream, records the
  outcome ("ok: <text>" or "error: <message>") and returns it;
- `sample_later(seconds, prompt)`: the same after sleeping `seconds`;
- `outcomes`: every recorded sampling outcome, as JSON;
- `sleep(seconds)`: sleeps, then answers "slept".

On notifications/roots/list_changed it asks the client for roots/list on the session's standalone stream
(outside any call) and records the answer per upstream session. Resource `note://1` is listed; template
`note://{id}` serves id 1 only, any other id is the upstream's own -32002 error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import mcp.types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp.shared.message import ServerMessageMetadata
from pydantic import BaseModel, ConfigDict
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from tests.integration.upstreams import serve_app

Context = ServerRequestContext[dict[str, Any]]
NOT_FOUND = -32002


class _AnyResult(BaseModel):
    model_config = ConfigDict(extra="allow")


@dataclass
class Record:
    """What the upstream saw. `changed` is set on every new entry (tests clear it and wait)."""

    opened: list[str] = field(default_factory=list)
    """Upstream session ids, in the order the server issued them (one per initialize)."""
    deleted: list[str] = field(default_factory=list)
    """Session ids a DELETE ended."""
    subscribed: list[tuple[str, str]] = field(default_factory=list)
    unsubscribed: list[tuple[str, str]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    """Tool names, as each call arrives."""
    outcomes: list[str] = field(default_factory=list)
    roots: dict[str, list[Any]] = field(default_factory=dict)
    """Upstream session id -> the roots the client answered, one entry per roots/list sent out of call."""
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def note(self) -> None:
        self.changed.set()

    async def wait_for(self, condition: Any, timeout: float = 5.0) -> None:
        """Wait (bounded) until `condition()` holds; an AssertionError names what was seen."""
        try:
            async with asyncio.timeout(timeout):
                while not condition():
                    self.changed.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(0.1):
                            await self.changed.wait()
        except TimeoutError:
            raise AssertionError(f"the upstream never saw it; record: {self}") from None


def _session_id(ctx: Context) -> str:
    headers = getattr(ctx.request, "headers", None)
    value = headers.get("mcp-session-id") if headers is not None else None
    return str(value) if value else ""


def _text(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)])


def build_server(record: Record) -> Server[dict[str, Any]]:
    background: set[asyncio.Task[None]] = set()

    async def ask_sampling(ctx: Context, prompt: str) -> str:
        request = types.CreateMessageRequest(
            params=types.CreateMessageRequestParams(
                messages=[types.SamplingMessage(role="user", content=types.TextContent(type="text", text=prompt))],
                max_tokens=10,
            )
        )
        try:
            answer = await ctx.session.send_request(
                request, types.CreateMessageResult, metadata=ServerMessageMetadata(related_request_id=ctx.request_id)
            )
        except MCPError as error:
            outcome = f"error: {error}"
        except Exception as error:  # a result that is not a CreateMessageResult
            outcome = f"invalid: {type(error).__name__}"
        else:
            content = answer.content
            outcome = f"ok: {content.text if isinstance(content, types.TextContent) else content}"
        record.outcomes.append(outcome)
        record.note()
        return outcome

    async def list_tools(ctx: Context, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        schema: dict[str, Any] = {"type": "object"}
        return types.ListToolsResult(
            tools=[
                types.Tool(name=name, description=name, input_schema=schema)
                for name in ("whoami", "client", "sample", "sample_later", "outcomes", "sleep")
            ]
        )

    async def call_tool(ctx: Context, params: types.CallToolRequestParams) -> types.CallToolResult:
        args = params.arguments or {}
        record.calls.append(params.name)
        record.note()
        if params.name == "whoami":
            return _text(_session_id(ctx))
        if params.name == "client":
            declared = ctx.session.client_params
            shown = declared.model_dump(mode="json", by_alias=True, exclude_none=True) if declared else {}
            return _text(json.dumps({key: shown.get(key) for key in ("capabilities", "clientInfo")}))
        if params.name == "sample":
            return _text(await ask_sampling(ctx, str(args.get("prompt", ""))))
        if params.name == "sample_later":
            await asyncio.sleep(float(args.get("seconds", 0.5)))
            return _text(await ask_sampling(ctx, str(args.get("prompt", ""))))
        if params.name == "outcomes":
            return _text(json.dumps(record.outcomes))
        if params.name == "sleep":
            await asyncio.sleep(float(args.get("seconds", 0.5)))
            return _text("slept")
        raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown tool: {params.name}")

    async def list_resources(ctx: Context, params: types.PaginatedRequestParams | None) -> types.ListResourcesResult:
        return types.ListResourcesResult(resources=[types.Resource(name="note-1", uri="note://1")])

    async def list_templates(
        ctx: Context, params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(
            resource_templates=[types.ResourceTemplate(name="note", uri_template="note://{id}")]
        )

    async def read_resource(ctx: Context, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        uri = str(params.uri)
        if uri != "note://1":
            raise MCPError(code=NOT_FOUND, message=f"no such note: {uri}", data={"uri": uri, "from": "upstream"})
        return types.ReadResourceResult(contents=[types.TextResourceContents(uri=uri, text="note one")])

    async def subscribe(ctx: Context, params: types.SubscribeRequestParams) -> types.EmptyResult:
        record.subscribed.append((_session_id(ctx), str(params.uri)))
        record.note()
        return types.EmptyResult()

    async def unsubscribe(ctx: Context, params: types.UnsubscribeRequestParams) -> types.EmptyResult:
        record.unsubscribed.append((_session_id(ctx), str(params.uri)))
        record.note()
        return types.EmptyResult()

    async def roots_changed(ctx: Context, params: types.NotificationParams) -> None:
        # Asked from a task of its own: the answer arrives through the session this handler belongs to.
        session_id = _session_id(ctx)

        async def ask() -> None:
            try:
                answer = await ctx.session.send_request(types.ListRootsRequest(), _AnyResult)
                roots = (answer.model_extra or {}).get("roots", [])
            except Exception as error:
                roots = [f"error: {error}"]
            record.roots.setdefault(session_id, []).append(roots)
            record.note()

        task = asyncio.create_task(ask())
        background.add(task)
        task.add_done_callback(background.discard)

    server: Server[dict[str, Any]] = Server(
        "recording-upstream",
        version="1.0.0",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_templates,
        on_read_resource=read_resource,
        on_subscribe_resource=subscribe,
        on_unsubscribe_resource=unsubscribe,
    )
    # Registered directly: the on_roots_list_changed keyword warns that roots are deprecated in 2026-07-28.
    server.add_notification_handler("notifications/roots/list_changed", types.NotificationParams, roots_changed)
    return server


class _Recording:
    """ASGI middleware: notes every session id the server issues and every session a DELETE ends."""

    def __init__(self, app: Any, record: Record) -> None:
        self.app = app
        self.record = record

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        asked = headers.get(b"mcp-session-id", b"").decode()
        method = scope["method"]

        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start":
                issued = dict(message.get("headers", [])).get(b"mcp-session-id", b"").decode()
                if method == "POST" and issued and not asked and issued not in self.record.opened:
                    self.record.opened.append(issued)
                    self.record.note()
                if method == "DELETE" and asked and message["status"] < 300:
                    self.record.deleted.append(asked)
                    self.record.note()
            await send(message)

        await self.app(scope, receive, watched)


@contextlib.asynccontextmanager
async def serve_recording_upstream() -> AsyncIterator[tuple[str, Record]]:
    """Serve the recording upstream on 127.0.0.1 in this loop; yields its /mcp URL and its Record."""
    record = Record()
    manager = StreamableHTTPSessionManager(
        app=build_server(record),
        security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with manager.run():
            yield

    app = Starlette(routes=[Route("/mcp", endpoint=StreamableHTTPASGIApp(manager))], lifespan=lifespan)
    async with serve_app(_Recording(app, record)) as url:
        yield url, record
