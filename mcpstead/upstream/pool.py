"""Per-client upstream sessions (`session: per_client`): one upstream session per downstream session.

Stateful servers (browser automation, a REPL) keep state per session, and a client's capabilities, log
level and roots are its own; so each downstream session gets its own upstream session, opened at its first
request with that client's capabilities and closed when the downstream session ends. At most
`max_sessions` are open per upstream; one more is a clear error, never a silent share.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from mcpstead.errors import UpstreamError
from mcpstead.relay import InboundHooks, UpstreamInbound
from mcpstead.sessions import DownstreamSession
from mcpstead.state import short_session_id
from mcpstead.upstream.base import Connection

log = logging.getLogger("mcpstead.upstream")
Opener = Callable[[UpstreamInbound, DownstreamSession], Awaitable[Connection]]
"""Builds, opens and initializes a connection for one client (the supervisor knows how)."""


@dataclass(slots=True)
class ClientSession:
    connection: Connection
    inbound: UpstreamInbound


class ClientSessionPool:
    def __init__(self, upstream: str, hooks: InboundHooks, opener: Opener, max_sessions: int) -> None:
        self.upstream = upstream
        self._hooks = hooks
        self._opener = opener
        self.max_sessions = max_sessions
        self._sessions: dict[str, asyncio.Future[ClientSession]] = {}

    def __len__(self) -> int:
        return len(self._sessions)

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._sessions

    def calls_in_flight(self) -> int:
        """Requests sent on the clients' upstream sessions and not answered yet (for /metrics)."""
        return sum(
            len(future.result().inbound.calls)
            for future in self._sessions.values()
            if future.done() and not future.cancelled() and future.exception() is None
        )

    async def get(self, session: DownstreamSession) -> ClientSession:
        """The client's upstream session, opened on first use (concurrent first requests share one open)."""
        pending = self._sessions.get(session.session_id)
        if pending is not None:
            entry = await asyncio.shield(pending)
            if not entry.connection.closed.is_set():
                return entry
            await self.release(session.session_id)
        if session.closed:  # a request still on its way when the session ended: nothing would release this one
            raise UpstreamError(
                self.upstream,
                f"upstream '{self.upstream}': the client's session has ended",
                reason="upstream_disconnected",
            )
        if len(self._sessions) >= self.max_sessions:
            raise UpstreamError(
                self.upstream,
                f"upstream '{self.upstream}' already has {self.max_sessions} per-client sessions open "
                "(max_sessions); end an idle client session or raise the limit",
                reason="upstream_session_limit",
            )
        future: asyncio.Future[ClientSession] = asyncio.get_running_loop().create_future()
        self._sessions[session.session_id] = future
        inbound = UpstreamInbound(self.upstream, self._hooks, owner=session)
        try:
            connection = await self._opener(inbound, session)
        except BaseException as exc:
            if self._sessions.get(session.session_id) is future:
                del self._sessions[session.session_id]
            future.set_exception(exc if isinstance(exc, Exception) else UpstreamError(self.upstream, "cancelled"))
            future.exception()  # retrieved: nobody else may be waiting
            raise
        entry = ClientSession(connection, inbound)
        future.set_result(entry)
        if self._sessions.get(session.session_id) is not future:  # released (or all closed) while it opened:
            # nothing else will ever close this connection
            with contextlib.suppress(Exception):
                await connection.close()
            raise UpstreamError(
                self.upstream,
                f"upstream '{self.upstream}': the per-client session was closed while it was opening",
                reason="upstream_disconnected",
            )
        log.debug("upstream %s: per-client session opened for %s", self.upstream, short_session_id(session.session_id))
        return entry

    async def release(self, session_id: str) -> None:
        """Close the upstream session of a downstream session that ended."""
        future = self._sessions.pop(session_id, None)
        if future is None or not future.done() or future.cancelled() or future.exception() is not None:
            return
        with contextlib.suppress(Exception):
            await future.result().connection.close()

    async def close_all(self) -> None:
        for session_id in list(self._sessions):
            await self.release(session_id)
