"""Requests waiting for their answer on a connection whose answers arrive out of band (stdio, SSE)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from mcpstead.errors import UpstreamDisconnectedError, UpstreamError, UpstreamRpcError, UpstreamTimeoutError
from mcpstead.upstream.base import notification_message, request_message

if TYPE_CHECKING:
    from mcpstead.relay import InFlightCall


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


def unwrap(upstream: str, message: dict[str, Any]) -> Any:
    """The `result` of a response, or UpstreamRpcError carrying the upstream's own error object."""
    error = message.get("error")
    if error is not None:
        raise UpstreamRpcError(upstream, error if isinstance(error, dict) else {"code": -32603, "message": str(error)})
    return message.get("result")


class OutOfBandLink:
    """Base for transports whose answers arrive apart from the requests (a child's stdout, an SSE stream).

    A request is sent with `_send` and answered through `_pending`, both within one deadline. When the link
    ends, every request still waiting gets the reason at once instead of its timeout. A request the caller
    gave up on (timeout or cancellation) is cancelled upstream with `notifications/cancelled`.
    """

    def __init__(self, upstream: str) -> None:
        self._pending = PendingRequests(upstream)
        self.closed = asyncio.Event()
        self.close_reason: str | None = None

    async def _send(self, message: dict[str, Any]) -> None:
        raise NotImplementedError

    async def request(
        self, method: str, params: dict[str, Any] | None, timeout: float, call: InFlightCall | None = None
    ) -> Any:
        """Everything arrives on one stream and the inbound attributes it; `call` only lends its client's
        reason when the request is cancelled."""
        upstream = self._pending.upstream
        if self.closed.is_set():
            raise UpstreamDisconnectedError(upstream, self.close_reason)
        request_id, message = request_message(method, params)
        future = self._pending.expect(request_id)
        try:
            async with asyncio.timeout(timeout):
                await self._send(message)
                answer = await future
        except TimeoutError:
            await self._cancel_upstream(request_id, "timed out")
            raise UpstreamTimeoutError(upstream, timeout) from None
        except asyncio.CancelledError:
            await self._cancel_upstream(request_id, call.cancel_reason if call and call.cancel_reason else "cancelled")
            raise
        finally:
            self._pending.forget(request_id)
        return unwrap(upstream, answer)

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        await self._send(notification_message(method, params))

    async def respond(self, message: dict[str, Any]) -> None:
        await self._send(message)

    def initialized(self) -> None:
        """Nothing more to open: everything already arrives on the one stream."""

    async def _cancel_upstream(self, request_id: int, reason: str) -> None:
        if not self.closed.is_set():
            with contextlib.suppress(UpstreamError):
                await self.notify("notifications/cancelled", {"requestId": request_id, "reason": reason})

    def _mark_closed(self, reason: str) -> None:
        if self.closed.is_set():
            return
        self.close_reason = reason
        self.closed.set()
        self._pending.fail_all(UpstreamDisconnectedError(self._pending.upstream, reason))
