"""State a client sets on upstream sessions: resource subscriptions and the log level.

A shared upstream session serves every client, so the gateway holds the union: an upstream subscription
stays while any session wants it (and is dropped upstream when the last one unsubscribes or ends), and the
upstream is asked for the most verbose level any session wants, the gateway filtering per session. A
per-client upstream session simply gets what its client asks. After an upstream reconnects, the shared
state is sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container, Iterable, Mapping
from typing import Any, Protocol

from mcpstead.errors import UpstreamError
from mcpstead.sessions import LOG_LEVELS, DownstreamSession

log = logging.getLogger("mcpstead.sync")


class SyncedUpstream(Protocol):
    name: str

    @property
    def shared(self) -> bool: ...

    @property
    def offers_logging(self) -> bool: ...

    sent_log_level: str | None

    @property
    def pool(self) -> Container[str]:
        """The downstream session ids that have a per-client upstream session here (open or opening)."""
        ...

    async def request(
        self, method: str, params: dict[str, Any] | None, *, session: DownstreamSession | None = None
    ) -> Any: ...


class UpstreamSync:
    def __init__(
        self,
        upstreams: Callable[[], Mapping[str, SyncedUpstream]],
        sessions: Callable[[], Iterable[DownstreamSession]],
    ) -> None:
        self._upstreams = upstreams
        self._sessions = sessions

    def _held(self, key: tuple[str, str], besides: DownstreamSession | None = None) -> bool:
        return any(key in session.subscriptions for session in self._sessions() if session is not besides)

    def _shared(self, upstream: str) -> bool:
        target = self._upstreams().get(upstream)
        return target is not None and target.shared

    def reaches_upstream(self, session: DownstreamSession | None, key: tuple[str, str]) -> bool:
        """Whether a session's subscribe or unsubscribe of `key` must be sent upstream: always for a
        per-client upstream session; for a shared one, only while no other session holds `key`."""
        return session is None or not self._shared(key[0]) or not self._held(key, besides=session)

    async def session_ended(self, session: DownstreamSession) -> None:
        """Drop upstream what only this session wanted (per-client upstream sessions close by themselves)."""
        upstreams = self._upstreams()
        for upstream, uri in sorted(session.subscriptions):
            target = upstreams.get(upstream)
            if target is not None and target.shared and not self._held((upstream, uri), besides=session):
                await self._quietly(target, "resources/unsubscribe", {"uri": uri})
        session.subscriptions.clear()
        if session.log_level is not None:
            session.log_level = None
            await self.apply_levels()

    async def set_level(self, session: DownstreamSession, level: str) -> None:
        session.log_level = level
        for target in self._upstreams().values():
            # Only to a per-client session already there: one opened later is given the level as it opens,
            # and a level alone must not open (and hold, against max_sessions) an upstream session.
            if target.offers_logging and not target.shared and session.session_id in target.pool:
                await self._quietly(target, "logging/setLevel", {"level": level}, session)
        await self.apply_levels()

    async def apply_levels(self) -> None:
        """Ask each shared upstream for the most verbose level any session wants (when that changed).

        A session that never set a level gets what the server sends, as it would directly, so once any
        session has set one, an unset session counts as wanting everything ("debug"). While no session has
        set a level, the upstream is left at its own default (or, if it was asked before, asked for everything).
        """
        levels = [s.log_level for s in self._sessions() if s.source == "client"]  # not the dashboard's
        chosen = any(level in LOG_LEVELS for level in levels)
        level = LOG_LEVELS[min((LOG_LEVELS.index(lv) if lv in LOG_LEVELS else 0 for lv in levels), default=0)]
        for target in self._upstreams().values():
            if not chosen and target.sent_log_level is None:
                continue  # never asked: it keeps its own default
            if target.shared and target.offers_logging and target.sent_log_level != level:
                target.sent_log_level = level
                await self._quietly(target, "logging/setLevel", {"level": level})

    def needs_levels(self) -> bool:
        """A new session (which has set no level) would change what some shared upstream must be asked."""
        return any(t.shared and t.sent_log_level not in (None, LOG_LEVELS[0]) for t in self._upstreams().values())

    async def replay(self, target: SyncedUpstream) -> None:
        """The upstream (re)connected: give its shared session the subscriptions and level it had."""
        if not target.shared:
            return
        target.sent_log_level = None
        uris = sorted({uri for s in self._sessions() for name, uri in s.subscriptions if name == target.name})
        for uri in uris:
            await self._quietly(target, "resources/subscribe", {"uri": uri})
        await self.apply_levels()

    async def _quietly(
        self, target: SyncedUpstream, method: str, params: dict[str, Any], session: DownstreamSession | None = None
    ) -> None:
        """Housekeeping requests no client waits on: a failure is logged, not raised."""
        try:
            await target.request(method, params, session=session)
        except UpstreamError as exc:
            log.warning("upstream %s: %s %s failed: %s", target.name, method, params, exc)
