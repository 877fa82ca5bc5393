"""Run the real gateway (runner.serve on a real socket) inside the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import httpx

from mcpstead.config import parse_config
from mcpstead.runner import bind, serve


@dataclass
class RunningGateway:
    url: str
    base: str

    async def health(self) -> dict[str, object]:
        async with httpx.AsyncClient() as client:
            response = await client.get(f"{self.base}/health", timeout=5)
            return response.json()  # type: ignore[no-any-return]

    async def wait_connected(self, *names: str, timeout: float = 15) -> dict[str, object]:
        """Poll /health (the public surface) until the named upstreams are connected."""
        async with asyncio.timeout(timeout):
            while True:
                health = await self.health()
                servers = {s["name"]: s for s in health["servers"]}  # type: ignore[index, union-attr]
                if all(servers.get(n, {}).get("connected") for n in names):
                    return health
                await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def run_gateway(yaml_text: str, environ: Mapping[str, str] | None = None) -> AsyncIterator[RunningGateway]:
    config = parse_config(yaml_text, "test.yaml", {**os.environ, **(environ or {})})
    sock = bind(config.host, 0)
    stop = asyncio.Event()
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(config, sock, on_ready=ready.set_result, stop=stop, handle_signals=False))
    try:
        async with asyncio.timeout(30):
            await asyncio.wait({ready, task}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            raise RuntimeError(f"gateway exited early with {task.result()}")
        url = ready.result()
        yield RunningGateway(url=url, base=url.removesuffix("/mcp"))
    finally:
        stop.set()
        async with asyncio.timeout(20):
            exit_code = await task
        assert exit_code == 0
