"""In-memory stores: the event bus, the session store and the call log."""

from __future__ import annotations

from mcpstead.calls import CallLog
from mcpstead.sessions import ModernClients, SessionStore

# -- SessionStore ------------------------------------------------------------------------------------------


def make(store: SessionStore, monotonic: float, name: str = "client") -> str:
    session = store.create(
        protocol_version="2025-06-18", client_name=name, client_version="1", wall=1000.0, monotonic=monotonic
    )
    return session.session_id


def test_sessions_are_unique_visible_ascii() -> None:
    store = SessionStore()
    ids = {make(store, 0.0) for _ in range(50)}
    assert len(ids) == 50 == len(store)
    for session_id in ids:
        assert session_id and all(0x21 <= ord(c) <= 0x7E for c in session_id)


def test_get_and_remove() -> None:
    store = SessionStore()
    sid = make(store, 1.0, "claude")
    session = store.get(sid)
    assert session is not None and session.client_name == "claude"
    assert store.remove(sid) is session
    assert store.remove(sid) is None
    assert store.get(sid) is None
    assert len(store) == 0


def test_idle_since_is_strictly_older() -> None:
    store = SessionStore()
    old, new = make(store, 10.0), make(store, 20.0)
    assert [s.session_id for s in store.idle_since(20.0)] == [old]
    assert store.idle_since(10.0) == []
    assert {s.session_id for s in store.idle_since(20.5)} == {old, new}


def test_iteration_is_a_snapshot() -> None:
    store = SessionStore()
    for i in range(3):
        make(store, float(i))
    for session in store:
        store.remove(session.session_id)
    assert len(store) == 0


def test_view_maps_monotonic_activity_to_wall_time() -> None:
    store = SessionStore()
    session = store.get(make(store, 100.0))
    assert session is not None
    session.last_activity = 130.0
    view = session.view(wall_now=5000.0, monotonic_now=150.0)
    assert view.last_activity == 4980.0
    assert view.created_at == 1000.0
    assert view.protocol_version == "2025-06-18"


# -- CallLog -----------------------------------------------------------------------------------------------


def record(log: CallLog, tool: str) -> None:
    log.record(
        started_at=0.0,
        session_id=None,
        client="c",
        source="client",
        tool=tool,
        upstream="s",
        arguments={},
        outcome="ok",
        result=None,
        error=None,
        total_ms=1.0,
        upstream_ms=None,
    )


def test_call_log_is_a_bounded_ring_newest_first() -> None:
    log = CallLog(maxlen=3)
    assert log.newest_first() == ()
    for i in range(5):
        record(log, f"s__t{i}")
    calls = log.newest_first()
    assert [c.tool for c in calls] == ["s__t4", "s__t3", "s__t2"]
    assert [c.seq for c in calls] == [5, 4, 3]


def test_call_log_default_bound() -> None:
    log = CallLog()
    for i in range(510):
        record(log, str(i))
    assert len(log.newest_first()) == 500
    assert log.newest_first()[0].tool == "509"


def test_modern_clients_are_remembered_by_client_info_and_bounded() -> None:
    clients = ModernClients(kept=2)
    first, new = clients.seen("a", "1", "2026-07-28", wall=100.0, monotonic=10.0)
    assert new
    assert clients.seen("a", "1", "2026-07-28", wall=101.0, monotonic=11.0) == (first, False)
    clients.seen("b", "1", "2026-07-28", wall=102.0, monotonic=12.0)
    clients.seen("a", "1", "2026-07-28", wall=103.0, monotonic=13.0)  # heard from again: the newest
    assert clients.seen("c", "", "2026-07-28", wall=104.0, monotonic=14.0)[1]  # new, so "b" is the one to go
    views = clients.views(wall_now=110.0, monotonic_now=20.0)
    assert [(v.session_id, v.era, v.created_at, v.last_activity) for v in views] == [
        ("2026:a/1", "modern", 100.0, 103.0),
        ("2026:c/", "modern", 104.0, 104.0),
    ]
