"""Call records keep bounded previews: small values as they are, big ones trimmed with bounded work."""

from __future__ import annotations

import json

from mcpstead.calls import CallLog
from mcpstead.preview import LIST_KEEP, STRING_KEEP, bounded


def test_small_values_are_kept_as_they_are() -> None:
    value = {"content": [{"type": "text", "text": "hello"}], "structuredContent": {"n": 1}, "isError": False}
    assert bounded(value) is value


def test_a_huge_string_is_cut_with_a_note_of_its_length() -> None:
    value = {"content": [{"type": "image", "data": "A" * 5_000_000, "mimeType": "image/png"}]}
    kept = bounded(value)
    data = kept["content"][0]["data"]
    assert data.startswith("A" * STRING_KEEP) and data.endswith("[mcpstead kept 2048 of 5,000,000 characters]")
    assert kept["content"][0]["mimeType"] == "image/png"
    assert len(json.dumps(kept)) < 10_000


def test_long_lists_and_wide_objects_are_cut_with_a_count() -> None:
    kept = bounded({"items": list(range(100_000)), "wide": {f"k{i}": i for i in range(100_000)}})
    assert kept["items"][:LIST_KEEP] == list(range(LIST_KEEP))
    assert kept["items"][-1] == "… [mcpstead kept 50 of 100,000 items]"
    assert kept["wide"]["mcpstead.cut"] == "kept 50 of 100,000 keys"


def test_deep_nesting_is_cut() -> None:
    value: object = "leaf" * 20_000
    for _ in range(100):
        value = [value]
    kept = bounded(value)
    depth = 0
    while isinstance(kept, list):
        kept, depth = kept[0], depth + 1
    assert depth == 32 and "nested too deeply" in str(kept)


def test_the_call_log_keeps_previews_not_the_whole_answer() -> None:
    log = CallLog()
    call = log.record(
        started_at=0.0,
        session_id=None,
        client="c",
        source="client",
        tool="t",
        upstream="u",
        arguments={"blob": "x" * 1_000_000},
        outcome="ok",
        result={"content": [{"type": "text", "text": "y" * 1_000_000}]},
        error=None,
        total_ms=1.0,
        upstream_ms=1.0,
    )
    assert len(call.arguments["blob"]) < STRING_KEEP + 100
    assert len(call.result["content"][0]["text"]) < STRING_KEEP + 100
