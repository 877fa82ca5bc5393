"""npm @modelcontextprotocol/server-everything (pinned in package.json) as a real upstream for integration tests.

    async with everything_server("streamableHttp") as url:   # http://127.0.0.1:<port>/mcp
        ...
    async with everything_server("sse") as url:              # http://127.0.0.1:<port>/sse (+ POST /message)
        ...

It listens on all interfaces by itself; the `loopback.cjs` preload pins it to 127.0.0.1 and reports the port the
OS chose (PORT=0). The process is always killed on the way out.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal

from tests.conformance.suite import NODE_MODULES, node_for_servers, package_bin, stop_process

Mode = Literal["streamableHttp", "sse"]

PRELOAD = Path(__file__).with_name("loopback.cjs")
PACKAGE = "@modelcontextprotocol/server-everything"
_PATHS: dict[Mode, str] = {"streamableHttp": "/mcp", "sse": "/sse"}


@contextlib.asynccontextmanager
async def everything_server(mode: Mode = "streamableHttp", *, timeout: float = 20) -> AsyncIterator[str]:
    """Start server-everything in `mode` on a free loopback port; yield its endpoint URL once it accepts."""
    process = await asyncio.create_subprocess_exec(
        str(node_for_servers()),
        "-r",
        str(PRELOAD),
        str(package_bin(PACKAGE)),
        mode,
        cwd=NODE_MODULES.parent,
        env={**os.environ, "PORT": "0"},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    lines: list[str] = []
    drain: asyncio.Task[None] | None = None
    try:
        assert process.stderr is not None
        stderr = process.stderr
        try:
            async with asyncio.timeout(timeout):
                port = await _listening_port(stderr, lines)
                await _wait_accepting(port)
        except TimeoutError:
            raise AssertionError(
                f"server-everything ({mode}) not listening within {timeout}s; stderr: {lines}"
            ) from None
        # Keep reading its log so the pipe never fills up and blocks it.
        drain = asyncio.create_task(_drain(stderr, lines))
        yield f"http://127.0.0.1:{port}{_PATHS[mode]}"
    finally:
        await stop_process(process)
        if drain is not None:
            drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drain


async def _listening_port(stderr: asyncio.StreamReader, lines: list[str]) -> int:
    while True:
        raw = await stderr.readline()
        if not raw:
            raise AssertionError(f"server-everything exited before listening; stderr: {lines}")
        line = raw.decode(errors="replace").rstrip("\n")
        lines.append(line)
        if match := re.search(r"LISTENING (\d+)", line):
            return int(match.group(1))


async def _wait_accepting(port: int) -> None:
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return


async def _drain(stderr: asyncio.StreamReader, lines: list[str]) -> None:
    while raw := await stderr.readline():
        lines.append(raw.decode(errors="replace").rstrip("\n"))
