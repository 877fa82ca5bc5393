"""Protocol facts: qualified tool names and version negotiation."""

from __future__ import annotations

import re

import pytest

from mcpstead.protocol import (
    BATCH_VERSION,
    LATEST_VERSION,
    MAX_QUALIFIED_NAME,
    SUPPORTED_VERSIONS,
    negotiate_version,
    qualify,
    split_qualified,
)


def test_short_names_are_joined_unchanged() -> None:
    assert qualify("github", "search") == ("github__search", False)


def test_exactly_64_characters_is_unchanged() -> None:
    tool = "t" * (64 - len("srv__"))
    name, shortened = qualify("srv", tool)
    assert (name, shortened) == (f"srv__{tool}", False)
    assert len(name) == MAX_QUALIFIED_NAME == 64


def test_longer_names_become_exactly_64_characters() -> None:
    tool = "a_very_long_tool_name_" * 4
    full = f"srv__{tool}"
    name, shortened = qualify("srv", tool)
    assert shortened is True
    assert len(name) == 64
    assert name.startswith(full[:40])
    assert re.fullmatch(r".+_[0-9a-f]{8}", name)


def test_65_characters_is_shortened() -> None:
    name, shortened = qualify("srv", "t" * 60)
    assert shortened and len(name) == 64


def test_shortening_is_deterministic() -> None:
    tool = "x" * 100
    assert qualify("srv", tool) == qualify("srv", tool)


def test_long_names_sharing_a_prefix_stay_distinct() -> None:
    prefix = "shared_prefix_" * 6
    names = {qualify("srv", f"{prefix}{suffix}")[0] for suffix in ("alpha", "beta", "gamma", "alpha2")}
    assert len(names) == 4
    assert all(len(name) == 64 for name in names)


def test_long_names_on_different_upstreams_stay_distinct() -> None:
    tool = "y" * 80
    assert qualify("one", tool)[0] != qualify("two", tool)[0]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("github__search", ("github", "search")),
        ("alpha__a__b", ("alpha", "a__b")),
        ("alpha___b", ("alpha", "_b")),
        ("my-server__tool_name", ("my-server", "tool_name")),
        ("echo", None),
        ("", None),
        ("__tool", None),
        ("server__", None),
        ("server_tool", None),
    ],
)
def test_split_qualified_splits_on_the_first_separator(name: str, expected: tuple[str, str] | None) -> None:
    assert split_qualified(name) == expected


def test_qualify_then_split_round_trips_for_short_names() -> None:
    name, _ = qualify("srv", "do__thing")
    assert split_qualified(name) == ("srv", "do__thing")


def test_versions() -> None:
    assert SUPPORTED_VERSIONS == ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
    assert LATEST_VERSION == "2025-11-25"
    assert BATCH_VERSION == "2025-03-26"


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_supported_versions_are_echoed(version: str) -> None:
    assert negotiate_version(version) == version


@pytest.mark.parametrize("requested", ["1999-01-01", "2024-10-07", "2026-07-28", "", None, 20250618, ["2025-06-18"]])
def test_anything_else_gets_the_latest(requested: object) -> None:
    assert negotiate_version(requested) == "2025-11-25"
