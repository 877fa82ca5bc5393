"""What the gateway sends upstream (headers, auth, Accept, session) and how it leaves (DELETE, bounded stop)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mcpstead.config_load import parse_config
from mcpstead.runner import bind, serve
from tests.integration.gateway_harness import McpSession, RunningGateway, run_gateway
from tests.integration.misbehaving import build_misbehaving_app
from tests.integration.upstreams import serve_app

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


class RecordingUpstream:
    """A minimal MCP server that remembers every request's method and headers."""

    def __init__(self, sse_event_name: str | None = None) -> None:
        self.seen: list[tuple[str, str, list[tuple[str, str]]]] = []
        self.sse_event_name = sse_event_name

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/mcp", self.handle, methods=["POST", "DELETE"])])

    async def handle(self, request: Request) -> Response:
        headers = [(k.decode(), v.decode()) for k, v in request.scope["headers"]]
        if request.method == "DELETE":
            self.seen.append(("DELETE", "", headers))
            return Response(status_code=204)
        message = json.loads(await request.body())
        self.seen.append(("POST", message.get("method", ""), headers))
        if "id" not in message:
            return Response(status_code=202)
        result: Any = {}
        if message["method"] == "initialize":
            result = {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "rec"}}
        elif message["method"] == "tools/list":
            result = {"tools": [{"name": "who", "inputSchema": {"type": "object"}}]}
        elif message["method"] == "tools/call":
            result = {"content": [{"type": "text", "text": "you"}]}
        body = json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result})
        extra = {"mcp-session-id": "rec-1"} if message["method"] == "initialize" else {}
        if self.sse_event_name and message["method"] == "tools/call":
            event = f"event: {self.sse_event_name}\ndata: {body}\n\n"
            return Response(event, media_type="text/event-stream", headers=extra)
        return Response(body, media_type="application/json", headers=extra)

    def headers_of(self, method: str) -> list[tuple[str, str]]:
        return next(headers for verb, name, headers in self.seen if name == method or verb == method)


async def test_headers_replace_defaults_and_carry_auth_session_and_version() -> None:
    upstream = RecordingUpstream()
    async with serve_app(upstream.app()) as url:
        config = (
            f"servers:\n  - name: rec\n    url: {url}\n    auth: {{type: bearer, token_env: REC_TOKEN}}\n"
            "    headers: {Accept: application/json, X-Api-Key: '${REC_KEY}', User-Agent: my-agent/1}\n"
        )
        async with run_gateway(config, {"REC_TOKEN": "tok-123", "REC_KEY": "key-456"}) as gateway:
            await gateway.wait_connected("rec")
            session = await gateway.session()
            answer = await session.call_tool("rec__who")
            assert answer["result"]["content"][0]["text"] == "you"
    call = upstream.headers_of("tools/call")
    assert [v for k, v in call if k == "accept"] == ["application/json"]
    assert [v for k, v in call if k == "user-agent"] == ["my-agent/1"]
    assert ("x-api-key", "key-456") in call
    assert ("authorization", "Bearer tok-123") in call
    assert ("mcp-session-id", "rec-1") in call
    assert ("mcp-protocol-version", "2025-06-18") in call
    assert not any(k == "mcp-session-id" for k, _ in upstream.headers_of("initialize"))
    delete = upstream.headers_of("DELETE")
    assert ("mcp-session-id", "rec-1") in delete


async def test_inject_accept_header_and_normalize_sse_events() -> None:
    upstream = RecordingUpstream(sse_event_name="result")
    async with serve_app(upstream.app()) as url:
        plain = f"  - name: plain\n    url: {url}\n"
        quirky = (
            f"  - name: quirky\n    url: {url}\n"
            "    quirks: {normalize_sse_events: true, inject_accept_header: 'application/json, text/event-stream; q=0.9'}\n"
        )
        async with run_gateway("servers:\n" + plain + quirky) as gateway:
            await gateway.wait_connected("plain", "quirky")
            session = await gateway.session()
            strict = await session.call_tool("plain__who")
            lenient = await session.call_tool("quirky__who")
    assert strict["error"]["message"] == "upstream 'plain' SSE stream ended before the response"
    assert lenient["result"]["content"][0]["text"] == "you"
    accepts = {v for _, name, headers in upstream.seen if name == "tools/call" for k, v in headers if k == "accept"}
    assert accepts == {"application/json, text/event-stream", "application/json, text/event-stream; q=0.9"}


async def test_stop_with_a_hanging_call_answers_it_and_exits_within_the_grace() -> None:
    app = build_misbehaving_app()
    async with serve_app(app) as url:
        config = parse_config(
            f"port: 0\nmcp:\n  session:\n    shutdown_grace_seconds: 1\nservers:\n  - name: bad\n    url: {url}\n",
            "t.yaml",
        )
        stop = asyncio.Event()
        ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(
            serve(config, bind("127.0.0.1", 0), on_ready=ready.set_result, stop=stop, handle_signals=False)
        )
        gateway_url = await ready
        await RunningGateway(gateway_url, gateway_url.removesuffix("/mcp")).wait_connected("bad")
        session = McpSession(gateway_url)
        await session.initialize()
        hanging = asyncio.create_task(session.call_tool("bad__slow"))
        async with asyncio.timeout(10):
            await app.state.slow_started.wait()  # the call now waits on the upstream, which answers after 30 s
        started = time.monotonic()
        stop.set()
        answer = await hanging
        assert await task == 0
        elapsed = time.monotonic() - started
    assert elapsed < 1 + 3 + 1
    assert "error" in answer, answer
    assert answer["error"]["code"] == -32000
    assert "upstream 'bad'" in answer["error"]["message"]
