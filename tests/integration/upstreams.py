"""Real upstream MCP servers for integration tests, built with the official `mcp` SDK (code we did not write)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError
from pydantic import BaseModel

from tests.integration.lines import LineReader


class Forecast(BaseModel):
    city: str
    temperature: float
    conditions: str


def build_sdk_server(name: str = "sdk-upstream") -> MCPServer:
    server = MCPServer(name)

    @server.tool(description="Echo a message back.")
    def echo(message: str) -> str:
        return f"echo: {message}"

    @server.tool(description="Add two integers.")
    def add(a: int, b: int) -> int:
        return a + b

    @server.tool(description="A forecast with structured output.")
    def forecast(city: str) -> Forecast:
        return Forecast(city=city, temperature=21.5, conditions="sunny")

    @server.tool(description="Always fails as a tool error.")
    def explode(reason: str = "boom") -> str:
        raise ToolError(f"exploded: {reason}")

    @server.tool(description="Answers with a JSON-RPC error unless the word is right.")
    def guarded(word: str) -> str:
        if word != "please":
            raise MCPError(-32099, "the magic word is missing", {"expected": "please"})
        return "granted"

    @server.tool(description="Sleeps, for timeout tests.")
    async def nap(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "rested"

    return server


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):  # type: ignore[no-untyped-def]
        yield


@contextlib.asynccontextmanager
async def serve_app(app: Any, path: str = "/mcp") -> AsyncIterator[str]:
    """Serve an ASGI app on 127.0.0.1 (OS-chosen port) in this loop; yield the URL of `path`."""
    sock = socket.create_server(("127.0.0.1", 0))
    server = _QuietServer(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        # The socket already listens: early connections wait in its backlog until uvicorn accepts them.
        yield f"http://127.0.0.1:{sock.getsockname()[1]}{path}"
    finally:
        server.should_exit = True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await task
        sock.close()


def serve_sdk_upstream(*, json_response: bool) -> contextlib.AbstractAsyncContextManager[str]:
    """An SDK server over Streamable HTTP, answering with JSON or with SSE streams."""
    return serve_app(build_sdk_server().streamable_http_app(json_response=json_response))


@dataclass
class UpstreamProcess:
    """An SDK upstream in a child process: it can be killed and started again on the same port."""

    kind: str
    port: int = 0
    process: subprocess.Popen[str] | None = None

    def start(self) -> str:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.upstream_main", "--kind", self.kind, "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        self.port = int(LineReader(self.process.stdout).wait_for(r"^PORT (\d+)$").group(1))
        path = "/sse" if self.kind == "sse" else "/mcp"
        return f"http://127.0.0.1:{self.port}{path}"

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        if self.process is not None:
            self.process.wait(10)
            if self.process.stdout is not None:
                self.process.stdout.close()
