"""Calls in flight, and every message that rides on them in either direction.

A forwarded request (tools/call, prompts/get, resources/read, completion/complete, tasks/*) is an
`InFlightCall`. Whatever the upstream sends before its answer (progress, log messages, server-to-client
requests, cancellations of those) is handed by the transport to the connection's `UpstreamInbound`, tied to
the call when it arrived on that call's own stream (Streamable HTTP) and attributed by progress token or by
being the only call in flight otherwise (stdio, legacy SSE). The call writes what it relays on the reply
channel of the downstream request, which is the POST's own stream.

Ownership: the gateway's forwarding code creates the call, registers it with the inbound and the downstream
session, and ends it in a `finally` when the answer (or an error, a timeout or a cancellation) arrives. Every
relayed server-to-client request waits at most until the call's deadline, and a session that ends fails the
ones still waiting, so the upstream always gets an answer.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from mcpstead import jsonrpc
from mcpstead.aio import BackgroundTasks
from mcpstead.mrtr import InputBridge
from mcpstead.sessions import DownstreamSession

log = logging.getLogger("mcpstead.relay")

CLIENT_CAPABILITY = {"sampling/createMessage": "sampling", "elicitation/create": "elicitation", "roots/list": "roots"}
"""Server-to-client methods and the client capability each needs."""
LIST_CHANGED = {
    "notifications/tools/list_changed": "tools",
    "notifications/prompts/list_changed": "prompts",
    "notifications/resources/list_changed": "resources",
}
REQUEST_CANCELLED = -32800
"""What the SDKs answer a 2025-era request that was cancelled with."""
RELAY_MARGIN = (0.1, 1.0)
"""A relayed request gives up this share of the call's remaining time (at most this many seconds) before the
call's own deadline, so the upstream gets the refusal while it can still answer the call."""

_progress_tokens = itertools.count(1)


class ReplyChannel(Protocol):
    """Where messages for one downstream request go before its answer."""

    def push(self, message: dict[str, Any]) -> bool:
        """Queue a message ahead of the answer; False when it cannot go (see `refusal`)."""
        ...

    @property
    def refusal(self) -> str:
        """Why `push` says no: the client takes only JSON, or the answer has already gone."""
        ...


class InboundHooks(Protocol):
    """What the gateway does with messages that belong to no call."""

    def list_changed(self, upstream: str, kind: str) -> None: ...

    def resource_updated(self, upstream: str, owner: DownstreamSession | None, message: dict[str, Any]) -> None:
        """`owner`: the only session this upstream session serves (per-client mode), else None."""
        ...

    def untied(self, upstream: str, owner: DownstreamSession | None, message: dict[str, Any]) -> None:
        """A notification for clients that no call claims (log messages, task status, ...)."""
        ...

    def untied_request(
        self, upstream: str, owner: DownstreamSession | None, message: dict[str, Any]
    ) -> Awaitable[dict[str, Any] | None]:
        """A server-to-client request outside any call: its answer for the upstream."""
        ...


def missing_capability(capabilities: dict[str, Any], method: str, params: Any) -> str | None:
    """The client capability a server-to-client request needs and the client did not declare, if any."""
    key = CLIENT_CAPABILITY.get(method)
    if key is None:
        return None
    declared = capabilities.get(key)
    if not isinstance(declared, dict):
        return key
    params = params if isinstance(params, dict) else {}
    if method == "elicitation/create":
        mode = params.get("mode", "form")
        modes = {name for name in ("form", "url") if name in declared} or {"form"}  # {} means form only
        if mode not in modes:
            return f"elicitation.{mode}"
    if method == "sampling/createMessage" and params.get("tools") and "tools" not in declared:
        return "sampling.tools"
    return None


def refusal(upstream_id: Any, message: str, code: int = jsonrpc.METHOD_NOT_FOUND) -> dict[str, Any]:
    return jsonrpc.error_response(upstream_id, code, message)


@dataclass(eq=False, slots=True)
class InFlightCall:
    """One forwarded downstream request, from the moment it is sent upstream until its answer."""

    upstream: str
    session: DownstreamSession | None
    channel: ReplyChannel | None
    deadline: float
    """Loop time after which nothing more is waited for on this call's behalf."""
    progress_token: Any = None
    """The client's own progress token, when it asked for progress ..."""
    upstream_token: int | None = None
    """... and the one the upstream was given in its place."""
    task: asyncio.Task[Any] | None = None
    cancelled_by_client: bool = False
    cancel_reason: str | None = None
    """The reason the client gave in notifications/cancelled, passed on to the upstream."""
    creates_task: bool = False
    """The request is task-augmented (`params.task`): its answer names a task the gateway does not know yet."""
    relay_wait: float = 600.0
    """The longest a request relayed to the client may wait (limits.relay_wait_seconds)."""
    limit_hit: Callable[[str], None] | None = None
    """Counts a limit that cut something short (mcpstead_limit_hits_total)."""
    bridge: InputBridge | None = None
    """A 2026-07-28 client's call: what the upstream asks of the client becomes input_required (mrtr.py)."""
    relayed: dict[Any, str] = field(default_factory=dict)
    """Upstream id of each server-to-client request being relayed -> the id the client sees."""

    def cancel(self, reason: str | None = None) -> None:
        """The client sent notifications/cancelled for this call: stop waiting (the upstream is told, with
        the client's reason)."""
        if self.task is not None and not self.task.done():
            self.cancelled_by_client = True
            self.cancel_reason = reason
            self.task.cancel()

    def forward(self, message: dict[str, Any]) -> None:
        """A notification for the calling client, on the call's stream."""
        session = self.session
        method = message.get("method")
        params = message.get("params")
        if method == "notifications/progress":
            if self.progress_token is None or not isinstance(params, dict):
                return
            message = {**message, "params": {**params, "progressToken": self.progress_token}}
        elif method == "notifications/message":
            if session is not None and not session.admits_log(
                params.get("level") if isinstance(params, dict) else None
            ):
                return
        elif session is not None and session.era == "modern":
            return  # on the modern wire only progress and log messages ride a request's stream
        if self.channel is None or not self.channel.push(message):
            log.debug("upstream %s: %s for a client that cannot receive it; dropped", self.upstream, method)

    async def relay_request(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """Relay a server-to-client request to the client that made this call. Returns the answer for the
        upstream (the client's, or an error), or None when the upstream cancelled the request itself."""
        upstream_id, method = message["id"], message["method"]
        session, channel = self.session, self.channel
        if self.bridge is not None and session is not None:
            return await self._ask_modern_client(self.bridge, session, message)
        if session is None or channel is None:
            return refusal(upstream_id, f"mcpstead cannot relay '{method}': this call has no client stream to carry it")
        now = asyncio.get_running_loop().time()
        remaining = self.deadline - now
        call_bound = self.deadline - min(RELAY_MARGIN[0] * remaining, RELAY_MARGIN[1])
        on_timeout = None
        if now + self.relay_wait < call_bound and self.limit_hit is not None:
            on_timeout = functools.partial(self.limit_hit, "relay_wait")  # the limit, not the call, ends the wait
        deadline = min(call_bound, now + self.relay_wait)
        return await relay_to_session(
            session, message, deadline, channel.push, self.relayed, lambda: channel.refusal, on_timeout
        )

    async def _ask_modern_client(
        self, bridge: InputBridge, session: DownstreamSession, message: dict[str, Any]
    ) -> dict[str, Any]:
        upstream_id, method, params = message["id"], message["method"], message.get("params")
        if method == "ping":
            return jsonrpc.result_response(upstream_id, {})  # the gateway answers for a client it cannot ask
        if method not in CLIENT_CAPABILITY:
            return refusal(upstream_id, f"mcpstead cannot ask a 2026-07-28 client '{method}'")
        missing = missing_capability(session.capabilities, method, params)
        if missing is not None:
            bridge.refuse(missing)
            return refusal(
                upstream_id, f"the client did not declare the '{missing}' capability, so '{method}' is refused"
            )
        deadline = min(self.deadline, asyncio.get_running_loop().time() + self.relay_wait)
        try:
            response = await bridge.ask(method, params, deadline)
        except TimeoutError:
            return refusal(upstream_id, f"the client did not answer '{method}' in time", jsonrpc.INTERNAL_ERROR)
        if not isinstance(response, dict):
            return refusal(upstream_id, f"the client's answer to '{method}' is not an object", jsonrpc.INTERNAL_ERROR)
        return jsonrpc.result_response(upstream_id, response)

    def upstream_cancelled(self, upstream_id: Any, params: dict[str, Any]) -> bool:
        """The upstream gave up one of its own requests: tell the client, under the id it knows."""
        downstream_id = self.relayed.get(upstream_id)
        if downstream_id is None or self.session is None:
            return False
        self.session.drop_client_answer(downstream_id)
        self.forward(
            {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {**params, "requestId": downstream_id}}
        )
        return True


async def relay_to_session(
    session: DownstreamSession,
    message: dict[str, Any],
    deadline: float,
    push: Callable[[dict[str, Any]], bool],
    relayed: dict[Any, str],
    unreachable: Callable[[], str],
    on_timeout: Callable[[], None] | None = None,
) -> dict[str, Any] | None:
    """Send a server-to-client request to a client with `push`, and wait (until `deadline`) for its answer."""
    upstream_id, method = message["id"], message["method"]
    if session.closed:
        return refusal(upstream_id, f"mcpstead cannot relay '{method}': the client's session has ended")
    missing = missing_capability(session.capabilities, method, message.get("params"))
    if missing is not None:
        return refusal(upstream_id, f"the client did not declare the '{missing}' capability, so '{method}' is refused")
    params = message.get("params")
    if method == "elicitation/create" and isinstance(params, dict) and isinstance(params.get("elicitationId"), str):
        session.elicitations.add(params["elicitationId"])
    downstream_id, answer = session.expect_client_answer()
    relayed[upstream_id] = downstream_id
    try:
        if not push({**message, "id": downstream_id}):
            return refusal(upstream_id, f"mcpstead cannot relay '{method}': {unreachable()}")
        try:
            async with asyncio.timeout_at(deadline):
                reply = await answer
        except TimeoutError:
            if on_timeout is not None:
                on_timeout()
            cancel = {"requestId": downstream_id, "reason": "the client did not answer in time"}
            push({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": cancel})
            return refusal(upstream_id, f"the client did not answer '{method}' in time", jsonrpc.INTERNAL_ERROR)
        if reply is None:
            return None
        if not _is_answer(reply):
            return refusal(
                upstream_id, f"the client's answer to '{method}' is not a JSON-RPC response", jsonrpc.INTERNAL_ERROR
            )
        return {**reply, "id": upstream_id}
    finally:
        relayed.pop(upstream_id, None)
        session.drop_client_answer(downstream_id)


def _is_answer(reply: dict[str, Any]) -> bool:
    """A result, or an error object with an integer code and a message (what an upstream can parse)."""
    if "result" in reply:
        return "error" not in reply
    error = reply.get("error")
    return isinstance(error, dict) and type(error.get("code")) is int and isinstance(error.get("message"), str)


class UpstreamInbound:
    """Every message one upstream session sends that is not the answer to a gateway request.

    The transport calls `deliver` for notifications and `answer` for server-to-client requests, with the
    call whose stream carried them when it knows it.
    """

    def __init__(self, upstream: str, hooks: InboundHooks, owner: DownstreamSession | None = None) -> None:
        self.upstream = upstream
        self.hooks = hooks
        self.owner = owner
        """The downstream session this upstream session belongs to (per-client mode), else None."""
        self.calls: set[InFlightCall] = set()
        self._progress: dict[int, InFlightCall] = {}
        self._held: list[dict[str, Any]] = []
        """Task status notifications waiting for the task-creating calls in flight to end (see deliver)."""

    def begin(self, call: InFlightCall, params: dict[str, Any] | None) -> dict[str, Any] | None:
        """Register a call about to be sent; returns its params with the progress token made unique upstream."""
        self.calls.add(call)
        call.creates_task = params is not None and isinstance(params.get("task"), dict)
        meta = params.get("_meta") if params is not None else None
        if isinstance(meta, dict) and "progressToken" in meta:
            token = call.upstream_token = next(_progress_tokens)
            call.progress_token = meta["progressToken"]
            self._progress[token] = call
            assert params is not None
            params = {**params, "_meta": {**meta, "progressToken": token}}
        return params

    def end(self, call: InFlightCall) -> None:
        self.calls.discard(call)
        if call.relayed and call.task is not None and call.task.cancelling():
            # The call was cancelled (by its client, or a hang-up) and the upstream told so: it no longer
            # waits for the requests it made for it, and its own notifications/cancelled for them rode the
            # stream the gateway stopped reading. The client is told, and nobody waits for its answers.
            for upstream_id in list(call.relayed):
                call.upstream_cancelled(upstream_id, {"reason": "the request it was made for was cancelled"})
        if call.upstream_token is not None:
            self._progress.pop(call.upstream_token, None)
        if self._held and not any(c.creates_task for c in self.calls):
            # Released on the next loop step: by then the caller has recorded the task this call created
            # (the forwarder does so as soon as the answer is returned, without awaiting anything).
            held, self._held = self._held, []
            asyncio.get_running_loop().call_soon(self._release, held)

    def _release(self, held: list[dict[str, Any]]) -> None:
        for message in held:
            self.hooks.untied(self.upstream, self.owner, message)

    def _claim(self, call: InFlightCall | None, out_of_band: bool) -> InFlightCall | None:
        """The call a message belongs to: the one whose stream carried it; on a transport with one stream
        for everything (stdio, legacy SSE), the only call in flight."""
        if call is not None:
            return call
        if out_of_band and len(self.calls) == 1:
            return next(iter(self.calls))
        return None

    def deliver(self, message: dict[str, Any], call: InFlightCall | None = None) -> None:
        method = message.get("method")
        params = message.get("params")
        params = params if isinstance(params, dict) else {}
        kind = LIST_CHANGED.get(str(method))
        if kind is not None:
            self.hooks.list_changed(self.upstream, kind)
            return
        if method == "notifications/resources/updated":
            self.hooks.resource_updated(self.upstream, self.owner, message)
            return
        if method == "notifications/progress":
            owner = self._progress.get(params.get("progressToken"))  # type: ignore[arg-type]
            if owner is not None:
                owner.forward(message)
            else:
                log.debug(
                    "upstream %s: progress for no call in flight (token %r)", self.upstream, params.get("progressToken")
                )
            return
        if method == "notifications/cancelled":
            target = [call] if call is not None else list(self.calls)
            if not any(c.upstream_cancelled(params.get("requestId"), params) for c in target):
                log.debug(
                    "upstream %s cancelled request %r, which is not being relayed",
                    self.upstream,
                    params.get("requestId"),
                )
            return
        if call is not None:
            call.forward(message)
        elif method == "notifications/tasks/status" and any(c.creates_task for c in self.calls):
            # A new task's first status can overtake the CreateTaskResult that names it (it rides the GET
            # stream): hold it until the gateway knows whose task it is.
            self._held.append(message)
        else:
            self.hooks.untied(self.upstream, self.owner, message)

    async def answer(
        self, message: dict[str, Any], call: InFlightCall | None = None, *, out_of_band: bool = False
    ) -> dict[str, Any] | None:
        """The answer to a server-to-client request (None: send nothing, the upstream cancelled it).
        `out_of_band`: the transport cannot tell which call a message rides on (stdio, legacy SSE)."""
        claimed = self._claim(call, out_of_band)
        if claimed is not None:
            return await claimed.relay_request(message)
        return await self.hooks.untied_request(self.upstream, self.owner, message)


class ServerRequestTasks:
    """Answers to server-to-client requests run as tasks, so a transport's reader never waits on a human."""

    def __init__(self, *, out_of_band: bool = False) -> None:
        self._tasks = BackgroundTasks()
        self._out_of_band = out_of_band
        """The transport carries every message on one stream (stdio, legacy SSE): see UpstreamInbound.answer."""

    def spawn(
        self,
        inbound: UpstreamInbound,
        message: dict[str, Any],
        call: InFlightCall | None,
        respond: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        async def run() -> None:
            try:
                reply = await inbound.answer(message, call, out_of_band=self._out_of_band)
                if reply is not None:
                    await respond(reply)
            except Exception as exc:  # the upstream may be gone; nothing else waits on this
                log.debug("upstream %s: answering %s failed: %s", inbound.upstream, message.get("method"), exc)

        self._tasks.spawn(run(), name=f"answer-{inbound.upstream}-{message.get('method')}")

    async def cancel_all(self) -> None:
        await self._tasks.cancel_all()
