"""Keeping a ready upstream honest: ping it every health-check interval and re-list every ttl until it fails."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from mcpstead.clock import Clock
from mcpstead.config import ServerConfig
from mcpstead.errors import UpstreamError, UpstreamRpcError
from mcpstead.jsonrpc import METHOD_NOT_FOUND
from mcpstead.stats import UpstreamStats
from mcpstead.upstream.base import Connection

log = logging.getLogger("mcpstead.upstream")


class HealthWatch:
    """The ready phase of one upstream's supervisor. It remembers whether the server answers `ping`; one
    that does not is checked with `tools/list` instead."""

    def __init__(
        self,
        name: str,
        clock: Clock,
        stats: UpstreamStats,
        config: Callable[[], ServerConfig],
        refresh: Callable[[Connection], Awaitable[None]],
        seen: Callable[[], None],
    ) -> None:
        self._name = name
        self._clock = clock
        self._stats = stats
        self._config = config
        """The supervisor's current config: a reload may change the intervals while this watches."""
        self._refresh = refresh
        self._seen = seen
        self._ping_supported = True

    async def watch(self, connection: Connection, check_now: asyncio.Event, restart: asyncio.Event) -> str | None:
        """Returns the failure, or None when a reconnect was asked for (`restart`). A child exit or a dropped
        SSE stream ends the wait at once; so does `check_now` (a call's transport failure, a list change),
        which re-lists instead of pinging."""
        next_refresh = self._clock.monotonic() + self._config().tools.ttl_seconds
        while True:
            check_now.clear()
            config = self._config()
            wait = min(config.health_check_seconds, max(0.0, next_refresh - self._clock.monotonic()))
            closed = asyncio.ensure_future(connection.closed.wait())
            check = asyncio.ensure_future(check_now.wait())
            try:
                await asyncio.wait({closed, check}, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            finally:
                closed.cancel()
                check.cancel()
            if restart.is_set():
                return None
            if connection.closed.is_set():
                return f"upstream '{self._name}' {connection.close_reason or 'closed'}"
            try:
                if check_now.is_set() or self._clock.monotonic() >= next_refresh:
                    await self._refresh(connection)
                    next_refresh = self._clock.monotonic() + self._config().tools.ttl_seconds
                else:
                    await self._ping(connection)
            except UpstreamError as exc:
                self._stats.health_checks["failure"] += 1
                return str(exc)
            self._stats.health_checks["success"] += 1

    async def _ping(self, connection: Connection) -> None:
        """`ping`, or `tools/list` for servers that don't implement ping (the fallback is remembered)."""
        if self._ping_supported:
            try:
                await connection.request("ping", None, self._config().timeout_seconds)
            except UpstreamRpcError as exc:
                if exc.error.get("code") != METHOD_NOT_FOUND:
                    raise
                log.info("upstream %s does not answer ping; health checks use tools/list", self._name)
                self._ping_supported = False
            else:
                self._seen()
                return
        await self._refresh(connection)
