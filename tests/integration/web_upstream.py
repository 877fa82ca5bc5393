"""A hand-written HTTP peer on loopback (aiohttp.web), for tests that need one to misbehave on purpose."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def no_stream(_request: web.Request) -> web.StreamResponse:
    """GET /mcp: this peer offers no stream of its own."""
    return web.Response(status=405)


@contextlib.asynccontextmanager
async def serve_mcp(post: Handler, get: Handler = no_stream) -> AsyncIterator[str]:
    """`post` and `get` on /mcp of 127.0.0.1 (an OS-chosen port); yields the URL."""
    app = web.Application()
    app.router.add_post("/mcp", post)
    app.router.add_get("/mcp", get)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        await runner.cleanup()
