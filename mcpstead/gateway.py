"""The Gateway facade: owns config, upstream supervisors, tool registry, sessions, calls and metrics.

It is an async context manager: entering starts every upstream supervisor and the session GC; leaving stops
them in order. Every state change bumps `version` and sets `changed`, which is all an observer needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from mcpstead import jsonrpc
from mcpstead.aio import cancel_and_wait
from mcpstead.calls import CallLog
from mcpstead.clock import Clock, SystemClock
from mcpstead.config import GatewayConfig, load_config
from mcpstead.config_diff import diff_configs, effective_config
from mcpstead.errors import ConfigError, RpcError, UnknownUpstreamError, UpstreamError, UpstreamRpcError
from mcpstead.logs import LogRing
from mcpstead.metrics import GatewayMetrics
from mcpstead.protocol import split_qualified
from mcpstead.registry import ToolRegistry
from mcpstead.sessions import DownstreamSession, SessionStore
from mcpstead.state import CallSource, GatewaySnapshot, LogLineView, ReloadView, ToolRunResult, UpstreamView
from mcpstead.upstream.supervisor import Connect, UpstreamSupervisor, connect_transport

log = logging.getLogger("mcpstead.gateway")
reload_log = logging.getLogger("mcpstead.reload")
DASHBOARD_CLIENT = "dashboard"
TOOLS_LIST_CHANGED = {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}


class Gateway:
    def __init__(
        self,
        config: GatewayConfig,
        *,
        clock: Clock | None = None,
        listen_url: str = "",
        log_ring: LogRing | None = None,
        connect: Connect = connect_transport,
    ) -> None:
        self.config = config
        self._connect = connect
        """How supervisors make upstream connections (tests pass a fake)."""
        self.log_ring = log_ring
        self.last_reload: ReloadView | None = None
        self.reload_lock = asyncio.Lock()
        self.clock = clock or SystemClock()
        self.listen_url = listen_url
        self.sessions = SessionStore()
        self.calls = CallLog()
        self.registry = ToolRegistry()
        self.started_at = self.clock.wall()
        self.started_monotonic = self.clock.monotonic()
        self.accepting_sessions = True
        self._version = 0
        self._changed = asyncio.Event()
        self.supervisors: dict[str, UpstreamSupervisor] = {}
        self.metrics = GatewayMetrics(lambda: self.supervisors.values(), lambda: len(self.sessions), self.clock.wall)
        self._gc_task: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------------------------

    async def __aenter__(self) -> Gateway:
        for server in self.config.servers:
            self.add_upstream(server.name)
        self._gc_task = asyncio.create_task(self._collect_idle_sessions(), name="session-gc")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.shutdown()

    async def shutdown(self) -> None:
        """Refuse new sessions, end the open ones, then stop every upstream (children ended, sessions closed)."""
        self.accepting_sessions = False
        gc_task, self._gc_task = self._gc_task, None
        await cancel_and_wait(gc_task)
        for session in self.sessions:
            self.close_session(session.session_id, "gateway_shutdown")
        supervisors = list(self.supervisors.values())
        await asyncio.gather(*(supervisor.stop() for supervisor in supervisors), return_exceptions=True)
        self.bump()

    def add_upstream(self, name: str) -> None:

        server = self.config.server(name)
        assert server is not None
        supervisor = UpstreamSupervisor(
            server,
            clock=self.clock,
            on_change=self.bump,
            on_tools_changed=self.tools_changed,
            connect=self._connect,
        )
        self.supervisors[name] = supervisor
        supervisor.start()

    async def wait_required(self, timeout: float) -> list[UpstreamSupervisor]:
        """Wait until every `required: true` upstream is ready (or has failed for good), at most `timeout`.

        Returns the required upstreams that are not ready.
        """
        required = [s for s in self.supervisors.values() if s.config.required]
        seen = self.version
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while any(s.status not in ("ready", "failed") for s in required):
                    seen = await self.wait_for_change(seen)
        return [s for s in required if s.status != "ready"]

    # -- change notification (the seam) ----------------------------------------------------------------

    @property
    def version(self) -> int:
        return self._version

    def bump(self) -> None:
        self._version += 1
        self._changed.set()

    def tools_changed(self) -> None:
        before = self.registry.tools
        self.registry.rebuild(self.supervisors.values())
        if self.registry.tools != before:
            for session in self.sessions:
                session.notify(TOOLS_LIST_CHANGED)
        self.bump()

    async def wait_for_change(self, seen: int, timeout: float | None = None) -> int:
        """Return as soon as `version` differs from `seen`, or after `timeout` with the same version."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self._version == seen:
                    self._changed.clear()
                    await self._changed.wait()
        return self._version

    def upstream_views(self) -> list[UpstreamView]:
        return [self.supervisors[name].view() for name in sorted(self.supervisors)]

    def snapshot(self) -> GatewaySnapshot:
        wall, monotonic = self.clock.wall(), self.clock.monotonic()
        return GatewaySnapshot(
            version=self._version,
            listen_url=self.listen_url,
            auth_mode=self.config.mcp.auth.mode,
            config_path=self.config.path,
            started_at=self.started_at,
            upstreams=tuple(self.upstream_views()),
            sessions=tuple(session.view(wall, monotonic) for session in self.sessions),
            calls=self.calls.newest_first(),
            last_reload=self.last_reload,
        )

    # -- sessions --------------------------------------------------------------------------------------

    def open_session(self, protocol_version: str, client_info: Any) -> DownstreamSession:
        info = client_info if isinstance(client_info, dict) else {}
        session = self.sessions.create(
            protocol_version=protocol_version,
            client_name=str(info.get("name", "unknown")),
            client_version=str(info.get("version", "")),
            wall=self.clock.wall(),
            monotonic=self.clock.monotonic(),
        )
        self.metrics.session_opened()
        log.debug(
            "session %s opened by %s %s (%s)",
            session.session_id[:8],
            session.client_name,
            session.client_version,
            protocol_version,
        )
        self.bump()
        return session

    def touch(self, session: DownstreamSession) -> None:
        session.last_activity = self.clock.monotonic()

    def end_streams(self) -> None:
        """End every open GET stream (on shutdown), so the HTTP server can drain."""
        for session in self.sessions:
            session.close_stream()

    def close_session(self, session_id: str, reason: str) -> bool:
        """End a downstream session (its GET stream too). `reason` is why: client_delete, idle_timeout, ..."""
        session = self.sessions.remove(session_id)
        if session is None:
            return False
        session.close_stream()
        self.metrics.session_ended(reason, self.clock.monotonic() - session.started)
        log.debug("session %s ended (%s)", session_id[:8], reason)
        self.bump()
        return True

    async def end_session(self, session_id: str) -> bool:
        """The dashboard's 'end session' action."""
        return self.close_session(session_id, "dashboard")

    def log_lines(self, after_seq: int = 0) -> tuple[LogLineView, ...]:
        return self.log_ring.after(after_seq) if self.log_ring is not None else ()

    # -- reload ----------------------------------------------------------------------------------------

    async def reload(self) -> ReloadView:
        """Re-read the config file, validate it fully, then apply the difference. A bad file changes nothing.

        The one reload path: file saves (mcpstead/reload.py), SIGHUP, POST /-/reload and the dashboard.
        """
        async with self.reload_lock:
            now = self.clock.wall()
            try:
                new = load_config(self.config.path)
            except ConfigError as exc:
                outcome = ReloadView(at=now, ok=False, errors=tuple(exc.problems))
                reload_log.error("config reload failed; keeping the running config: %s", " | ".join(exc.problems))
                self.metrics.config_reload(ok=False)
                self.last_reload = outcome
                self.bump()
                return outcome
            return await self._apply_config(new, now)

    async def apply_config(self, new: GatewayConfig) -> ReloadView:
        """Apply a validated config: upstreams whose connection settings changed are restarted, soft settings
        apply in place, untouched upstreams (and all sessions) are left alone."""
        async with self.reload_lock:
            return await self._apply_config(new, self.clock.wall())

    async def _apply_config(self, new: GatewayConfig, now: float) -> ReloadView:
        diff = diff_configs(self.config, new)
        for setting in diff.ignored:
            reload_log.warning("config reload ignored a change to %s; restart required", setting)
        self.config = effective_config(self.config, new)
        stopping = [self.supervisors.pop(name) for name in (*diff.removed, *diff.restarted)]
        await asyncio.gather(*(supervisor.stop() for supervisor in stopping), return_exceptions=True)
        for name in diff.removed:
            self.metrics.forget_upstream(name)
        for name in (*diff.restarted, *diff.added):
            self.add_upstream(name)
        for name in diff.updated:
            server = self.config.server(name)
            assert server is not None
            self.supervisors[name].update_config(server)
        for name in diff.unchanged:
            if self.supervisors[name].status == "failed":
                self.supervisors[name].reconnect()
        self.tools_changed()

        outcome = ReloadView(
            at=now,
            ok=True,
            added=diff.added,
            removed=diff.removed,
            restarted=diff.restarted,
            updated=diff.updated,
            unchanged=diff.unchanged,
            ignored=diff.ignored,
        )
        reload_log.info(
            "config reloaded added=%d removed=%d restarted=%d updated=%d unchanged=%d",
            len(diff.added),
            len(diff.removed),
            len(diff.restarted),
            len(diff.updated),
            len(diff.unchanged),
        )
        self.metrics.config_reload(ok=True)
        self.last_reload = outcome
        self.bump()
        return outcome

    async def _collect_idle_sessions(self) -> None:
        settings = self.config.mcp.session
        while True:
            await asyncio.sleep(settings.gc_interval_seconds)
            cutoff = self.clock.monotonic() - settings.idle_ttl_seconds
            for session in self.sessions.idle_since(cutoff):
                self.close_session(session.session_id, "idle_timeout")

    # -- commands --------------------------------------------------------------------------------------

    async def reconnect(self, upstream: str) -> None:
        supervisor = self.supervisors.get(upstream)
        if supervisor is None:
            raise UnknownUpstreamError(upstream)
        supervisor.reconnect()

    async def call_tool(self, qualified_name: str, arguments: Mapping[str, Any]) -> ToolRunResult:
        """The dashboard's tool runner: the same routing as a client's call, recorded as from the dashboard."""
        try:
            result = await self.route_tool_call(
                {"name": qualified_name, "arguments": dict(arguments)}, session=None, source="dashboard"
            )
        except RpcError as exc:
            return ToolRunResult(result=None, error=f"{exc.message} (code {exc.code})")
        return ToolRunResult(result=result, error=None)

    # -- routing ---------------------------------------------------------------------------------------

    def tool_definitions(self) -> tuple[dict[str, Any], ...]:
        return self.registry.tools

    async def route_tool_call(
        self,
        params: Any,
        *,
        session: DownstreamSession | None,
        source: CallSource = "client",
        received_at: float | None = None,
    ) -> Any:
        """Forward a tools/call to its upstream and return the upstream's result untouched.

        `received_at` (monotonic) is when the HTTP request arrived, so the call record can split the
        gateway's own time from the upstream's. Raises RpcError with the code and message the client should get.
        """
        if not isinstance(params, dict):
            raise RpcError(jsonrpc.INVALID_PARAMS, "params are required")
        qualified = params.get("name")
        if not isinstance(qualified, str):
            raise RpcError(jsonrpc.INVALID_PARAMS, "params.name is required")
        supervisor, tool = self._resolve(qualified)
        forwarded = {**params, "name": tool}
        started_wall, started = self.clock.wall(), self.clock.monotonic()
        result: Any = None
        error: str | None = None
        reason: str | None = None
        try:
            result = await supervisor.request("tools/call", forwarded)
        except UpstreamRpcError as exc:
            error, reason = str(exc), exc.reason
            raise RpcError(
                _int_code(exc.error.get("code")), str(exc.error.get("message", "")), exc.error.get("data")
            ) from None
        except UpstreamError as exc:
            error, reason = str(exc), exc.reason
            raise RpcError(jsonrpc.UPSTREAM_ERROR, str(exc), {"upstream": supervisor.name}) from None
        finally:
            now = self.clock.monotonic()
            upstream_seconds = now - started
            elapsed = now - (received_at if received_at is not None else started)
            tool_error = isinstance(result, dict) and result.get("isError") is True
            if tool_error and reason is None:
                reason = "upstream_returned_error"
            self._record_call(
                session=session,
                source=source,
                qualified=qualified,
                supervisor=supervisor,
                tool=tool,
                arguments=params.get("arguments"),
                result=result,
                error=error,
                reason=reason,
                started_wall=started_wall,
                elapsed=elapsed,
                upstream_seconds=upstream_seconds,
            )
        return result

    def _resolve(self, qualified: str) -> tuple[UpstreamSupervisor, str]:
        route = self.registry.route(qualified)
        if route is not None:
            return route.supervisor, route.tool
        parts = split_qualified(qualified)
        if parts is None:
            raise RpcError(jsonrpc.INVALID_PARAMS, f"unknown tool '{qualified}': tool names are '<server>__<tool>'")
        upstream, tool = parts
        supervisor = self.supervisors.get(upstream)
        if supervisor is None:
            raise RpcError(jsonrpc.INVALID_PARAMS, f"unknown upstream '{upstream}' in tool name '{qualified}'")
        if supervisor.status != "ready":
            detail = f": {supervisor.last_error}" if supervisor.last_error else ""
            raise RpcError(
                jsonrpc.UPSTREAM_ERROR,
                f"upstream '{upstream}' is disconnected ({supervisor.status}){detail}",
                {"upstream": upstream},
            )
        raise RpcError(
            jsonrpc.INVALID_PARAMS, f"unknown tool '{qualified}': upstream '{upstream}' has no tool '{tool}'"
        )

    def _record_call(
        self,
        *,
        session: DownstreamSession | None,
        source: CallSource,
        qualified: str,
        supervisor: UpstreamSupervisor,
        tool: str,
        arguments: Any,
        result: Any,
        error: str | None,
        reason: str | None,
        started_wall: float,
        elapsed: float,
        upstream_seconds: float,
    ) -> None:
        failed = error is not None
        tool_error = reason == "upstream_returned_error"
        if session is not None:
            session.calls += 1
        supervisor.count_call(failed or tool_error)
        self.metrics.tool_call(supervisor.name, tool, elapsed, reason)

        self.calls.record(
            started_at=started_wall,
            session_id=session.session_id if session else None,
            client=session.client_name if session else DASHBOARD_CLIENT,
            source=source,
            tool=qualified,
            upstream=supervisor.name,
            arguments=arguments,
            outcome="error" if failed else "tool_error" if tool_error else "ok",
            result=result,
            error=error,
            total_ms=elapsed * 1000,
            upstream_ms=upstream_seconds * 1000,
        )
        self.bump()


def _int_code(code: Any) -> int:
    return code if isinstance(code, int) and not isinstance(code, bool) else jsonrpc.INTERNAL_ERROR
