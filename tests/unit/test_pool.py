"""ClientSessionPool (mcpstead/upstream/pool.py): one upstream session per downstream session, opened once,
bounded by max_sessions, and never left open behind a session that ended."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mcpstead.errors import UpstreamError
from mcpstead.relay import UpstreamInbound
from mcpstead.sessions import DownstreamSession, SessionStore
from mcpstead.upstream.pool import ClientSessionPool
from tests.fakes import RecordingHooks

WAIT = 2.0


class Link:
    """Just enough of a Connection for the pool: closed, close_reason, close()."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.closed = asyncio.Event()
        self.close_reason: str | None = None
        self.close_calls = 0

    async def close(self) -> None:
        self.close_calls += 1
        self.closed.set()


class Opener:
    """Opens Links; while `gate` is clear every open waits on it (a slow initialize)."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.gate.set()
        self.opened: list[Link] = []
        self.started = asyncio.Event()
        self.failures: list[Exception] = []

    async def __call__(self, inbound: UpstreamInbound, session: DownstreamSession) -> Any:
        assert inbound.owner is session
        link = Link(session.session_id)
        self.opened.append(link)
        self.started.set()
        await self.gate.wait()
        if self.failures:
            raise self.failures.pop(0)
        return link


def sessions(count: int) -> list[DownstreamSession]:
    store = SessionStore()
    return [
        store.create(protocol_version="2025-11-25", client_name=f"c{n}", client_version="1", wall=0.0, monotonic=0.0)
        for n in range(count)
    ]


def pool(opener: Opener, max_sessions: int = 4) -> ClientSessionPool:
    return ClientSessionPool("up", RecordingHooks(), opener, max_sessions)


async def test_one_open_per_session_shared_by_concurrent_first_requests() -> None:
    opener = Opener()
    opener.gate.clear()
    clients = pool(opener)
    (one,) = sessions(1)
    first = asyncio.create_task(clients.get(one))
    second = asyncio.create_task(clients.get(one))
    await asyncio.wait_for(opener.started.wait(), WAIT)
    opener.gate.set()
    a, b = await asyncio.wait_for(asyncio.gather(first, second), WAIT)
    assert a is b
    assert len(opener.opened) == 1
    assert (await clients.get(one)) is a
    assert len(clients) == 1 and one.session_id in clients


async def test_a_closed_upstream_session_is_opened_again() -> None:
    opener = Opener()
    clients = pool(opener)
    (one,) = sessions(1)
    first = await clients.get(one)
    first.connection.closed.set()
    second = await clients.get(one)
    assert second is not first and len(opener.opened) == 2


async def test_max_sessions_is_an_error_naming_the_limit_and_a_release_frees_a_slot() -> None:
    opener = Opener()
    clients = pool(opener, max_sessions=1)
    one, two = sessions(2)
    await clients.get(one)
    with pytest.raises(UpstreamError) as refused:
        await clients.get(two)
    assert refused.value.reason == "upstream_session_limit"
    assert "1 per-client sessions open (max_sessions)" in str(refused.value)
    await clients.release(one.session_id)
    assert opener.opened[0].close_calls == 1
    await clients.get(two)
    assert len(clients) == 1


async def test_a_failed_open_is_not_kept() -> None:
    opener = Opener()
    opener.failures.append(UpstreamError("up", "upstream 'up' refused"))
    clients = pool(opener)
    (one,) = sessions(1)
    with pytest.raises(UpstreamError, match="refused"):
        await clients.get(one)
    assert len(clients) == 0
    assert (await clients.get(one)).connection is opener.opened[1]  # type: ignore[comparison-overlap]


@pytest.mark.parametrize("how", ["release", "close_all"])
async def test_an_upstream_session_that_finishes_opening_after_its_release_is_closed(how: str) -> None:
    """The downstream session ended (or the upstream went down) during the open: that connection must not leak."""
    opener = Opener()
    opener.gate.clear()
    clients = pool(opener)
    (one,) = sessions(1)
    opening = asyncio.create_task(clients.get(one))
    await asyncio.wait_for(opener.started.wait(), WAIT)
    if how == "release":
        await clients.release(one.session_id)
    else:
        await clients.close_all()
    opener.gate.set()
    with pytest.raises(UpstreamError, match="closed while it was opening"):
        await asyncio.wait_for(opening, WAIT)
    (link,) = opener.opened
    assert link.close_calls == 1
    assert len(clients) == 0


async def test_a_session_that_has_ended_gets_no_new_upstream_session() -> None:
    opener = Opener()
    clients = pool(opener)
    (one,) = sessions(1)
    one.end()
    with pytest.raises(UpstreamError, match="session has ended"):
        await clients.get(one)
    assert opener.opened == [] and len(clients) == 0
