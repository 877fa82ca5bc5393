"""The dashboard as an MCP client of its own gateway, with the human answering what servers ask.

Its requests go through the same method table as a client's (`router.dispatch`), on a session of its own
that no client can see: it declares sampling, elicitation and roots, so servers may ask it, and only its own
calls are asked (a client's session declares what that client declared). What an upstream asks during one
of its calls reaches the `ClientHandler` given with the request (a form, a reply box); roots/list is answered
from `dashboard.roots`. Resource updates and log messages for the session reach `on_notification`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcpstead import __version__, jsonrpc
from mcpstead.aio import BackgroundTasks
from mcpstead.context import RequestContext
from mcpstead.protocol import LATEST_VERSION
from mcpstead.router import dispatch
from mcpstead.sessions import DownstreamSession
from mcpstead.state import ClientHandler, Direction, RunningRequest
from mcpstead.traffic import CallLink

if TYPE_CHECKING:
    from mcpstead.gateway import Gateway

log = logging.getLogger("mcpstead.dashboard")

SESSION_ID = "dashboard"
CAPABILITIES: dict[str, Any] = {"sampling": {}, "elicitation": {"form": {}, "url": {}}, "roots": {"listChanged": True}}


def roots_result(configured: tuple[str, ...] | None, cwd: Path | None = None) -> dict[str, Any]:
    """roots/list as the dashboard answers it: each configured root as a file:// URI, or the working directory."""
    entries = configured if configured is not None else (str(cwd or Path.cwd()),)
    roots = []
    for entry in entries:
        if entry.startswith("file://"):
            roots.append({"uri": entry, "name": entry.rstrip("/").rsplit("/", 1)[-1] or entry})
        else:
            path = Path(os.path.expanduser(entry)).resolve()
            roots.append({"uri": path.as_uri(), "name": path.name or str(path)})
    return {"roots": roots}


class _Stream:
    """The reply channel of one dashboard request: what the gateway would write on its POST's stream."""

    def __init__(self, client: DashboardClient, handler: ClientHandler | None, link: CallLink | None) -> None:
        self._client = client
        self._handler = handler
        self._link = link
        self.answered = False
        self._asking: dict[Any, asyncio.Task[None]] = {}
        """The server's requests a person is being asked, by the id the dashboard was given."""

    @property
    def refusal(self) -> str:
        return "the dashboard's request it came with has ended"

    def push(self, message: dict[str, Any]) -> bool:
        if self.answered:
            return False
        self._client.record("out", message, self._link)
        if "id" in message and "method" in message:
            task = self._client.tasks.spawn(self._answer(message), name=f"dashboard-answer-{message['method']}")
            self._asking[message["id"]] = task
            task.add_done_callback(lambda done: self._asking.pop(message["id"], None))
            return True
        params = message.get("params")
        if message.get("method") == "notifications/cancelled" and isinstance(params, dict):
            asked = self._asking.get(params.get("requestId"))
            if asked is not None:
                asked.cancel()  # the server withdrew its question: its dialog closes, no answer is sent
        if self._handler is not None:
            try:  # this runs in a connection's reader: a dashboard bug must not reach it
                self._handler.notified(message)
            except Exception:
                log.exception("the dashboard failed to handle %s", message.get("method"))
        return True

    async def _answer(self, request: dict[str, Any]) -> None:
        method = str(request["method"])
        params = request.get("params") if isinstance(request.get("params"), dict) else {}
        assert isinstance(params, dict)
        try:
            body = await self._client.answer_body(method, params, self._handler)
        except Exception as exc:  # the dialog failed: the server gets an error, never silence
            body = {"error": {"code": jsonrpc.INTERNAL_ERROR, "message": f"the dashboard could not answer: {exc}"}}
        answer = {"jsonrpc": "2.0", "id": request["id"], **body}
        self._client.record("in", answer, self._link)
        self._client.session.resolve_client_answer(answer)


class DashboardClient:
    """The dashboard's session with the gateway, and the requests it makes on it."""

    def __init__(self, gateway: Gateway, attach: Callable[[DownstreamSession], None]) -> None:
        """`attach` puts the session among those messages are fanned out to, at its first request (a
        gateway whose dashboard never asks anything, headless, fans nothing out to it)."""
        self._gateway = gateway
        self._attach = attach
        clock = gateway.clock
        self.session = DownstreamSession(
            session_id=SESSION_ID,
            protocol_version=LATEST_VERSION,
            client_name="dashboard",
            client_version=__version__,
            created_at=clock.wall(),
            started=clock.monotonic(),
            last_activity=clock.monotonic(),
            capabilities=CAPABILITIES,
            source="dashboard",
        )
        self._ids = itertools.count(1)
        self.tasks = BackgroundTasks()
        self.on_notification: Callable[[dict[str, Any]], None] = lambda message: None
        """Told what reaches the session outside its requests (resource updates, log messages)."""
        self._reader: asyncio.Task[None] | None = None

    def start(self, method: str, params: Mapping[str, Any], handler: ClientHandler | None = None) -> RunningRequest:
        """Send a request; its answer is the returned request's `answer` task."""
        if self._reader is None:  # the first request: from now on the session hears what is fanned out
            self.session.stream = asyncio.Queue()
            self._attach(self.session)
            self._reader = asyncio.create_task(self._read_stream(), name="dashboard-stream")
        request_id = f"dashboard-{next(self._ids)}"
        sent = dict(params)
        running = RunningRequest(
            request_id,
            method,
            sent,
            asyncio.create_task(self._run(request_id, method, sent, handler), name=f"dashboard-{method}"),
            lambda reason: self.notify("notifications/cancelled", {"requestId": request_id, "reason": reason}),
        )
        return running

    async def _run(
        self, request_id: str, method: str, params: dict[str, Any], handler: ClientHandler | None
    ) -> dict[str, Any]:
        traffic = self._gateway.traffic
        link = traffic.begin_call(SESSION_ID) if traffic.active else None
        self.record("in", {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}, link)
        stream = _Stream(self, handler, link)
        ctx = RequestContext(
            self._gateway, self.session, method, params, request_id, self._gateway.clock.monotonic(), stream
        )
        try:
            answer = await dispatch(ctx)
        finally:
            stream.answered = True
        assert answer is not None
        self.record("out", answer, link)
        return answer

    async def notify(self, method: str, params: dict[str, Any]) -> None:
        """A notification from the dashboard (its `requestId`, for a cancellation, names its request)."""
        self.record("in", {"jsonrpc": "2.0", "method": method, "params": params}, None)
        await dispatch(RequestContext(self._gateway, self.session, method, params, None, 0.0))

    async def answer_body(self, method: str, params: dict[str, Any], handler: ClientHandler | None) -> dict[str, Any]:
        if method == "roots/list":
            return {"result": roots_result(self._gateway.config.dashboard.roots)}
        if method == "ping":
            return {"result": {}}
        if handler is None:
            return {
                "error": {
                    "code": jsonrpc.INTERNAL_ERROR,
                    "message": f"nobody at the dashboard can answer '{method}' for this call",
                }
            }
        return await handler.asked(method, params)

    def record(self, direction: Direction, message: dict[str, Any], link: CallLink | None) -> None:
        """The dashboard's side of the client hop, as a client's is recorded where /mcp is served."""
        traffic = self._gateway.traffic
        if traffic.active:
            traffic.client(direction, jsonrpc.encode(message), link, SESSION_ID)

    async def _read_stream(self) -> None:
        """What the gateway sends the session outside its requests (as a client's GET stream would carry)."""
        stream = self.session.stream
        assert stream is not None
        while (message := await stream.get()) is not None:
            self.record("out", message, None)
            try:
                self.on_notification(message)
            except Exception:  # a listener's bug must not stop the stream
                log.exception("the dashboard failed to handle %s", message.get("method"))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        await self.tasks.cancel_all()
