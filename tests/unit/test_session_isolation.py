"""Sessions are unguessable and apart: one cannot answer another's relayed request or take its stream."""

from __future__ import annotations

import re

from mcpstead.sessions import SessionStore


def store_with(count: int) -> SessionStore:
    store = SessionStore()
    for _ in range(count):
        store.create(protocol_version="2025-11-25", client_name="c", client_version="1", wall=0.0, monotonic=0.0)
    return store


def test_session_ids_carry_at_least_128_random_bits_in_visible_ascii() -> None:
    ids = [session.session_id for session in store_with(200)]
    assert len(set(ids)) == 200
    for session_id in ids:
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", session_id)  # 24 bytes of urlsafe base64: 192 bits
        assert all(0x21 <= ord(ch) <= 0x7E for ch in session_id)


async def test_a_session_cannot_answer_another_sessions_relayed_request() -> None:
    asking, other = store_with(2)
    request_id, answer = asking.expect_client_answer()
    assert not other.resolve_client_answer({"jsonrpc": "2.0", "id": request_id, "result": {"stolen": True}})
    assert not answer.done()
    assert asking.resolve_client_answer({"jsonrpc": "2.0", "id": request_id, "result": {}})
    assert answer.result() == {"jsonrpc": "2.0", "id": request_id, "result": {}}


def test_each_session_has_its_own_stream() -> None:
    first, second = store_with(2)
    outbox = first.open_stream()
    assert outbox is not None and second.stream is None
    assert second.notify({"jsonrpc": "2.0", "method": "x"}) is False  # nothing reaches the other's stream
    assert outbox.empty()
