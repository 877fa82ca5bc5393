"""Forwarding one downstream request to its upstream: the call in flight, its cancellation, its error.

Every forwarded method (tools/call, prompts/get, resources/read, completion/complete, subscribe,
tasks/*) goes through `forward`; tools/call also leaves a call record for the dashboard and the metrics.
An upstream's JSON-RPC error reaches the client with its code, message and data unchanged; a failure of the
upstream itself is -32000 with `data.upstream`, and a request the client cancelled is -32800.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from mcpstead import jsonrpc
from mcpstead.calls import CallLog
from mcpstead.catalog import Catalog
from mcpstead.clock import Clock
from mcpstead.config import LimitsConfig
from mcpstead.errors import RpcError, UpstreamError, UpstreamRpcError
from mcpstead.fanout import TaskBook
from mcpstead.metrics import GatewayMetrics
from mcpstead.protocol import split_qualified
from mcpstead.relay import REQUEST_CANCELLED, InFlightCall, ReplyChannel
from mcpstead.sessions import DownstreamSession
from mcpstead.state import CallSource
from mcpstead.upstream.base import MAX_LIST_PAGES
from mcpstead.upstream.supervisor import UpstreamSupervisor

DASHBOARD_CLIENT = "dashboard"


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
        self._check_in_flight(session)
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        call = InFlightCall(
            supervisor.name,
            session,
            channel,
            loop.time() + supervisor.config.timeout_seconds,
            task=task,
            relay_wait=self._limits().relay_wait_seconds,
            limit_hit=self._metrics.limit_hit,
        )
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
            if in_flight is not None:
                in_flight.pop(message_id, None)
        if isinstance(result, dict) and "task" in result:
            self._tasks.record(result, supervisor.name, session)
        return result

    # -- tools/call ------------------------------------------------------------------------------------

    async def call_tool(
        self,
        params: dict[str, Any],
        *,
        session: DownstreamSession | None,
        source: CallSource = "client",
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
                source=source,
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
