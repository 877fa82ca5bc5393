"""The Python upstream: an `mcp` SDK MCPServer with one `echo` tool, JSON answers, uvicorn+httptools on uvloop.

Run as its own process: `python -m bench.upstream_sdk --port N`.
"""

from __future__ import annotations

import argparse

import uvicorn
from mcp.server.mcpserver import MCPServer

ECHO_PREFIX = ""
"""The echo tool answers with the message unchanged."""


def build_server() -> MCPServer:
    server = MCPServer("bench-sdk")

    @server.tool(description="Echo a message back.")
    def echo(message: str) -> str:
        return ECHO_PREFIX + message

    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = build_server().streamable_http_app(json_response=True)
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
