"""JSON-RPC batches: only in a 2025-03-26 session."""

from __future__ import annotations

from typing import Any

import pytest

INVALID_REQUEST, METHOD_NOT_FOUND = -32600, -32601


async def test_batch_in_a_2025_03_26_session(h: Any) -> None:
    session = await h.initialize("2025-03-26")
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        5,
        {"jsonrpc": "1.0", "id": 3, "method": "ping"},
        {"jsonrpc": "2.0", "id": 4, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": "r", "result": {}},
        {"jsonrpc": "2.0", "id": 6, "method": "nope"},
    ]
    response = await h.post(batch, session=session)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    answers = response.json()
    assert isinstance(answers, list)
    assert answers == [
        {"jsonrpc": "2.0", "id": 1, "result": {}},
        {
            "jsonrpc": "2.0",
            "id": None,
            "error": {"code": INVALID_REQUEST, "message": "Invalid Request: request must be an object"},
        },
        {
            "jsonrpc": "2.0",
            "id": 3,
            "error": {"code": INVALID_REQUEST, "message": "Invalid Request: jsonrpc must be '2.0'"},
        },
        {"jsonrpc": "2.0", "id": 4, "result": {"tools": []}},
        {"jsonrpc": "2.0", "id": 6, "error": {"code": METHOD_NOT_FOUND, "message": "method 'nope' not found"}},
    ]


async def test_all_notification_batch_is_202(h: Any) -> None:
    session = await h.initialize("2025-03-26")
    batch = [
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}},
        {"jsonrpc": "2.0", "id": 1, "result": {}},
    ]
    response = await h.post(batch, session=session)
    assert response.status_code == 202
    assert response.content == b""


async def test_batch_over_sse_is_one_event_with_the_array(h: Any) -> None:
    session = await h.initialize("2025-03-26")
    batch = [{"jsonrpc": "2.0", "id": 1, "method": "ping"}, {"jsonrpc": "2.0", "id": 2, "method": "ping"}]
    response = await h.post(batch, session=session, accept="text/event-stream")
    assert response.status_code == 200
    assert response.text == (
        'event: message\ndata: [{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":2,"result":{}}]\n\n'
    )


@pytest.mark.parametrize("version", ["2025-06-18", "2025-11-25", "2024-11-05"])
async def test_batch_in_a_newer_session_is_400(h: Any, version: str) -> None:
    session = await h.initialize(version)
    response = await h.post([{"jsonrpc": "2.0", "id": 1, "method": "ping"}], session=session)
    message = h.http_error(response, 400, INVALID_REQUEST)
    assert message == (
        f"Invalid Request: batches are only allowed in protocol version 2025-03-26; this session uses {version}"
    )


async def test_empty_batch_is_400(h: Any) -> None:
    session = await h.initialize("2025-03-26")
    response = await h.post([], session=session)
    h.http_error(response, 400, INVALID_REQUEST, "Invalid Request: empty batch")


async def test_batch_with_initialize_is_400(h: Any) -> None:
    session = await h.initialize("2025-03-26")
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "id": 2, "method": "initialize", "params": {"protocolVersion": "2025-03-26"}},
    ]
    response = await h.post(batch, session=session)
    h.http_error(response, 400, INVALID_REQUEST, "Invalid Request: initialize must not be part of a batch")
    assert len(h.gateway.sessions) == 1


async def test_batch_with_initialize_and_no_session_is_400_and_opens_nothing(h: Any) -> None:
    response = await h.post([{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}])
    h.http_error(response, 400, INVALID_REQUEST, "Invalid Request: initialize must not be part of a batch")
    assert len(h.gateway.sessions) == 0


async def test_batch_needs_a_session(h: Any) -> None:
    response = await h.post([{"jsonrpc": "2.0", "id": 1, "method": "ping"}])
    h.http_error(response, 400, INVALID_REQUEST)
    unknown = await h.post([{"jsonrpc": "2.0", "id": 1, "method": "ping"}], session="gone")
    h.http_error(unknown, 404, -32001, "Session not found")
