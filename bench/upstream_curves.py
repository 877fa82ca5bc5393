"""A cheap Streamable HTTP upstream for the cost curves: any number of tools, and resources of any size.

    python -m bench.upstream_curves --port N

One aiohttp process serves many upstreams, one per path: `POST /u/<index>/<tools>/mcp` is an upstream with
`<tools>` tools (`tool_<index>_<k>`, an `echo`-like schema each), so one process stands in for 1, 10 or 50
upstreams of any size without a start-up per upstream. Every path also offers the resources `bench://blob/<n>`
for the sizes given by `--resource-bytes` (text of exactly n bytes) and an `echo` tool among its tools.

Answers are JSON (no SSE), built from bytes cached per path and size, so the upstream's own CPU per request
stays small next to the gateway's: the curves measure the gateway. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import itertools
import json
from typing import Any

import uvloop
from aiohttp import web

SUPPORTED_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26")
DEFAULT_RESOURCE_BYTES = (1024, 1024 * 1024)
_session_ids = itertools.count(1)


@functools.lru_cache(maxsize=256)
def _tools_result(index: int, tools: int) -> bytes:
    """The encoded `result` of tools/list for one upstream path (cached: lists are re-read on every connect)."""
    items: list[dict[str, Any]] = [
        {
            "name": "echo",
            "description": "Echo a message back.",
            "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]},
        }
    ]
    items += [
        {
            "name": f"tool_{index}_{k}",
            "description": f"Synthetic tool {k} of upstream {index}: takes a message and a count.",
            "inputSchema": {
                "type": "object",
                "properties": {"message": {"type": "string"}, "count": {"type": "integer", "minimum": 0}},
                "required": ["message"],
            },
        }
        for k in range(max(0, tools - 1))
    ]
    return json.dumps({"tools": items[:tools]}).encode()


@functools.lru_cache(maxsize=16)
def _blob_result(uri: str, size: int) -> bytes:
    return json.dumps({"contents": [{"uri": uri, "mimeType": "text/plain", "text": "x" * size}]}).encode()


def _answer(request_id: Any, result: bytes) -> web.Response:
    body = b'{"jsonrpc":"2.0","id":' + json.dumps(request_id).encode() + b',"result":' + result + b"}"
    return web.Response(body=body, content_type="application/json")


def _error(request_id: Any, code: int, message: str) -> web.Response:
    payload = {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
    return web.json_response(payload)


class Upstreams:
    def __init__(self, resource_bytes: tuple[int, ...]) -> None:
        self.sizes = {f"bench://blob/{size}": size for size in resource_bytes}
        resources = [
            {"uri": uri, "name": f"blob-{size}", "mimeType": "text/plain", "size": size}
            for uri, size in self.sizes.items()
        ]
        self.resources_result = json.dumps({"resources": resources}).encode()

    async def post(self, request: web.Request) -> web.StreamResponse:
        index, tools = int(request.match_info["index"]), int(request.match_info["tools"])
        message = json.loads(await request.read())
        if not isinstance(message, dict) or "method" not in message:
            return web.Response(status=202)  # responses (none expected) and garbage alike
        method, request_id = message["method"], message.get("id")
        if request_id is None:
            return web.Response(status=202)  # notifications
        params = message.get("params") or {}
        if method == "initialize":
            asked = params.get("protocolVersion")
            version = asked if asked in SUPPORTED_VERSIONS else SUPPORTED_VERSIONS[0]
            result = {
                "protocolVersion": version,
                "capabilities": {"tools": {"listChanged": False}, "resources": {}},
                "serverInfo": {"name": "bench-curves", "version": "1"},
            }
            response = _answer(request_id, json.dumps(result).encode())
            response.headers["Mcp-Session-Id"] = f"s{next(_session_ids)}"
            return response
        if method == "ping":
            return _answer(request_id, b"{}")
        if method == "tools/list":
            return _answer(request_id, _tools_result(index, tools))
        if method == "tools/call":
            text = str((params.get("arguments") or {}).get("message", ""))
            return _answer(request_id, json.dumps({"content": [{"type": "text", "text": text}]}).encode())
        if method == "resources/list":
            return _answer(request_id, self.resources_result)
        if method in ("resources/templates/list", "prompts/list"):
            key = "resourceTemplates" if method.startswith("resources") else "prompts"
            return _answer(request_id, json.dumps({key: []}).encode())
        if method == "resources/read":
            uri = str(params.get("uri"))
            if uri not in self.sizes:
                return _error(request_id, -32002, f"no resource {uri}")
            return _answer(request_id, _blob_result(uri, self.sizes[uri]))
        return _error(request_id, -32601, f"method not found: {method}")


async def _no_stream(_request: web.Request) -> web.StreamResponse:
    return web.Response(status=405)


async def _end_session(_request: web.Request) -> web.StreamResponse:
    return web.Response(status=200)


def build_app(resource_bytes: tuple[int, ...] = DEFAULT_RESOURCE_BYTES) -> web.Application:
    app = web.Application(client_max_size=8 * 1024 * 1024)
    path = "/u/{index:\\d+}/{tools:\\d+}/mcp"
    app.router.add_post(path, Upstreams(resource_bytes).post)
    app.router.add_get(path, _no_stream)
    app.router.add_delete(path, _end_session)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--resource-bytes",
        default=",".join(str(size) for size in DEFAULT_RESOURCE_BYTES),
        help="comma-separated sizes of the bench://blob/<n> resources",
    )
    args = parser.parse_args()
    sizes = tuple(int(size) for size in args.resource_bytes.split(",") if size)
    uvloop.run(_serve(build_app(sizes), args.port))


async def _serve(app: web.Application, port: int) -> None:
    """Serve until killed (SIGTERM ends the process: nothing to flush)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    main()
