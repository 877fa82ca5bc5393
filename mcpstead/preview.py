"""Bounded previews of arguments and results, for what the gateway keeps after a call (the call records).

The client always gets the whole answer; what stays in memory for the dashboard must not. A 200 MB result
kept for each of the last 500 calls would hold the process's memory (and stall the loop copying it), so
values past a size budget are kept as a trimmed copy: long strings cut with a note of their length, long
lists cut with a note of how many items were left out. The trim does bounded work, whatever the size.
"""

from __future__ import annotations

from typing import Any

PREVIEW_BUDGET = 64 * 1024
"""Roughly how many characters of a value are kept."""
STRING_KEEP = 2048
LIST_KEEP = 50
MAX_DEPTH = 32


def _fits(value: Any, budget: int) -> bool:
    """Whether `value` is small (about `budget` characters at most); stops as soon as it is not."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            budget -= len(item)
        elif isinstance(item, dict):
            budget -= 4 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            budget -= len(item)
            stack.extend(item)
        else:
            budget -= 8
        if budget < 0 or len(stack) > budget:
            return False
    return True


def _trim(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        if len(value) <= STRING_KEEP:
            return value
        return f"{value[:STRING_KEEP]}… [mcpstead kept {STRING_KEEP} of {len(value):,} characters]"
    if depth >= MAX_DEPTH:
        return "… [mcpstead: nested too deeply to keep]"
    if isinstance(value, list):
        kept = [_trim(item, depth + 1) for item in value[:LIST_KEEP]]
        if len(value) > LIST_KEEP:
            kept.append(f"… [mcpstead kept {LIST_KEEP} of {len(value):,} items]")
        return kept
    if isinstance(value, dict):
        items = list(value.items())
        kept_dict = {str(key): _trim(item, depth + 1) for key, item in items[:LIST_KEEP]}
        if len(items) > LIST_KEEP:
            kept_dict["mcpstead.cut"] = f"kept {LIST_KEEP} of {len(items):,} keys"
        return kept_dict
    return value


def bounded(value: Any, budget: int = PREVIEW_BUDGET) -> Any:
    """`value` itself when it is small (the usual case: one cheap walk), else a trimmed copy."""
    return value if _fits(value, budget) else _trim(value, 0)
