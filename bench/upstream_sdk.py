"""The Python upstream: an `mcp` SDK MCPServer with an `echo` tool, JSON answers, uvicorn+httptools on uvloop.

Run as its own process: `python -m bench.upstream_sdk --port N`. With `--sse` it answers in SSE instead, so
that the `sleep` tool's progress notifications reach the caller (the soak uses it).
"""

from __future__ import annotations

import argparse
import asyncio

import uvicorn
from mcp.server.mcpserver import Context, MCPServer

ECHO_PREFIX = ""
"""The echo tool answers with the message unchanged."""


def build_server() -> MCPServer:
    server = MCPServer("bench-sdk")

    @server.tool(description="Echo a message back.")
    def echo(message: str) -> str:
        return ECHO_PREFIX + message

    @server.tool(description="Sleep in steps, reporting progress after each.")
    async def sleep(seconds: float, steps: int, ctx: Context) -> str:
        for step in range(1, steps + 1):
            await asyncio.sleep(seconds / steps)
            await ctx.report_progress(step, steps)
        return f"slept {seconds:g} s"

    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sse", action="store_true", help="answer in SSE (progress reaches the caller)")
    args = parser.parse_args()
    app = build_server().streamable_http_app(json_response=not args.sse)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=args.port,
        http="httptools",
        loop="uvloop",
        lifespan="on",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=1,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
