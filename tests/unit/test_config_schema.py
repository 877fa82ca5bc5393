"""The config's JSON Schema (`mcpstead schema`, docs/config.schema.json): it matches the config models key for
key, describes every key, and says yes and no where the loader does."""

from __future__ import annotations

import json
import types
import typing
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from mcpstead.cli import main
from mcpstead.config import BEARER_TOKEN_ENV, GatewayConfig
from mcpstead.config_load import parse_config
from mcpstead.config_schema import config_schema, config_schema_text
from mcpstead.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "docs" / "config.schema.json"
SAMPLES = sorted((ROOT / "sample_configs").glob("*.yaml"))
MODELINE = "# yaml-language-server: $schema=../docs/config.schema.json"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return config_schema()


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(schema)


def test_the_committed_schema_file_is_what_mcpstead_schema_prints(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    printed = capsys.readouterr().out
    assert printed == config_schema_text()
    assert SCHEMA_FILE.read_text(encoding="utf-8") == printed, "run: mcpstead schema > docs/config.schema.json"


def test_the_schema_is_a_valid_draft_7_schema_with_a_title(schema: dict[str, Any]) -> None:
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["title"] == "mcpstead config"
    assert schema["description"]


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_every_sample_config_is_valid_and_names_the_schema(path: Path, validator: jsonschema.Draft7Validator) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == MODELINE
    assert list(validator.iter_errors(yaml.safe_load(text))) == []


# -- yes and no, as the loader says them -----------------------------------------------------------------

VERDICTS = [
    pytest.param("hots: 1\n", False, id="unknown-key"),
    pytest.param("port: '8766'\n", False, id="wrong-type"),
    pytest.param("port: 70000\n", False, id="out-of-range"),
    pytest.param("servers:\n  - {name: a, urll: http://x/mcp}\n", False, id="unknown-server-key"),
    pytest.param("servers:\n  - {name: a}\n", False, id="neither-url-nor-command"),
    pytest.param("servers:\n  - {name: a, url: http://x/mcp, command: tool}\n", False, id="both-url-and-command"),
    pytest.param("servers:\n  - {name: a, url: http://x/mcp, args: [x]}\n", False, id="stdio-key-on-url"),
    pytest.param("servers:\n  - {name: a, command: tool, headers: {A: b}}\n", False, id="http-key-on-command"),
    pytest.param("servers:\n  - {name: a, command: tool, protocol: sse}\n", False, id="sse-on-command"),
    pytest.param("servers:\n  - {name: a, url: http://x/mcp, protocol: stdio}\n", False, id="stdio-on-url"),
    pytest.param("servers:\n  - {name: a__b, url: http://x/mcp}\n", False, id="bad-name"),
    pytest.param("servers:\n  - {name: a, url: http://x/mcp, auth: bearer}\n", False, id="auth-word-not-none"),
    pytest.param("servers:\n  - {name: a, command: tool, inherit_env: some}\n", False, id="inherit-env-word"),
    pytest.param("servers:\n  - {name: a, command: tool, inherit_env: ['']}\n", False, id="inherit-env-empty-name"),
    pytest.param("logging: {level: loud}\n", False, id="unknown-level"),
    pytest.param("mcp: {auth: {bearer_token: x}}\n", False, id="token-in-file"),
    pytest.param("", True, id="empty"),
    pytest.param("servers:\n  - {name: a, url: http://x/mcp, auth: none}\n", True, id="auth-none-shorthand"),
    pytest.param("servers:\n  - {name: a, url: http://x/mcp, auth: null}\n", True, id="auth-null"),
    pytest.param(
        "servers:\n  - {name: a, url: http://x/mcp, auth: {type: bearer, token_env: T}}\n", True, id="auth-bearer"
    ),
    pytest.param("servers:\n  - {name: a, command: tool, inherit_env: all}\n", True, id="inherit-env-all"),
    pytest.param("servers:\n  - {name: a, command: tool, inherit_env: [GOPATH]}\n", True, id="inherit-env-list"),
    pytest.param("servers:\n  - {name: a, command: tool, protocol: stdio, env: {}}\n", True, id="stdio"),
    pytest.param("logging: {level: DEBUG}\n", True, id="level-any-case"),
    pytest.param("logging: {level: Warning}\n", True, id="level-mixed-case"),
    pytest.param("mcp: {session: {shutdown_grace_seconds: 2}}\n", True, id="integer-for-a-number"),
    pytest.param("dashboard: {roots: [~/src]}\n", True, id="tuple-as-a-list"),
]


@pytest.mark.parametrize(("text", "valid"), VERDICTS)
def test_the_schema_says_yes_and_no_where_the_loader_does(
    text: str, valid: bool, validator: jsonschema.Draft7Validator
) -> None:
    try:
        parse_config(text, "gw.yaml", {BEARER_TOKEN_ENV: "x" * 32, "T": "token"})
        loader_valid = True
    except ConfigError:
        loader_valid = False
    schema_valid = validator.is_valid(yaml.safe_load(text) or {})
    assert (loader_valid, schema_valid) == (valid, valid)


# -- the schema and the models, key for key --------------------------------------------------------------


def models_in(annotation: Any) -> list[type[BaseModel]]:
    """The config models an annotation holds (`tuple[ServerConfig, ...]`, `UpstreamAuthConfig | None`)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        return [model for argument in typing.get_args(annotation) for model in models_in(argument)]
    return []


def refs_in(schema: Any) -> list[str]:
    """The definitions a property's schema points at, wherever in it (allOf, anyOf, items)."""
    if isinstance(schema, list):
        return [ref for item in schema for ref in refs_in(item)]
    if not isinstance(schema, dict):
        return []
    own = [schema["$ref"].rsplit("/", 1)[-1]] if "$ref" in schema else []
    return own + [ref for key, value in schema.items() if key != "default" for ref in refs_in(value)]


def walk(model: type[BaseModel], schema: dict[str, Any], root: dict[str, Any], seen: set[str]) -> list[str]:
    """Every model reachable from `model`, checked against its schema: the same keys, the same required
    ones, a description for each, and each default as the model has it. Returns the models visited."""
    where = model.__name__
    properties = schema["properties"]
    assert list(properties) == list(model.model_fields), where
    required = [name for name, field in model.model_fields.items() if field.is_required()]
    assert schema.get("required", []) == required, where
    assert schema["additionalProperties"] is False, where
    visited = [where]
    for name, field in model.model_fields.items():
        prop = properties[name]
        assert prop.get("description"), f"{where}.{name} has no description"
        if not field.is_required():
            default = to_jsonable_python(field.get_default(call_default_factory=True))
            assert "default" in prop, f"{where}.{name} has no default"
            assert prop["default"] == default, f"{where}.{name}"
        nested = models_in(field.annotation)
        assert refs_in(prop) == [nested_model.__name__ for nested_model in nested], f"{where}.{name}"
        for nested_model in nested:
            if nested_model.__name__ not in seen:
                seen.add(nested_model.__name__)
                definition = root["definitions"][nested_model.__name__]
                visited += walk(nested_model, definition, root, seen)
    return visited


def test_the_schema_has_the_models_keys_descriptions_and_defaults_at_every_level(schema: dict[str, Any]) -> None:
    visited = walk(GatewayConfig, schema, schema, set())
    assert sorted(set(visited) - {"GatewayConfig"}) == sorted(schema["definitions"]), "a definition no model uses"
    assert {"ServerConfig", "UpstreamAuthConfig", "ToolsConfig", "CaptureConfig", "LimitsConfig"} <= set(visited)


def test_descriptions_read_as_one_line_and_no_ref_has_siblings(schema: dict[str, Any]) -> None:
    """Draft 7 ignores what sits beside a `$ref`, so descriptions and defaults must sit around it instead."""
    json.loads(json.dumps(schema), object_hook=_checked)


def _checked(node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        assert list(node) == ["$ref"], node
    description = node.get("description")
    if isinstance(description, str):
        assert "\n" not in description and "  " not in description, description
    return node
