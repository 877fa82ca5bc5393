"""An SDK upstream in its own process, so tests can kill it and start it again on the same port.

    python -m tests.integration.upstream_main --kind streamable-json|streamable-sse|sse [--port N]

Prints `PORT <n>` on stdout once listening.
"""

from __future__ import annotations

import argparse
import socket

import uvicorn

from tests.integration.upstreams import build_sdk_server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", choices=["streamable-json", "streamable-sse", "sse"], required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = build_sdk_server()
    if args.kind == "sse":
        app = server.sse_app()
    else:
        app = server.streamable_http_app(json_response=args.kind == "streamable-json")
    sock = socket.create_server(("127.0.0.1", args.port))
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")).run(sockets=[sock])


if __name__ == "__main__":
    main()
