"""The Gateway facade: owns config, upstream supervisors, the catalog, sessions, calls and metrics.

It is an async context manager: entering starts every upstream supervisor and the session GC; leaving stops
them in order. Every state change bumps `version` and sets `changed`, which is all an observer needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Mapping
from types import TracebackType
from typing import Any

from mcpstead.aio import BackgroundTasks, cancel_and_wait
from mcpstead.calls import CallLog
from mcpstead.catalog import Catalog, UpstreamLists, build_catalog
from mcpstead.clock import Clock, SystemClock
from mcpstead.config import GatewayConfig
from mcpstead.config_diff import diff_configs, effective_config
from mcpstead.config_load import load_config
from mcpstead.dashboard_client import DashboardClient
from mcpstead.errors import ConfigError, UnknownUpstreamError
from mcpstead.exposure import is_exposed, refused, warning
from mcpstead.fanout import SessionFanout, TaskBook
from mcpstead.forwarder import Forwarder
from mcpstead.logs import LogRing
from mcpstead.metrics import GatewayMetrics
from mcpstead.protocol import RELAYED_CAPABILITIES
from mcpstead.sessions import DownstreamSession, ModernClients, SessionStore
from mcpstead.state import (
    ClientHandler,
    GatewaySnapshot,
    LogLineView,
    ReloadView,
    RunningRequest,
    TrafficRecord,
    UpstreamView,
    short_session_id,
)
from mcpstead.sync import UpstreamSync
from mcpstead.traffic import Traffic, TrafficRing
from mcpstead.upstream.base import MessageLimit
from mcpstead.upstream.supervisor import UpstreamSupervisor
from mcpstead.upstream.transports import Connect, connect_transport

log = logging.getLogger("mcpstead.gateway")
reload_log = logging.getLogger("mcpstead.reload")
LIST_CHANGED = {
    "tools": ("tools",),
    "prompts": ("prompts",),
    "resources": ("resources", "templates"),
}
"""The list_changed notification of each kind, and the catalog lists it covers."""


INSTRUCTIONS = (
    "mcpstead is a gateway: tools and prompts from several MCP servers appear here as '<server>__<name>' "
    "(unless a server is configured with prefix: false); resources keep their URIs."
)


class Gateway:
    def __init__(
        self,
        config: GatewayConfig,
        *,
        clock: Clock | None = None,
        listen_url: str = "",
        log_ring: LogRing | None = None,
        connect: Connect = connect_transport,
        allow_unauthenticated: bool = False,
    ) -> None:
        self.config = config
        self.allow_unauthenticated = allow_unauthenticated
        """The user passed --allow-unauthenticated: an exposed config (exposure.py) runs, with a warning."""
        self._connect = connect
        """How supervisors make upstream connections (tests pass a fake)."""
        self.log_ring = log_ring
        self.last_reload: ReloadView | None = None
        self.reload_lock = asyncio.Lock()
        self.clock = clock or SystemClock()
        self.listen_url = listen_url
        self.sessions = SessionStore(config.instance_id)
        self.modern_clients = ModernClients()
        """2026-07-28 clients (they hold no session), for the dashboard."""
        self.calls = CallLog()
        self.traffic = Traffic(self.clock.wall)
        """Every message on both hops, for whoever listens (the dashboard, a capture file)."""
        self.catalog = Catalog()
        self._rebuilt = asyncio.Event()
        """Set while no catalog rebuild is pending (cleared by lists_changed, set by rebuild_catalog)."""
        self._rebuilt.set()
        self.tasks = TaskBook()
        self.started_at = self.clock.wall()
        self.started_monotonic = self.clock.monotonic()
        self.accepting_sessions = True
        self._version = 0
        self._changed = asyncio.Event()
        self.supervisors: dict[str, UpstreamSupervisor] = {}
        self.metrics = GatewayMetrics(lambda: self.supervisors.values(), lambda: len(self.sessions), self.clock.wall)
        self._gc_task: asyncio.Task[None] | None = None
        self._background = BackgroundTasks()
        self.fanout = SessionFanout(self.sessions, self.tasks, self._upstream_list_changed, self._timeout_of)
        self.sync = UpstreamSync(lambda: self.supervisors, self.sessions.everyone)
        self.forwarder = Forwarder(
            self.supervisors,
            lambda: self.catalog,
            self.tasks,
            self.calls,
            self.metrics,
            self.clock,
            self.bump,
            lambda: self.config.limits,
        )
        self.dashboard = DashboardClient(self, self._attach_dashboard)
        """The dashboard's own client: its runner, browsers and raw requests go through the method table."""
        self._traffic_ring: TrafficRing | None = None
        self.forward = self.forwarder.forward
        self.route_tool_call = self.forwarder.call_tool
        self.list_tasks = self.forwarder.list_tasks
        self.roots_changed = self.forwarder.roots_changed

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
        await self.dashboard.close()
        await self._background.wait(timeout=5)
        await self._background.cancel_all()
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
            on_lists_changed=self.lists_changed,
            catalog_settled=self.catalog_settled,
            hooks=self.fanout,
            on_ready=self._upstream_ready,
            connect=self._connect,
            log_stderr=self.log_ring is None,
            limit=MessageLimit(self.config.limits.upstream_message_bytes, self.metrics.limit_hit),
            max_items=self.config.limits.items_per_upstream,
            stderr_lines=self.config.limits.stderr_lines,
            traffic=self.traffic,
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

    def lists_changed(self) -> None:
        """Some upstream's lists changed (or it came or went): rebuild the catalog once this pass of the
        loop is done. A rebuild visits every item present, so upstreams whose lists arrive in the same pass
        (many coming up together) cost one rebuild, not one each. An upstream is announced ready only after
        the rebuild that holds its items (`catalog_settled`), so "ready" still means "listed"."""
        if self._rebuilt.is_set():
            self._rebuilt.clear()
            asyncio.get_running_loop().call_soon(self._rebuild_if_pending)

    async def catalog_settled(self) -> None:
        """Return once no rebuild is pending."""
        await self._rebuilt.wait()

    def _rebuild_if_pending(self) -> None:
        if not self._rebuilt.is_set():  # not done meanwhile by a reload
            self.rebuild_catalog()

    def rebuild_catalog(self) -> None:
        """Rebuild the catalog now, log what is new among its problems, and tell every session about each
        kind whose merged list really changed."""
        self._rebuilt.set()
        before = self.catalog
        upstreams = [
            UpstreamLists(s.config, s.lists, s.task_augmented_calls, s.cut_lists, unrelayed(s))
            for server in self.config.servers
            if (s := self.supervisors.get(server.name)) is not None
        ]
        self.catalog = build_catalog(upstreams, before)
        for problem in self.catalog.problems:
            if problem not in before.problems:
                log.warning("%s", problem)
        for supervisor in self.supervisors.values():
            supervisor.set_tool_views(self.catalog.tool_views.get(supervisor.name, ()))
        for kind, fields in LIST_CHANGED.items():
            if any(getattr(before, field) != getattr(self.catalog, field) for field in fields):
                message = {"jsonrpc": "2.0", "method": f"notifications/{kind}/list_changed"}
                for session in self.sessions:
                    session.notify(message)
        self.bump()

    def tool_input_schema(self, name: Any) -> Any:
        """The input schema of a tool whose arguments ride in `Mcp-Param-*` headers (None for the others,
        whose headers there is nothing to check against). Its upstream's supervisor keeps these, walked
        once per list change of that upstream; the catalog only routes the exposed name to it."""
        if not isinstance(name, str) or (route := self.catalog.tool_routes.get(name)) is None:
            return None
        supervisor = self.supervisors.get(route.upstream)
        return None if supervisor is None else supervisor.header_schema(route.name)

    def cache_hint(self) -> tuple[int, str]:
        """(ttlMs, cacheScope) for a modern list result: until the soonest scheduled refresh of an upstream's
        lists, 0 while any upstream is not ready (its items may appear any moment); always private, since
        no upstream said its lists are the same for everyone."""
        now = self.clock.wall()
        remaining: list[float] = []
        for supervisor in self.supervisors.values():
            refreshed = supervisor.stats.tools_last_refresh
            if supervisor.status != "ready" or not refreshed:
                return 0, "private"
            remaining.append(max(0.0, supervisor.config.tools.ttl_seconds - (now - refreshed)))
        return int(min(remaining, default=0.0) * 1000), "private"

    def _upstream_list_changed(self, upstream: str, kind: str) -> None:
        """An upstream said one of its lists changed: fetch them again now."""
        supervisor = self.supervisors.get(upstream)
        if supervisor is not None:
            supervisor.check_soon()

    def _upstream_ready(self, supervisor: UpstreamSupervisor) -> None:
        """(Re)connected: its shared session gets back the subscriptions and log level clients asked for."""
        self.spawn(self.sync.replay(supervisor), f"replay-{supervisor.name}")

    def _timeout_of(self, upstream: str) -> float:
        supervisor = self.supervisors.get(upstream)
        timeout = supervisor.config.timeout_seconds if supervisor is not None else 60.0
        return min(timeout, self.config.limits.relay_wait_seconds)

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Housekeeping that no request waits for; shutdown waits for it (bounded)."""
        self._background.spawn(work, name)

    def upstream_capabilities(self) -> list[dict[str, Any]]:
        return [s.capabilities for s in self.supervisors.values() if s.status == "ready"]

    def instructions(self) -> str:
        """The gateway's own note on names, then each ready upstream's instructions under its name."""
        parts = [INSTRUCTIONS, *(f"## {name}\n{text}" for name, text in self.upstream_instructions())]
        return "\n\n".join(parts)

    def upstream_instructions(self) -> list[tuple[str, str]]:
        """Each ready upstream's instructions, under its name, in config order."""
        found = []
        for server in self.config.servers:
            supervisor = self.supervisors.get(server.name)
            identity = supervisor.identity if supervisor is not None and supervisor.status == "ready" else None
            if identity is not None and identity.instructions:
                found.append((server.name, identity.instructions))
        return found

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
            sessions=(
                *(session.view(wall, monotonic) for session in self.sessions),
                *self.modern_clients.views(wall, monotonic),
            ),
            calls=self.calls.newest_first(),
            last_reload=self.last_reload,
            catalog_problems=self.catalog.problems,
            offered=self.catalog.offered,
            client_seen=self.metrics.sessions_total > 0 or self.metrics.era_requests["modern"] > 0,
            warnings=self.warnings(),
        )

    def warnings(self) -> tuple[str, ...]:
        """What the user must not miss while it is true: for /health, the log and the dashboard's header."""
        return (warning(self.config),) if is_exposed(self.config) else ()

    # -- sessions --------------------------------------------------------------------------------------

    def open_session(self, protocol_version: str, client_info: Any, capabilities: Any = None) -> DownstreamSession:
        info = client_info if isinstance(client_info, dict) else {}
        session = self.sessions.create(
            protocol_version=protocol_version,
            client_name=str(info.get("name", "unknown")),
            client_version=str(info.get("version", "")),
            wall=self.clock.wall(),
            monotonic=self.clock.monotonic(),
        )
        session.capabilities = capabilities if isinstance(capabilities, dict) else {}
        if self.sync.needs_levels():
            self.spawn(self.sync.apply_levels(), "log-levels")
        self.metrics.session_opened()
        log.debug(
            "session %s opened by %s %s (%s)",
            short_session_id(session.session_id),
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
        session.end()
        self.spawn(self._release(session), f"release-{short_session_id(session_id)}")
        self.metrics.session_ended(reason, self.clock.monotonic() - session.started)
        log.debug("session %s ended (%s)", short_session_id(session_id), reason)
        self.bump()
        return True

    async def _release(self, session: DownstreamSession) -> None:
        """What an ended session held upstream: its subscriptions, its level, its per-client sessions."""
        await self.sync.session_ended(session)
        for supervisor in list(self.supervisors.values()):
            await supervisor.release_client(session.session_id)

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
                return self._reload_failed(now, exc.problems)
            return await self._apply_config(new, now)

    async def apply_config(self, new: GatewayConfig) -> ReloadView:
        """Apply a validated config: upstreams whose connection settings changed are restarted, soft settings
        apply in place, untouched upstreams (and all sessions) are left alone."""
        async with self.reload_lock:
            return await self._apply_config(new, self.clock.wall())

    def _reload_failed(self, now: float, problems: list[str]) -> ReloadView:
        outcome = ReloadView(at=now, ok=False, errors=tuple(problems))
        reload_log.error("config reload failed; keeping the running config: %s", " | ".join(problems))
        self.metrics.config_reload(ok=False)
        self.last_reload = outcome
        self.bump()
        return outcome

    async def _apply_config(self, new: GatewayConfig, now: float) -> ReloadView:
        running = effective_config(self.config, new)  # host and port stay as bound
        if (why := refused(running, self.allow_unauthenticated)) is not None:
            return self._reload_failed(now, [f"{new.path or self.config.path}: {why}"])
        if is_exposed(running) and not is_exposed(self.config):
            reload_log.warning("%s", warning(running))
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
        self.rebuild_catalog()  # now: the reload's outcome (and whoever awaited it) sees the new catalog

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

    def start_request(
        self, method: str, params: Mapping[str, Any], handler: ClientHandler | None = None
    ) -> RunningRequest:
        return self.dashboard.start(method, params, handler)

    def _attach_dashboard(self, session: DownstreamSession) -> None:
        self.sessions.dashboard = session

    def on_notification(self, listener: Callable[[dict[str, Any]], None]) -> None:
        self.dashboard.on_notification = listener

    # -- traffic -------------------------------------------------------------------------------------

    def keep_traffic(self) -> None:
        """Keep the newest messages for the dashboard (bounded by dashboard.capture); from now on every
        message is recorded."""
        if self._traffic_ring is None:
            limits = self.config.dashboard.capture
            self._traffic_ring = TrafficRing(limits.messages, limits.max_bytes, limits.message_bytes)
            self.traffic.add_sink(self._traffic_ring)

    def traffic_since(self, after_seq: int = 0) -> tuple[TrafficRecord, ...]:
        return self._traffic_ring.since(after_seq) if self._traffic_ring is not None else ()


def unrelayed(supervisor: UpstreamSupervisor) -> tuple[str, ...]:
    """The capabilities a listed upstream declares that mcpstead does not pass on (said, not dropped)."""
    if not supervisor.lists:  # not connected (its lists are cleared when it goes)
        return ()
    return tuple(sorted(set(supervisor.capabilities) - RELAYED_CAPABILITIES))
