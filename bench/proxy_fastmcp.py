"""The peer gateway: FastMCP's proxy in front of one upstream, reusing one connected client.

Run as its own process: `python -m bench.proxy_fastmcp --port N --upstream URL`. Served over Streamable HTTP
with JSON answers on uvicorn+httptools under uvloop, like mcpstead, so the comparison is of the proxies alone.
"""

from __future__ import annotations

import argparse
import asyncio
import logging

import uvloop
from fastmcp import Client
from fastmcp.server import create_proxy


async def serve(port: int, upstream: str) -> None:
    # A connected plain Client makes create_proxy reuse its one session for every request
    # (a URL or a disconnected client would open a fresh upstream session per request).
    async with Client(upstream) as client:
        proxy = create_proxy(client, name="bench-fastmcp-proxy")
        await proxy.run_http_async(
            show_banner=False,
            transport="http",
            host="127.0.0.1",
            port=port,
            log_level="warning",
            json_response=True,
            uvicorn_config={"http": "httptools", "access_log": False, "timeout_graceful_shutdown": 1},
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="the upstream's Streamable HTTP URL")
    args = parser.parse_args()
    logging.getLogger("fastmcp").setLevel(logging.WARNING)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve(args.port, args.upstream))


if __name__ == "__main__":
    main()
