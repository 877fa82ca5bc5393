"""Property-based fuzzing of the config: any YAML tree over the schema's keys is either a config or a
ConfigError whose every line names the file and the place in it, and never shows a secret or raises anything
else."""

from __future__ import annotations

import os
import re
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpstead.config import GatewayConfig, ServerConfig
from mcpstead.config_load import parse_config
from mcpstead.errors import ConfigError

EXAMPLES = int(os.environ.get("MCPSTEAD_FUZZ_EXAMPLES", "200"))
PLACED = re.compile(r"fuzz\.yaml:[1-9][0-9]*:[1-9][0-9]*: \S")
"""The start of every problem line: the file, the line and the column (both from 1), then the problem."""
SECRET = "fuzz-secret-value-0000"
ENVIRON = {"MCPSTEAD_BEARER_TOKEN": SECRET, "TOKEN": SECRET}

scalar = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**12), max_value=10**12)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["", "none", "bearer", "auto", "sse", "stdio", "per_client", "all", "http://127.0.0.1:1/mcp"])
    | st.text(max_size=20)
)
nested_keys = st.sampled_from(
    [*ServerConfig.model_fields, "type", "token_env", "include", "exclude", "ttl_seconds", "mode", "token", "x"]
)
value = st.recursive(
    scalar, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(nested_keys, inner, max_size=4), max_leaves=12
)
server = st.dictionaries(st.sampled_from([*ServerConfig.model_fields, "urll", "tokn"]), value, max_size=8)
top = st.fixed_dictionaries(
    {},
    optional={
        **{key: value for key in GatewayConfig.model_fields},
        "servers": st.lists(server, max_size=3) | value,
        "hots": value,
    },
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(tree=top)
def test_any_config_tree_is_a_config_or_a_clear_error(tree: dict[str, Any]) -> None:
    try:
        text = yaml.safe_dump(tree)
    except yaml.YAMLError:
        return
    try:
        parse_config(text, "fuzz.yaml", ENVIRON)
    except ConfigError as exc:
        assert exc.problems
        for line in exc.problems:
            assert PLACED.match(line), line
            assert SECRET not in line


@settings(max_examples=EXAMPLES, deadline=None)
@given(text=st.text(max_size=300))
def test_any_text_is_a_config_or_a_clear_error(text: str) -> None:
    try:
        parse_config(text, "fuzz.yaml", ENVIRON)
    except ConfigError as exc:
        for line in exc.problems:
            assert PLACED.match(line), line
