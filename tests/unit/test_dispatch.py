"""tools/list paging: the opaque cursor and its pages."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from mcpstead import jsonrpc
from mcpstead.dispatch import decode_cursor, encode_cursor, initialize_result, list_tools
from mcpstead.errors import RpcError


class FakeGateway:
    def __init__(self, count: int) -> None:
        self.tools = tuple({"name": f"s__t{i}", "inputSchema": {"type": "object"}} for i in range(count))

    def tool_definitions(self) -> tuple[dict[str, Any], ...]:
        return self.tools


@pytest.mark.parametrize("offset", [0, 1, 1000, 123456])
def test_cursor_round_trips(offset: int) -> None:
    cursor = encode_cursor(offset)
    assert isinstance(cursor, str) and cursor.isascii()
    assert decode_cursor(cursor) == offset


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    ["!!!", "abc", "", 5, None, b64("tools:x"), b64("tools:-1"), b64("prompts:10"), b64("tools"), b64("10")],
)
def test_invalid_cursor_is_invalid_params(cursor: Any) -> None:
    with pytest.raises(RpcError) as caught:
        decode_cursor(cursor)
    assert caught.value.code == jsonrpc.INVALID_PARAMS == -32602
    assert caught.value.message == "invalid cursor"


def test_pages() -> None:
    gateway: Any = FakeGateway(5)
    first = list_tools(gateway, {}, 2)
    assert [t["name"] for t in first["tools"]] == ["s__t0", "s__t1"]
    second = list_tools(gateway, {"cursor": first["nextCursor"]}, 2)
    assert [t["name"] for t in second["tools"]] == ["s__t2", "s__t3"]
    last = list_tools(gateway, {"cursor": second["nextCursor"]}, 2)
    assert [t["name"] for t in last["tools"]] == ["s__t4"]
    assert "nextCursor" not in last


def test_exact_page_has_no_next_cursor() -> None:
    gateway: Any = FakeGateway(4)
    assert "nextCursor" not in list_tools(gateway, None, 4)
    assert list_tools(gateway, [], 4)["tools"] == list(gateway.tools)


def test_cursor_past_the_end_is_an_empty_page() -> None:
    gateway: Any = FakeGateway(3)
    assert list_tools(gateway, {"cursor": encode_cursor(50)}, 2) == {"tools": []}


def test_bad_cursor_through_list_tools() -> None:
    with pytest.raises(RpcError):
        list_tools(FakeGateway(3), {"cursor": "nope"}, 2)  # type: ignore[arg-type]


def test_initialize_result() -> None:
    result = initialize_result("2025-06-18")
    assert result["protocolVersion"] == "2025-06-18"
    assert result["capabilities"] == {"tools": {"listChanged": True}}
    assert result["serverInfo"]["name"] == "mcpstead"
    assert isinstance(result["instructions"], str)
