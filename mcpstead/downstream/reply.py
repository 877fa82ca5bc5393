"""The ASGI answer to one POSTed request, dispatched while the response is being written."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from starlette.types import Receive, Scope, Send

from mcpstead import jsonrpc
from mcpstead.context import RequestContext
from mcpstead.downstream.streams import PostReply, run_cancellable
from mcpstead.router import dispatch
from mcpstead.state import short_session_id

log = logging.getLogger("mcpstead.downstream")

AnswerShape = Callable[[dict[str, Any]], tuple[dict[str, Any], int]]


class RequestReply:
    """The ASGI response to one POSTed request: dispatched here, so that what the upstream sends before its
    answer can switch the response to SSE, and a client that hangs up cancels the call."""

    __slots__ = ("can_stream", "ctx", "shape", "sse_only")

    def __init__(self, ctx: RequestContext, sse_only: bool, can_stream: bool, shape: AnswerShape | None = None) -> None:
        self.ctx = ctx
        self.sse_only = sse_only
        self.can_stream = can_stream
        self.shape = shape
        """For a 2026-07-28 request: the answer as that wire wants it, with its HTTP status."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx = self.ctx
        modern = self.shape is not None
        channel = PostReply(send, can_stream=self.can_stream, sse_only=self.sse_only, requests_allowed=not modern)
        ctx.channel = channel
        try:
            answer, gone = await run_cancellable(scope, receive, lambda: dispatch(ctx))
        except asyncio.CancelledError:
            # The HTTP server is stopping and stopped waiting for this request: answer it with a JSON-RPC
            # error rather than letting the server write a bare 500, and end quietly.
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            answer = jsonrpc.error_response(
                ctx.message_id, jsonrpc.UPSTREAM_ERROR, "the gateway is shutting down; this request was not finished"
            )
            with contextlib.suppress(OSError, RuntimeError):
                await channel.finish(answer)
            return
        except Exception:
            log.exception("unexpected error handling %s", ctx.method)
            answer, gone = (
                jsonrpc.error_response(
                    ctx.message_id, jsonrpc.INTERNAL_ERROR, "Internal error (see the gateway's log)"
                ),
                False,
            )
        if gone:
            log.debug(
                "client of session %s hung up during %s",
                short_session_id(ctx.session.session_id) if ctx.session else "-",
                ctx.method,
            )
            await channel.abandon()
            return
        if answer is not None and self.shape is not None:
            await channel.finish(*self.shape(answer))
            return
        await channel.finish(answer)
