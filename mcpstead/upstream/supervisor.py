"""One supervisor per upstream: connect -> initialize -> list tools -> ready, health-check, reconnect with backoff.

The supervisor owns the upstream's mutable state. Every change calls `on_change()` (an O(1) version bump in
the gateway), so observers see it on their next snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Literal

from mcpstead.aio import cancel_and_wait
from mcpstead.clock import Clock
from mcpstead.config import ServerConfig
from mcpstead.errors import UpstreamDisconnectedError, UpstreamError
from mcpstead.headers import header_annotations
from mcpstead.protocol import MODERN_VERSIONS, Era
from mcpstead.relay import InboundHooks, InFlightCall, UpstreamInbound
from mcpstead.sessions import DownstreamSession
from mcpstead.state import ToolView, TransportKind, UpstreamStatus, UpstreamView
from mcpstead.stats import UpstreamStats, measured
from mcpstead.traffic import Traffic
from mcpstead.upstream.backoff import backoff_delay
from mcpstead.upstream.base import (
    DEFAULT_LIMIT,
    Connection,
    MessageLimit,
    UpstreamIdentity,
    discover,
    initialize,
)
from mcpstead.upstream.health import HealthWatch
from mcpstead.upstream.lists import fetch_lists
from mcpstead.upstream.modern import ModernStdioConnection
from mcpstead.upstream.pool import ClientSessionPool
from mcpstead.upstream.stdio import STDERR_LINES, StdioConnection
from mcpstead.upstream.transports import Connect, ConnectionHooks, connect_transport
from mcpstead.upstream.wire import speaks_modern

log = logging.getLogger("mcpstead.upstream")
stderr_log = logging.getLogger("mcpstead.upstream.stderr")
DISCOVER_PROBE_SECONDS = 10.0
"""`protocol_version: auto` asks `server/discover` first; a 2025-era server that leaves a request before its
handshake unanswered costs at most this long before the handshake is tried."""
RETRY_ON_CALL_SECONDS = 1.0
"""A call to an upstream in backoff brings its next connect attempt forward, at most this often."""


async def _nothing_pending() -> None:
    """A supervisor on its own (tests) has no catalog to wait for."""


class UpstreamSupervisor:
    def __init__(
        self,
        config: ServerConfig,
        *,
        clock: Clock,
        on_change: Callable[[], None],
        on_lists_changed: Callable[[], None],
        hooks: InboundHooks,
        on_ready: Callable[[UpstreamSupervisor], None] = lambda supervisor: None,
        catalog_settled: Callable[[], Awaitable[None]] = _nothing_pending,
        connect: Connect = connect_transport,
        rng: Callable[[], float] = random.random,
        log_stderr: bool = False,
        limit: MessageLimit = DEFAULT_LIMIT,
        max_items: int = 10_000,
        stderr_lines: int = STDERR_LINES,
        traffic: Traffic | None = None,
    ) -> None:
        self.config = config
        self._traffic = traffic or Traffic()
        self.name = config.name
        self._clock = clock
        self._on_change = on_change
        self._on_lists_changed = on_lists_changed
        self._catalog_settled = catalog_settled
        """Awaited before announcing ready: the gateway rebuilds its catalog a pass after a list change."""
        self.status: UpstreamStatus = "connecting"
        self._detects = config.protocol == "auto" and config.url is not None
        self.transport: TransportKind | None = None if self._detects else config.transport
        """The transport in use; for `protocol: auto` HTTP upstreams, None until detected."""
        self.lists: dict[str, tuple[dict[str, Any], ...]] = {}
        """Kind ("tools", "prompts", "resources", "resourceTemplates") -> the upstream's items, as listed."""
        self.identity: UpstreamIdentity | None = None
        self.last_seen: float | None = None
        self.reconnects = 0
        self.last_error: str | None = None
        self.next_retry_at: float | None = None
        self.exit_code: int | None = None
        self.calls = 0
        self.errors = 0
        self.stderr: deque[str] = deque(maxlen=stderr_lines)
        self.stderr_seq = 0
        self._connection: Connection | None = None
        self._check_now = asyncio.Event()
        self._restart = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._tools_view: tuple[ToolView, ...] = ()
        self.stats = UpstreamStats()
        self._connect_to = connect
        self._rng = rng
        """Backoff jitter (0 <= rng() < 1)."""
        self._on_ready = on_ready
        self._retried_on_call = float("-inf")
        self._limit = limit
        self._max_items = max_items
        self.cut_lists: dict[str, int] = {}
        """Kinds whose list was cut at limits.items_per_upstream, with the limit."""
        self._log_stderr = log_stderr
        """Headless: each line a stdio child writes to stderr also goes to the log (where systemd or Docker
        keep it); the dashboard shows the lines itself."""
        self.sent_log_level: str | None = None
        """The level last asked of the shared upstream session (mcpstead/sync.py keeps it)."""
        self.inbound = UpstreamInbound(self.name, hooks)
        self.pool = ClientSessionPool(self.name, hooks, self._open_for_client, config.max_sessions)
        self._health = HealthWatch(self.name, clock, self.stats, lambda: self.config, self._refresh_lists, self._seen)
        self.era: Era | None = None
        """The protocol era the upstream speaks; None for HTTP until a connect finds out."""
        self._header_schemas: dict[str, Any] = {}
        """Own tool name -> input schema, for the tools with `x-mcp-header` annotations (walked per list change)."""
        self._hooks = ConnectionHooks(
            inbound=self.inbound,
            on_wire=self._on_wire,
            count_session_reset=self._count_session_reset,
            stderr=self.stderr,
            stderr_written=self._stderr_written,
            limit=limit,
            tool_schema=self.header_schema,
        )

    def _on_wire(self, direction: Literal["sent", "received"], data: bytes | str) -> None:
        self.stats.count_bytes(direction, len(data))
        if self._traffic.active:
            self._traffic.upstream(self.name, direction, data)

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"upstream-{self.name}")

    async def wait_ready(self) -> None:
        await self._ready.wait()

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        await self.pool.close_all()
        await self._drop_connection()
        self._set_status("stopped")

    @property
    def calls_in_flight(self) -> int:
        """Requests relayed to this upstream and not answered yet: on its shared session and the clients' own."""
        return len(self.inbound.calls) + self.pool.calls_in_flight()

    @property
    def raw_tools(self) -> tuple[dict[str, Any], ...]:
        return self.lists.get("tools", ())

    @property
    def capabilities(self) -> dict[str, Any]:
        return self.identity.capabilities if self.identity is not None else {}

    @property
    def shared(self) -> bool:
        """One upstream session for every client; always so in 2026-07-28, which has no sessions (each request
        carries its client's capabilities instead)."""
        return self.config.session == "shared" or self.era == "modern"

    @property
    def offers_logging(self) -> bool:
        """logging/setLevel is there to ask (a 2026-07-28 upstream takes the level per request instead)."""
        return self.era != "modern" and isinstance(self.capabilities.get("logging"), dict)

    @property
    def task_augmented_calls(self) -> bool:
        tasks = self.capabilities.get("tasks")
        requests = tasks.get("requests") if isinstance(tasks, dict) else None
        tools = requests.get("tools") if isinstance(requests, dict) else None
        return isinstance(tools, dict) and isinstance(tools.get("call"), dict)

    def update_config(self, config: ServerConfig) -> None:
        """Soft settings changed (timeouts, reconnect, tools ttl, quirks): apply them without reconnecting."""
        self.config = config
        if self.status == "failed":
            self.reconnect()
        else:
            self.check_soon()
        self._on_change()

    def reconnect(self) -> None:
        """Drop the connection and connect again now, even from `failed`."""
        self._restart.set()
        self._check_now.set()

    def retry_soon(self) -> None:
        """A call wants this upstream while it waits out a backoff: try to connect now instead of at the
        next scheduled retry, at most once per RETRY_ON_CALL_SECONDS."""
        now = self._clock.monotonic()
        if self.status == "backoff" and now - self._retried_on_call >= RETRY_ON_CALL_SECONDS:
            self._retried_on_call = now
            self._restart.set()

    def check_soon(self) -> None:
        """A call saw a transport failure: check health now instead of at the next interval."""
        self._check_now.set()

    # -- calls -----------------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        params: dict[str, Any] | None,
        *,
        session: DownstreamSession | None = None,
        call: InFlightCall | None = None,
    ) -> Any:
        """Send a request on the shared upstream session, or on `session`'s own in per-client mode.
        With `call`, what the upstream sends before its answer is relayed to that call's client."""
        connection = self._connection
        if self.status != "ready" or connection is None:
            raise UpstreamDisconnectedError(self.name, self.last_error)
        inbound = self.inbound
        if session is not None and not self.shared:
            client = await self.pool.get(session)
            connection, inbound = client.connection, client.inbound
        if call is not None:
            params = inbound.begin(call, params)
        try:
            result = await connection.request(method, params, self.config.timeout_seconds, call)
        except UpstreamError as exc:
            if not exc.reason.startswith("upstream_rpc") and exc.reason != "upstream_session_limit":
                self.check_soon()
            raise
        finally:
            if call is not None:
                inbound.end(call)
        self.last_seen = self._clock.wall()
        return result

    async def notify(
        self, method: str, params: dict[str, Any] | None = None, *, session: DownstreamSession | None = None
    ) -> None:
        """A notification on the shared upstream session, or on `session`'s own in per-client mode."""
        connection = self._connection
        if connection is None:
            return
        with contextlib.suppress(UpstreamError):  # a notification has nobody to tell of a failure
            if session is not None and not self.shared:
                if session.session_id not in self.pool:
                    return
                connection = (await self.pool.get(session)).connection  # may (fail to) open it again
            await connection.notify(method, params)

    async def _open_for_client(self, inbound: UpstreamInbound, session: DownstreamSession) -> Connection:
        """A per-client upstream session: its own connection, initialized with the client's capabilities."""
        connection = self._connect_to(
            self.config, self.transport or self.config.transport, replace(self._hooks, inbound=inbound)
        )
        try:
            await connection.open()
            info = {"name": session.client_name, "version": session.client_version}
            await initialize(connection, self.name, self.config.timeout_seconds, session.capabilities, info)
            if session.log_level is not None and self.offers_logging:
                await connection.request("logging/setLevel", {"level": session.log_level}, self.config.timeout_seconds)
        except BaseException:
            await connection.close()
            raise
        return connection

    async def release_client(self, session_id: str) -> None:
        await self.pool.release(session_id)

    def count_call(self, failed: bool) -> None:
        self.calls += 1
        self.errors += failed
        self._on_change()

    # -- the loop --------------------------------------------------------------------------------------

    async def _run(self) -> None:
        failures = 0
        while True:
            self._restart.clear()
            self._set_status("connecting")
            try:
                await self._connect()
            except UpstreamError as exc:
                failures += 1
                self.stats.reconnect_attempts["error"] += 1
                await self._after_failure(str(exc), failures)
                continue
            except Exception as exc:  # a bug or an unexpected library error must not kill the supervisor
                log.exception("upstream %s: unexpected error while connecting", self.name)
                failures += 1
                self.stats.reconnect_attempts["error"] += 1
                await self._after_failure(f"upstream '{self.name}' unexpected error: {exc!r}", failures)
                continue
            if failures:
                self.stats.reconnect_attempts["success"] += 1
            failures = 0
            await self._catalog_settled()  # "ready" means its items are listed
            self._announce_ready()
            assert self._connection is not None
            error = await self._health.watch(self._connection, self._check_now, self._restart)
            if error is None:  # a manual reconnect
                await self._drop_connection()
                continue
            failures = 1
            await self._after_failure(error, failures)

    async def _connect(self) -> None:
        await self._drop_connection()
        transport = self.transport or self.config.transport
        if not self._detects or self.transport is not None:
            await self._connect_over(transport)
            return
        # protocol: auto. Streamable HTTP first; a 400/404/405 means "try the legacy HTTP+SSE transport"
        # (the spec's backwards-compatibility rule). What worked is remembered until a connect fails.
        try:
            await self._connect_over("streamable-http")
        except UpstreamError as exc:
            if exc.status not in (400, 404, 405) or speaks_modern(exc):
                raise
            log.info("upstream %s: Streamable HTTP refused (HTTP %s); trying HTTP+SSE", self.name, exc.status)
            await self._drop_connection()
            await self._connect_over("sse")

    async def _connect_over(self, transport: TransportKind) -> None:
        """Connect, in the era the config pins or, under `auto`, the one found (and then remembered until a
        connect fails); HTTP+SSE is 2025-era only."""
        pinned = self.config.protocol_version
        known: Era | None = self.era if pinned == "auto" else "modern" if pinned in MODERN_VERSIONS else "legacy"
        if transport == "sse":
            known = "legacy"
        connection = self._open_link(transport, "legacy" if known == "legacy" else "modern")
        try:
            await connection.open()
            with measured(self.stats.initialize, self.stats.initialize_duration, self._clock.monotonic):
                self.identity, self.era = await self._learn(transport, known)
            if self.era == "modern":
                self._link().initialized()  # its listen stream, once the era is settled
            await self._refresh_lists(self._link())
        except UpstreamError:
            if self._detects:
                self.transport = None
            if pinned == "auto" and transport != "sse":
                self.era = None  # find out again next time: the server may have changed
            raise
        self.transport = transport

    async def _learn(self, transport: TransportKind, known: Era | None) -> tuple[UpstreamIdentity, Era]:
        """What the upstream is, and the era to speak to it. Detection (`auto`, era not known yet) follows
        the spec (brief §12.4, §12.5): `server/discover` first (any answer but an error of that era, or none
        within DISCOVER_PROBE_SECONDS, means "try the handshake"), then `initialize`, on the same child for
        stdio. A server that takes both is dual-era, and keeps the 2025 session: it has what a gateway relies
        on (requests pushed mid-call by tools not written for input_required, per-client sessions,
        subscriptions, tasks), and 2026-07-28 clients are bridged to it. One that takes only discover, or
        refuses the handshake the way a modern-only server does (an error of that era), is spoken to in
        2026-07-28."""
        timeout = self.config.timeout_seconds
        if known == "modern":
            return await discover(self._link(), self.name, timeout), "modern"
        found: UpstreamIdentity | None = None
        aside: Connection | None = None
        if known is None:
            try:
                found = await discover(self._link(), self.name, min(timeout, DISCOVER_PROBE_SECONDS))
            except UpstreamError as exc:
                if speaks_modern(exc, refusing="server/discover"):
                    raise
                log.debug("upstream %s: server/discover refused (%s); trying the 2025 handshake", self.name, exc)
            aside = await self._handshake_aside(transport)
        try:
            identity = await initialize(self._link(), self.name, timeout)
        except UpstreamError as exc:
            modern = found is not None or (
                self.config.protocol_version == "auto" and transport != "sse" and speaks_modern(exc)
            )
            if not modern:
                raise
            log.info("upstream %s speaks 2026-07-28 only (the 2025 handshake: %s)", self.name, exc)
            await self._back_to_modern(transport, aside)
            aside = None
            return found or await discover(self._link(), self.name, timeout), "modern"
        finally:
            if aside is not None:
                await aside.close()
        if found is not None:
            log.info(
                "upstream %s serves both eras; mcpstead keeps a %s session with it",
                self.name,
                identity.protocol_version,
            )
        return identity, "legacy"

    def _open_link(self, transport: TransportKind, era: Era) -> Connection:
        """The (unopened) connection for one era, as the supervisor's current one."""
        hooks = replace(self._hooks, era=era) if era == "modern" else self._hooks
        self._connection = self._connect_to(self.config, transport, hooks)
        return self._connection

    def _link(self) -> Connection:
        assert self._connection is not None
        return self._connection

    async def _handshake_aside(self, transport: TransportKind) -> Connection | None:
        """After the probe, the handshake: on the same stdio child, now spoken to in the 2025 era (so
        finding out costs no second start; a child the probe made exit is started again), or over a new
        HTTP connection of that era while the probing one is set aside (and returned) in case the
        handshake is refused."""
        connection = self._link()
        if isinstance(connection, ModernStdioConnection) and not connection.closed.is_set():
            connection.speak("legacy")
            return None
        if transport == "stdio":  # a 2025-era child that exits on a request before its handshake
            await self._drop_connection()
            await self._open_link(transport, "legacy").open()
            return None
        legacy = self._open_link(transport, "legacy")
        try:
            await legacy.open()
        except BaseException:
            await connection.close()
            raise
        return connection

    async def _back_to_modern(self, transport: TransportKind, aside: Connection | None) -> None:
        """The handshake was refused: speak 2026-07-28 on the stdio child that was probed, or on the HTTP
        connection set aside; a new connection (a new child for stdio) when there is neither (the era was
        remembered wrong, or the probed child is gone)."""
        connection = self._link()
        if isinstance(connection, ModernStdioConnection) and not connection.closed.is_set():
            connection.speak("modern")
            return
        await self._drop_connection()
        if aside is None:
            aside = self._open_link(transport, "modern")
            await aside.open()
        self._connection = aside

    def header_schema(self, name: str) -> Any:
        """The input schema of one of the upstream's own tools whose arguments ride in `Mcp-Param-*` headers
        (2026-07-28 calls mirror them; the gateway checks a client's against it); None for the others."""
        return self._header_schemas.get(name)

    def _stderr_written(self) -> None:
        if self._log_stderr and self.stderr:
            stderr_log.info("upstream %s stderr: %s", self.name, self.stderr[-1])
        self.stderr_seq += 1
        self._on_change()

    def _count_session_reset(self, reason: str) -> None:

        self.stats.session_resets[reason] = self.stats.session_resets.get(reason, 0) + 1
        self._on_change()

    async def _refresh_lists(self, connection: Connection) -> None:
        """Fetch every list the upstream offers; the catalog is rebuilt only when one of them changed."""
        with measured(self.stats.tools_refresh, self.stats.tools_refresh_duration, self._clock.monotonic):
            lists, cut = await fetch_lists(
                connection, self.name, self.capabilities, self.config.timeout_seconds, self._max_items
            )
        if cut:
            self._limit.hit("items_per_upstream")
        self.cut_lists = cut
        self.last_seen = self.stats.tools_last_refresh = self._clock.wall()
        if lists != self.lists:
            self.lists = lists
            self._header_schemas = {
                str(tool.get("name")): tool.get("inputSchema")
                for tool in lists.get("tools", ())
                if header_annotations(tool.get("inputSchema"))
            }
            self._on_lists_changed()
        self._on_change()

    def _seen(self) -> None:
        self.last_seen = self._clock.wall()
        self._on_change()

    def _announce_ready(self) -> None:
        self.last_error = None
        self.next_retry_at = None
        self.exit_code = None
        self._set_status("ready")
        self._ready.set()
        counts = ", ".join(f"{len(items)} {kind}" for kind, items in self.lists.items() if kind != "tools" and items)
        log.info("upstream %s ready with %d tools%s", self.name, len(self.raw_tools), f", {counts}" if counts else "")
        self._on_ready(self)

    async def _after_failure(self, error: str, failures: int) -> None:
        connection = self._connection
        if isinstance(connection, StdioConnection):
            self.exit_code = connection.exit_code
        await self._drop_connection()
        await self.pool.close_all()
        was_ready = self._ready.is_set()
        self._ready.clear()
        self.reconnects += 1
        self.last_error = error
        if any(self.lists.values()):
            self.lists = {}
            self._on_lists_changed()
        if was_ready or failures == 1:
            log.warning("upstream %s unavailable: %s", self.name, error)
        limit = self.config.reconnect.max_attempts
        if limit and failures >= limit:
            log.error(
                "upstream %s failed %d times in a row; giving up until a reload or reconnect",
                self.name,
                failures,
            )
            self.next_retry_at = None
            self._set_status("failed")
            await self._restart.wait()
            return
        delay = backoff_delay(
            failures, self.config.reconnect.backoff_base_ms, self.config.reconnect.backoff_max_ms, self._rng
        )
        self.next_retry_at = self._clock.wall() + delay
        self.stats.current_backoff = delay
        self._set_status("backoff")
        self._check_now.clear()
        started = self._clock.monotonic()
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._restart.wait()
        finally:
            self.stats.backoff_seconds_total += self._clock.monotonic() - started
            self.stats.current_backoff = 0.0

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()

    def _set_status(self, status: UpstreamStatus) -> None:
        self.status = status
        self._on_change()

    # -- the read model --------------------------------------------------------------------------------

    def set_tool_views(self, tools: tuple[ToolView, ...]) -> None:
        self._tools_view = tools

    def view(self) -> UpstreamView:
        connection = self._connection
        pid = connection.pid if isinstance(connection, StdioConnection) else None
        return UpstreamView(
            name=self.name,
            transport=self.transport or "auto",
            target=self.config.target,
            status=self.status,
            required=self.config.required,
            tools=self._tools_view,
            last_seen=self.last_seen,
            reconnects=self.reconnects,
            last_error=self.last_error,
            next_retry_at=self.next_retry_at,
            pid=pid,
            exit_code=self.exit_code,
            calls=self.calls,
            errors=self.errors,
            stderr_tail=tuple(self.stderr),
            stderr_seq=self.stderr_seq,
            session_resets=dict(self.stats.session_resets),
            prompts=len(self.lists.get("prompts", ())),
            resources=len(self.lists.get("resources", ())),
            resource_templates=len(self.lists.get("resourceTemplates", ())),
            client_sessions=len(self.pool),
            era=self.era,
        )
