"""Hypothesis strategies the fuzz tests share."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


def json_values(*, text: int, width: int) -> st.SearchStrategy[Any]:
    """Any JSON value a client or server could send: strings up to `text` characters, arrays and objects up
    to `width` members (huge numbers included, never NaN or Infinity)."""
    leaf = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(10**40), max_value=10**40)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=text)
    )
    return st.recursive(
        leaf,
        lambda inner: st.lists(inner, max_size=width) | st.dictionaries(st.text(max_size=10), inner, max_size=width),
    )
