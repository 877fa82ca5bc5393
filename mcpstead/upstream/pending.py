"""Requests waiting for their answer on a connection whose answers arrive out of band (stdio, SSE)."""

from __future__ import annotations

import asyncio
from typing import Any

from mcpstead.errors import UpstreamDisconnectedError, UpstreamError, UpstreamRpcError, UpstreamTimeoutError


class PendingRequests:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self._waiting: dict[int | str, asyncio.Future[dict[str, Any]]] = {}

    def expect(self, request_id: int) -> asyncio.Future[dict[str, Any]]:
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        return future

    def forget(self, request_id: int) -> None:
        self._waiting.pop(request_id, None)

    def resolve(self, message: dict[str, Any]) -> bool:
        """Hand a response to its waiter. False when nobody waits for it (late or unknown id)."""
        future = self._waiting.pop(message.get("id"), None)  # type: ignore[arg-type]
        if future is None or future.done():
            return False
        future.set_result(message)
        return True

    def fail_all(self, error: UpstreamError) -> None:
        """The link is gone: every waiter gets the error now rather than waiting for its timeout."""
        waiting, self._waiting = self._waiting, {}
        for future in waiting.values():
            if not future.done():
                future.set_exception(error)

    async def wait(self, request_id: int, future: asyncio.Future[dict[str, Any]], timeout: float) -> Any:
        try:
            async with asyncio.timeout(timeout):
                message = await future
        except TimeoutError:
            raise UpstreamTimeoutError(self.upstream, timeout) from None
        finally:
            self.forget(request_id)
        return unwrap(self.upstream, message)


def unwrap(upstream: str, message: dict[str, Any]) -> Any:
    """The `result` of a response, or UpstreamRpcError carrying the upstream's own error object."""
    error = message.get("error")
    if error is not None:
        raise UpstreamRpcError(upstream, error if isinstance(error, dict) else {"code": -32603, "message": str(error)})
    return message.get("result")


class OutOfBandLink:
    """Base for transports whose answers arrive apart from the requests (a child's stdout, an SSE stream):
    when the link ends, every request still waiting gets the reason at once instead of its timeout."""

    def __init__(self, upstream: str) -> None:
        self._pending = PendingRequests(upstream)
        self.closed = asyncio.Event()
        self.close_reason: str | None = None

    def _mark_closed(self, reason: str) -> None:
        if self.closed.is_set():
            return
        self.close_reason = reason
        self.closed.set()
        self._pending.fail_all(UpstreamDisconnectedError(self._pending.upstream, reason))
