"""Merged-list paging: the opaque cursor of each kind and its pages."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from mcpstead import jsonrpc
from mcpstead.errors import RpcError
from mcpstead.handlers.lists import decode_cursor, encode_cursor, page

ITEMS = tuple({"name": f"s__t{i}", "inputSchema": {"type": "object"}} for i in range(5))


@pytest.mark.parametrize("kind", ["tools", "prompts", "resources", "resourceTemplates"])
@pytest.mark.parametrize("offset", [0, 1, 1000, 123456])
def test_cursor_round_trips(kind: str, offset: int) -> None:
    cursor = encode_cursor(kind, offset)
    assert isinstance(cursor, str) and cursor.isascii()
    assert decode_cursor(kind, cursor) == offset


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    ["!!!", "abc", "", 5, None, b64("tools:x"), b64("tools:-1"), b64("prompts:10"), b64("tools"), b64("10")],
)
def test_invalid_cursor_is_invalid_params(cursor: Any) -> None:
    with pytest.raises(RpcError) as caught:
        decode_cursor("tools", cursor)
    assert caught.value.code == jsonrpc.INVALID_PARAMS == -32602
    assert caught.value.message == "invalid cursor"


def test_a_cursor_of_one_kind_is_refused_by_another() -> None:
    with pytest.raises(RpcError):
        decode_cursor("resources", encode_cursor("prompts", 2))


def test_pages() -> None:
    first = page(ITEMS, "tools", None, 2)
    assert [t["name"] for t in first["tools"]] == ["s__t0", "s__t1"]
    second = page(ITEMS, "tools", first["nextCursor"], 2)
    assert [t["name"] for t in second["tools"]] == ["s__t2", "s__t3"]
    last = page(ITEMS, "tools", second["nextCursor"], 2)
    assert [t["name"] for t in last["tools"]] == ["s__t4"]
    assert "nextCursor" not in last


def test_exact_page_has_no_next_cursor() -> None:
    assert "nextCursor" not in page(ITEMS[:4], "prompts", None, 4)
    assert page(ITEMS[:4], "prompts", None, 4)["prompts"] == list(ITEMS[:4])


def test_cursor_past_the_end_is_an_empty_page() -> None:
    assert page(ITEMS[:3], "tools", encode_cursor("tools", 50), 2) == {"tools": []}
