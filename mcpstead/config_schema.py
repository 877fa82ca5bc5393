"""The config file's JSON Schema, generated from the models in `config.py`, so editors complete and check keys
as they are typed (`mcpstead schema`, and `docs/config.schema.json` for the sample configs' modeline).

It is Draft 7, the newest draft the YAML language server (VS Code's YAML extension, and most editors' YAML
support) implements. Every key carries its docstring as the description, and its default.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import json
import textwrap
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from mcpstead import config
from mcpstead.config import GatewayConfig

DIALECT = "http://json-schema.org/draft-07/schema#"
TITLE = "mcpstead config"
_DEFINITIONS = "definitions"


class _ConfigSchemaGenerator(GenerateJsonSchema):
    """pydantic's generator, except that a default made by a factory (`env: {}`) is shown like any other,
    and fields get no title (it would only repeat the key)."""

    def get_default_value(self, schema: core_schema.WithDefaultSchema) -> Any:
        factory = schema.get("default_factory")
        if factory is not None and not schema.get("default_factory_takes_data"):
            return factory()  # type: ignore[call-arg]
        return super().get_default_value(schema)

    def field_title_should_be_set(self, schema: CoreSchema | core_schema.ModelField) -> bool:
        return False


def config_schema() -> dict[str, Any]:
    """The schema as a JSON document."""
    generated = GatewayConfig.model_json_schema(
        ref_template=f"#/{_DEFINITIONS}/{{model}}", schema_generator=_ConfigSchemaGenerator
    )
    definitions = generated.pop("$defs", {})
    for name, definition in [(GatewayConfig.__name__, generated), *definitions.items()]:
        _describe_properties(definition, _MODELS.get(name))
    generated.pop("title", None)
    document = {
        "$schema": DIALECT,
        "title": TITLE,
        "description": generated.pop("description"),
        **generated,
        _DEFINITIONS: definitions,
    }
    tidied = _tidy(document)
    assert isinstance(tidied, dict)
    return tidied


_MODELS = {
    name: model
    for name, model in vars(config).items()
    if isinstance(model, type) and issubclass(model, BaseModel) and model.__module__ == config.__name__
}


def _attribute_docstrings(model: type[BaseModel]) -> dict[str, str]:
    """Each field's docstring (the string right after its annotated assignment), from the class's source."""
    docs: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)) or cls.__module__ != config.__name__:
            continue
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, after in itertools.pairwise(body):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                docs[node.target.id] = inspect.cleandoc(after.value.value)
    return docs


def _describe_properties(definition: JsonSchemaValue, model: type[BaseModel] | None) -> None:
    """Give each property of a model's schema its field's docstring (keys kept sorted, as pydantic sorts)."""
    if model is None:
        return
    docs = _attribute_docstrings(model)
    properties = definition.get("properties", {})
    for field_name, field in model.model_fields.items():
        key = field.alias or field_name
        doc = docs.get(field_name)
        if doc is not None and key in properties and "description" not in properties[key]:
            properties[key] = dict(sorted({**properties[key], "description": doc}.items()))


def config_schema_text() -> str:
    """What `mcpstead schema` prints, and what `docs/config.schema.json` holds."""
    return json.dumps(config_schema(), indent=2) + "\n"


_SUBSCHEMA_MAPS = frozenset({"properties", _DEFINITIONS})
_SUBSCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf"})
_SUBSCHEMAS = frozenset({"items", "additionalProperties", "not"})


def _tidy(schema: JsonSchemaValue | bool) -> JsonSchemaValue | bool:
    """Draft 7 ignores every keyword beside a `$ref`, so a field's description and default go around it
    (`allOf: [{$ref}]`); a docstring's line breaks become spaces, as an editor's hover would not keep them."""
    if not isinstance(schema, dict):
        return schema
    tidied: JsonSchemaValue = {}
    for key, value in schema.items():
        if key in _SUBSCHEMA_MAPS:
            tidied[key] = {name: _tidy(subschema) for name, subschema in value.items()}
        elif key in _SUBSCHEMA_LISTS:
            tidied[key] = [_tidy(subschema) for subschema in value]
        elif key in _SUBSCHEMAS:
            tidied[key] = _tidy(value)
        elif key == "description":
            tidied[key] = " ".join(value.split())
        else:
            tidied[key] = value
    if "$ref" in tidied and len(tidied) > 1:
        tidied = {"allOf": [{"$ref": tidied.pop("$ref")}], **tidied}
    return tidied
