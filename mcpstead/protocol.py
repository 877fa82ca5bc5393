"""MCP protocol facts the gateway relies on: versions, negotiation and qualified tool names."""

from __future__ import annotations

import hashlib

SUPPORTED_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
"""Legacy-era versions served downstream, newest first."""
LATEST_VERSION = SUPPORTED_VERSIONS[0]
DEFAULT_HEADERLESS_VERSION = "2025-03-26"
"""What the spec says to assume when a request carries no MCP-Protocol-Version header."""
BATCH_VERSION = "2025-03-26"
"""The only version whose POST bodies may be JSON-RPC batches."""

SEPARATOR = "__"
MAX_QUALIFIED_NAME = 64
"""Many clients and LLM APIs cap tool names at 64 characters; the conformance suite checks it too."""
_HASH_LENGTH = 8


def negotiate_version(requested: object) -> str:
    """The client's version when we speak it, else our latest (the client then decides to go on or not)."""
    if isinstance(requested, str) and requested in SUPPORTED_VERSIONS:
        return requested
    return LATEST_VERSION


def qualify(upstream: str, tool: str) -> tuple[str, bool]:
    """`<upstream>__<tool>`, shortened deterministically past 64 characters.

    Returns the name and whether it was shortened. A shortened name keeps a readable prefix and ends in a
    hash of the full name, so two long names never collide silently and the same tool always gets the same name.
    """
    full = f"{upstream}{SEPARATOR}{tool}"
    if len(full) <= MAX_QUALIFIED_NAME:
        return full, False
    digest = hashlib.sha256(full.encode()).hexdigest()[:_HASH_LENGTH]
    return f"{full[: MAX_QUALIFIED_NAME - _HASH_LENGTH - 1]}_{digest}", True


def split_qualified(name: str) -> tuple[str, str] | None:
    """Split on the first `__` (server names never contain it; tool names may)."""
    upstream, separator, tool = name.partition(SEPARATOR)
    if not separator or not upstream or not tool:
        return None
    return upstream, tool
