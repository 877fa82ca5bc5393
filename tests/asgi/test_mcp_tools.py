"""tools/list and tools/call with no (or no ready) upstreams."""

from __future__ import annotations

from typing import Any

import pytest

INVALID_PARAMS = -32602


async def test_tools_list_without_upstreams_is_empty(h: Any) -> None:
    session = await h.initialize()
    answer = await h.rpc(session, "tools/list")
    assert answer["result"] == {"tools": []}
    answer = await h.rpc(session, "tools/list", {})
    assert answer["result"] == {"tools": []}


async def test_tools_list_with_an_invalid_cursor(h: Any) -> None:
    session = await h.initialize()
    answer = await h.rpc(session, "tools/list", {"cursor": "not-a-cursor"})
    h.rpc_error(answer, INVALID_PARAMS, "invalid cursor")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (None, "params.name is required"),
        ([], "params must be an object"),
        ({}, "params.name is required"),
        ({"name": 5}, "params.name is required"),
        ({"arguments": {}}, "params.name is required"),
        ({"name": "echo"}, "unknown tool 'echo': tool names are '<server>__<tool>'"),
        ({"name": "__echo"}, "unknown tool '__echo': tool names are '<server>__<tool>'"),
        ({"name": "nope__echo", "arguments": {}}, "unknown upstream 'nope' in tool name 'nope__echo'"),
    ],
)
async def test_tools_call_errors(h: Any, params: Any, message: str) -> None:
    session = await h.initialize()
    answer = await h.rpc(session, "tools/call", params)
    h.rpc_error(answer, INVALID_PARAMS, message)


async def test_failed_routing_records_no_call(h: Any) -> None:
    session = await h.initialize()
    await h.rpc(session, "tools/call", {"name": "nope__echo"})
    assert h.gateway.calls.newest_first() == ()
