"""The four merged lists, each paginated behind an opaque cursor of the gateway's own."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from mcpstead import jsonrpc
from mcpstead.context import RequestContext
from mcpstead.errors import RpcError

PAGE_SIZE = 1000


def page(items: tuple[dict[str, Any], ...], key: str, cursor: Any, size: int = PAGE_SIZE) -> dict[str, Any]:
    """One page of `items` under `key`, with `nextCursor` while more remain."""
    offset = 0 if cursor is None else decode_cursor(key, cursor)
    result: dict[str, Any] = {key: list(items[offset : offset + size])}
    if offset + size < len(items):
        result["nextCursor"] = encode_cursor(key, offset + size)
    return result


def encode_cursor(key: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{key}:{offset}".encode()).decode()


def decode_cursor(key: str, cursor: Any) -> int:
    try:
        kind, _, number = base64.urlsafe_b64decode(str(cursor).encode()).decode().partition(":")
        offset = int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise RpcError(jsonrpc.INVALID_PARAMS, "invalid cursor") from None
    if kind != key or offset < 0:
        raise RpcError(jsonrpc.INVALID_PARAMS, "invalid cursor")
    return offset


async def list_tools(ctx: RequestContext) -> Any:
    return page(ctx.gateway.catalog.tools, "tools", ctx.params.get("cursor"))


async def list_prompts(ctx: RequestContext) -> Any:
    return page(ctx.gateway.catalog.prompts, "prompts", ctx.params.get("cursor"))


async def list_resources(ctx: RequestContext) -> Any:
    return page(ctx.gateway.catalog.resources, "resources", ctx.params.get("cursor"))


async def list_resource_templates(ctx: RequestContext) -> Any:
    return page(ctx.gateway.catalog.templates, "resourceTemplates", ctx.params.get("cursor"))
