"""Forwarding one downstream request to its upstream: the call in flight, its cancellation, its error.

Every forwarded method (tools/call, prompts/get, resources/read, completion/complete, subscribe,
tasks/*) goes through `forward`; tools/call also leaves a call record for the dashboard and the metrics.
An upstream's JSON-RPC error reaches the client with its code, message and data unchanged; a failure of the
upstream itself is -32000 with `data.upstream`, and a request the client cancelled is -32800.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mcpstead import jsonrpc
from mcpstead.calls import CallLog
from mcpstead.catalog import Catalog
from mcpstead.clock import Clock
from mcpstead.config import LimitsConfig
from mcpstead.errors import RpcError, UpstreamError, UpstreamRpcError
from mcpstead.fanout import TaskBook
from mcpstead.metrics import GatewayMetrics
from mcpstead.mrtr import InputBridge, StateSeal
from mcpstead.protocol import split_qualified, without_envelope
from mcpstead.relay import CLIENT_CAPABILITY, REQUEST_CANCELLED, InFlightCall, ReplyChannel
from mcpstead.sessions import DownstreamSession
from mcpstead.upstream.base import MAX_LIST_PAGES
from mcpstead.upstream.supervisor import UpstreamSupervisor

DASHBOARD_CLIENT = "dashboard"


@dataclass(eq=False, slots=True)
class Parked:
    """A modern client's call, its upstream request running in `work`, between input_required rounds."""

    work: asyncio.Task[Any]
    call: InFlightCall
    expires: float
    """Wall clock: the upstream call's own timeout; a requestState expires with it."""

    @property
    def bridge(self) -> InputBridge:
        """The call's questions for the client."""
        assert self.call.bridge is not None  # a parked call is a modern one, which always has its bridge
        return self.call.bridge


def _capability_object(name: str) -> dict[str, Any]:
    """`elicitation.url` -> {"elicitation": {"url": {}}}: the shape -32021's data.requiredCapabilities has."""
    found: dict[str, Any] = {}
    node = found
    for part in name.split("."):
        node[part] = {}
        node = node[part]
    return found


def as_rpc_error(exc: UpstreamError, upstream: str) -> RpcError:
    if isinstance(exc, UpstreamRpcError):
        code = exc.error.get("code")
        code = code if isinstance(code, int) and not isinstance(code, bool) else jsonrpc.INTERNAL_ERROR
        return RpcError(code, str(exc.error.get("message", "")), exc.error.get("data"))
    return RpcError(jsonrpc.UPSTREAM_ERROR, str(exc), {"upstream": upstream})


class Forwarder:
    def __init__(
        self,
        supervisors: Mapping[str, UpstreamSupervisor],
        catalog: Callable[[], Catalog],
        tasks: TaskBook,
        calls: CallLog,
        metrics: GatewayMetrics,
        clock: Clock,
        on_change: Callable[[], None],
        limits: Callable[[], LimitsConfig],
    ) -> None:
        self._supervisors = supervisors
        self._catalog = catalog
        self._tasks = tasks
        self._calls = calls
        self._metrics = metrics
        self._clock = clock
        self._on_change = on_change
        self._limits = limits
        self._parked: dict[str, Parked] = {}
        """Modern calls waiting for the client's answers (their upstream calls still open), by id."""
        self._parked_ids = itertools.count(1)
        self._seal = StateSeal()
        self._calls_in_flight = 0

    def _check_in_flight(self, session: DownstreamSession | None) -> None:
        """Refuse at once a request past limits.calls_in_flight or limits.calls_per_session."""
        limits = self._limits()
        if session is not None and len(session.in_flight) >= limits.calls_per_session:
            self._metrics.limit_hit("calls_per_session")
            raise RpcError(
                jsonrpc.UPSTREAM_ERROR,
                f"this session already has {limits.calls_per_session} requests waiting (limits.calls_per_session)",
            )
        if self._calls_in_flight >= limits.calls_in_flight:
            self._metrics.limit_hit("calls_in_flight")
            raise RpcError(
                jsonrpc.UPSTREAM_ERROR,
                f"{limits.calls_in_flight} requests are already waiting on upstreams (limits.calls_in_flight)",
            )

    def ready(self, upstream: str) -> UpstreamSupervisor:
        supervisor = self._supervisors.get(upstream)
        if supervisor is None:
            raise RpcError(jsonrpc.INVALID_PARAMS, f"unknown upstream '{upstream}'")
        if supervisor.status != "ready":
            supervisor.retry_soon()
            detail = f": {supervisor.last_error}" if supervisor.last_error else ""
            raise RpcError(
                jsonrpc.UPSTREAM_ERROR,
                f"upstream '{upstream}' is disconnected ({supervisor.status}){detail}",
                {"upstream": upstream},
            )
        return supervisor

    async def forward(
        self,
        upstream: str,
        method: str,
        params: dict[str, Any],
        *,
        session: DownstreamSession | None,
        message_id: jsonrpc.JsonId = None,
        channel: ReplyChannel | None = None,
    ) -> Any:
        supervisor = self.ready(upstream)
        try:
            return await self.send(supervisor, method, params, session, message_id, channel)
        except UpstreamError as exc:
            raise as_rpc_error(exc, upstream) from None

    async def send(
        self,
        supervisor: UpstreamSupervisor,
        method: str,
        params: dict[str, Any],
        session: DownstreamSession | None,
        message_id: jsonrpc.JsonId,
        channel: ReplyChannel | None,
    ) -> Any:
        """One request as an InFlightCall: cancellable by the client, relaying what rides on it."""
        if session is not None and session.era == "modern":
            return await self._send_modern(supervisor, method, params, session, channel)
        if (
            session is not None
            and message_id is not None
            and session.cancels.take(message_id, asyncio.get_running_loop().time())
        ):
            session.cancels.done(message_id)  # answered: a second cancellation of it comes late
            raise RpcError(REQUEST_CANCELLED, "Request cancelled")  # before it arrived: the upstream never sees it
        self._check_in_flight(session)
        task = asyncio.current_task()
        call = self._new_call(supervisor, session, channel)
        call.task = task
        in_flight = session.in_flight if session is not None and message_id is not None else None
        if in_flight is not None:
            in_flight[message_id] = call
        self._calls_in_flight += 1
        try:
            result = await supervisor.request(method, params, session=session, call=call)
        except asyncio.CancelledError:
            if not call.cancelled_by_client or task is None:
                raise
            task.uncancel()
            raise RpcError(REQUEST_CANCELLED, "Request cancelled") from None
        finally:
            self._calls_in_flight -= 1
            if in_flight is not None and session is not None and message_id is not None:
                in_flight.pop(message_id, None)
                session.cancels.done(message_id)
        if isinstance(result, dict) and "task" in result:
            self._tasks.record(result, supervisor.name, session)
        return result

    def _new_call(
        self, supervisor: UpstreamSupervisor, session: DownstreamSession | None, channel: ReplyChannel | None
    ) -> InFlightCall:
        """A forwarded request in flight, due by the upstream's timeout."""
        return InFlightCall(
            supervisor.name,
            session,
            channel,
            asyncio.get_running_loop().time() + supervisor.config.timeout_seconds,
            relay_wait=self._limits().relay_wait_seconds,
            limit_hit=self._metrics.limit_hit,
        )

    # -- 2026-07-28 clients ------------------------------------------------------------------------------

    async def _send_modern(
        self,
        supervisor: UpstreamSupervisor,
        method: str,
        params: dict[str, Any],
        session: DownstreamSession,
        channel: ReplyChannel | None,
    ) -> Any:
        """A modern request: over the upstream's shared session, without its envelope, in a task of its own,
        so that questions the upstream asks on the way end this request with `input_required` while the
        upstream call waits for the client's retry (mrtr.py); unparked when the client can be asked nothing."""
        state = params.get("requestState")
        if state is None and not any(key in session.capabilities for key in CLIENT_CAPABILITY.values()):
            return await self._send_unparked(supervisor, method, params, session, channel)
        if StateSeal.issued(state):
            parked = self._resume(method, params, channel)
        elif state is not None and supervisor.era != "modern":
            raise RpcError(jsonrpc.INVALID_PARAMS, "requestState is not one mcpstead issued")
        else:  # a first request, or the retry of one a 2026-07-28 upstream asked for input itself
            parked = self._start_modern(supervisor, method, params, session, channel)
        try:
            ended = await parked.bridge.next_outcome(parked.work)
        except asyncio.CancelledError:  # the client closed its stream: on this wire, that is the cancellation
            parked.work.cancel()
            raise
        bridge = parked.bridge
        if bridge.missing is not None:
            parked.work.cancel()
            raise self._missing(supervisor, bridge.missing)
        if ended:
            return parked.work.result()
        return self._park(parked, method, params)

    async def _send_unparked(
        self,
        supervisor: UpstreamSupervisor,
        method: str,
        params: dict[str, Any],
        session: DownstreamSession,
        channel: ReplyChannel | None,
    ) -> Any:
        """A modern request from a client that can be asked nothing, in the request's own task: the same
        answer as the parked path (a question the upstream asks ends it with -32021), without a task."""
        self._check_in_flight(None)
        task = asyncio.current_task()
        call = self._new_call(supervisor, session, channel)
        call.task = task
        live, refused = True, False

        def end_refused() -> None:
            """Once, and only while the call runs: a refusal handled after it ended (the answer and the
            request came in one read) must not cancel what the request's task does next."""
            nonlocal refused
            if live and not refused and task is not None:
                refused = True
                task.cancel()

        call.bridge = bridge = InputBridge(on_refused=end_refused)
        self._calls_in_flight += 1
        try:
            return await supervisor.request(method, without_envelope(params), call=call)
        except asyncio.CancelledError:
            if not refused or task is None or task.uncancel() > 0:
                raise  # a hang-up or a shutdown (as well) stays a cancellation
        finally:
            live = False
            self._calls_in_flight -= 1
        assert bridge.missing is not None
        raise self._missing(supervisor, bridge.missing)

    @staticmethod
    def _missing(supervisor: UpstreamSupervisor, capability: str) -> RpcError:
        return RpcError(
            jsonrpc.MISSING_CLIENT_CAPABILITY,
            f"upstream '{supervisor.name}' needs the client capability '{capability}', which the request's "
            "clientCapabilities do not declare",
            {"requiredCapabilities": _capability_object(capability)},
        )

    def _start_modern(
        self,
        supervisor: UpstreamSupervisor,
        method: str,
        params: dict[str, Any],
        session: DownstreamSession,
        channel: ReplyChannel | None,
    ) -> Parked:
        self._check_in_flight(None)
        call = self._new_call(supervisor, session, channel)
        call.bridge = InputBridge()
        work = asyncio.create_task(supervisor.request(method, without_envelope(params), call=call), name="mcp-modern")
        call.task = work
        self._calls_in_flight += 1

        def ended(task: asyncio.Task[Any]) -> None:
            self._calls_in_flight -= 1
            if not task.cancelled():
                task.exception()  # a parked call nobody came back for must not log "never retrieved"

        work.add_done_callback(ended)
        return Parked(work, call, self._clock.wall() + supervisor.config.timeout_seconds)

    def _resume(self, method: str, params: dict[str, Any], channel: ReplyChannel | None) -> Parked:
        """A retry: its answers go to the questions its parked call's upstream asked."""
        parked_id = self._seal.open(params.get("requestState"), method, params, self._clock.wall())
        parked = self._parked.pop(parked_id, None)
        if parked is None:
            raise RpcError(
                jsonrpc.INVALID_PARAMS,
                "requestState names a call that is no longer waiting (it was answered, or timed out); "
                "send the request again without it",
            )
        responses = params.get("inputResponses")
        parked.call.channel = channel
        parked.bridge.answer(responses if isinstance(responses, dict) else {})
        return parked

    def _park(self, parked: Parked, method: str, params: dict[str, Any]) -> dict[str, Any]:
        now = self._clock.wall()
        for stale in [key for key, old in self._parked.items() if old.expires < now]:
            self._parked.pop(stale).work.cancel()
        parked_id = str(next(self._parked_ids))
        self._parked[parked_id] = parked
        parked.call.channel = None  # until the retry brings a stream to carry what the upstream sends
        return {
            "resultType": "input_required",
            "inputRequests": parked.bridge.open_questions(),
            "requestState": self._seal.seal(parked_id, method, params, parked.expires),
        }

    # -- tools/call ------------------------------------------------------------------------------------

    async def call_tool(
        self,
        params: dict[str, Any],
        *,
        session: DownstreamSession | None,
        received_at: float | None = None,
        message_id: jsonrpc.JsonId = None,
        channel: ReplyChannel | None = None,
    ) -> Any:
        """Forward a tools/call to its upstream and return the upstream's result untouched.

        `received_at` (monotonic) is when the HTTP request arrived, so the call record can split the
        gateway's own time from the upstream's.
        """
        qualified = params.get("name")
        if not isinstance(qualified, str):
            raise RpcError(jsonrpc.INVALID_PARAMS, "params.name is required")
        supervisor, tool = self._resolve(qualified)
        started_wall, started = self._clock.wall(), self._clock.monotonic()
        result: Any = None
        error: str | None = None
        reason: str | None = None
        try:
            result = await self.send(supervisor, "tools/call", {**params, "name": tool}, session, message_id, channel)
        except UpstreamError as exc:
            error, reason = str(exc), exc.reason
            raise as_rpc_error(exc, supervisor.name) from None
        except RpcError as exc:
            error, reason = exc.message, "cancelled" if exc.code == REQUEST_CANCELLED else "limit_exceeded"
            raise
        finally:
            now = self._clock.monotonic()
            upstream_seconds = now - started
            elapsed = now - (received_at if received_at is not None else started)
            if isinstance(result, dict) and result.get("isError") is True and reason is None:
                reason = "upstream_returned_error"
            if session is not None:
                session.calls += 1
            supervisor.count_call(error is not None or reason is not None)
            self._calls.record(
                started_at=started_wall,
                session_id=session.session_id if session else None,
                client=session.client_name if session else DASHBOARD_CLIENT,
                source=session.source if session is not None else "dashboard",
                tool=qualified,
                upstream=supervisor.name,
                arguments=params.get("arguments"),
                outcome="error" if error is not None else "tool_error" if reason else "ok",
                result=result,
                error=error,
                total_ms=elapsed * 1000,
                upstream_ms=upstream_seconds * 1000,
            )
            self._metrics.tool_call(supervisor.name, tool, elapsed, reason)
            self._on_change()
        return result

    def _resolve(self, qualified: str) -> tuple[UpstreamSupervisor, str]:
        route = self._catalog().tool_routes.get(qualified)
        if route is not None:
            supervisor = self._supervisors.get(route.upstream)
            if supervisor is not None:
                return supervisor, route.name
        parts = split_qualified(qualified)
        if parts is None:
            hint = (
                ": tool names are '<server>__<tool>'"
                if all(s.config.prefix for s in self._supervisors.values())
                else ""
            )
            raise RpcError(jsonrpc.INVALID_PARAMS, f"unknown tool '{qualified}'{hint}")
        if parts[0] not in self._supervisors:
            raise RpcError(jsonrpc.INVALID_PARAMS, f"unknown upstream '{parts[0]}' in tool name '{qualified}'")
        upstream, tool = parts
        self.ready(upstream)
        raise RpcError(
            jsonrpc.INVALID_PARAMS, f"unknown tool '{qualified}': upstream '{upstream}' has no tool '{tool}'"
        )

    # -- what fans out -----------------------------------------------------------------------------------

    async def list_tasks(self, session: DownstreamSession | None) -> dict[str, Any]:
        """The tasks this session created, from every upstream that lists tasks."""
        mine = self._tasks.of_session(session.session_id if session else None)
        found: list[dict[str, Any]] = []
        for supervisor in self._supervisors.values():
            tasks = supervisor.capabilities.get("tasks")
            if supervisor.status != "ready" or not isinstance(tasks, dict) or "list" not in tasks:
                continue
            params: dict[str, Any] = {}
            for _ in range(MAX_LIST_PAGES):  # every page: on a shared session this client's tasks may be far in
                try:
                    result = await supervisor.request("tasks/list", params, session=session)
                except UpstreamError as exc:
                    raise as_rpc_error(exc, supervisor.name) from None
                items = result.get("tasks") if isinstance(result, dict) else None
                found.extend(t for t in items or () if isinstance(t, dict) and t.get("taskId") in mine)
                cursor = result.get("nextCursor") if isinstance(result, dict) else None
                if not isinstance(cursor, str):
                    break
                params = {"cursor": cursor}
        return {"tasks": found}

    async def roots_changed(self, session: DownstreamSession) -> None:
        """The client's roots changed: every upstream session serving it hears so."""
        for supervisor in self._supervisors.values():
            if supervisor.status != "ready" or (not supervisor.shared and session.session_id not in supervisor.pool):
                continue
            await supervisor.notify("notifications/roots/list_changed", session=session)
