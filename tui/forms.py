"""Turning a tool's inputSchema into form fields, and form text back into JSON arguments (pure logic).

The form covers the common cases (strings, numbers, booleans, enums, arrays of enum values); anything
else (objects, other arrays, unions, schemas without a type) is a raw JSON field, and a schema the form
cannot describe at all is edited as one raw JSON object.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

FieldKind = Literal["string", "number", "integer", "boolean", "enum", "multi", "json"]
"""`multi`: an array whose items are enum values, chosen from a list."""


class _Missing:
    """Marks "no default" (None is a valid JSON default)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


class FieldError(ValueError):
    """A value that cannot be sent; the message is shown under the field."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One top-level argument as the form shows it."""

    name: str
    kind: FieldKind
    required: bool
    description: str = ""
    type_label: str = ""
    default: Any = MISSING
    choices: tuple[Any, ...] = ()
    choice_titles: tuple[str, ...] = ()
    """How each choice reads, when the schema titles them (oneOf/anyOf of consts, or enumNames)."""
    title: str = ""
    minimum: float | None = None
    maximum: float | None = None

    @property
    def has_default(self) -> bool:
        return self.default is not MISSING


@dataclass(frozen=True, slots=True)
class FormPlan:
    """The fields of a schema; `form_ok` is False when only raw JSON can express the arguments."""

    fields: tuple[FieldSpec, ...]
    form_ok: bool


_COMBINATORS = ("anyOf", "oneOf", "allOf", "not", "if", "$ref", "patternProperties")


def plan_form(input_schema: Any) -> FormPlan:
    """The form for `input_schema` (an MCP tool's JSON Schema for its arguments object)."""
    if not isinstance(input_schema, Mapping):
        return FormPlan((), form_ok=False)
    properties = input_schema.get("properties")
    required = input_schema.get("required")
    required_names = {name for name in required if isinstance(name, str)} if isinstance(required, list) else set()
    fields = tuple(
        field_for(name, schema, name in required_names)
        for name, schema in (properties.items() if isinstance(properties, Mapping) else ())
        if isinstance(name, str)
    )
    extra = input_schema.get("additionalProperties")
    open_ended = any(key in input_schema for key in _COMBINATORS) or (isinstance(extra, Mapping) and bool(extra))
    return FormPlan(fields, form_ok=bool(fields) or not open_ended)


def field_for(name: str, schema: Any, required: bool) -> FieldSpec:
    """The form field for one property schema."""
    if not isinstance(schema, Mapping):
        return FieldSpec(name, "json", required, type_label="any")
    description, title = schema.get("description"), schema.get("title")
    common: dict[str, Any] = {
        "description": description if isinstance(description, str) else "",
        "title": title if isinstance(title, str) else "",
        "default": schema.get("default", MISSING),
    }
    kind_name = schema.get("type")
    choices = _choices(schema)
    if choices is not None:
        values, titles = choices
        return FieldSpec(name, "enum", required, type_label="one of", choices=values, choice_titles=titles, **common)
    items = _choices(schema.get("items")) if kind_name == "array" else None
    if items is not None:
        values, titles = items
        return FieldSpec(name, "multi", required, type_label="any of", choices=values, choice_titles=titles, **common)
    if "const" in schema:
        return FieldSpec(name, "enum", required, type_label="constant", choices=(schema["const"],), **common)
    if kind_name == "string":
        fmt = schema.get("format")
        return FieldSpec(name, "string", required, type_label=f"string, {fmt}" if fmt else "string", **common)
    if kind_name == "boolean":
        return FieldSpec(name, kind_name, required, type_label=kind_name, **common)
    if kind_name in ("number", "integer"):
        minimum, maximum = _bound(schema.get("minimum")), _bound(schema.get("maximum"))
        label = kind_name + (f" ≥{_show(minimum)}" if minimum is not None else "")
        label += f" ≤{_show(maximum)}" if maximum is not None else ""
        return FieldSpec(name, kind_name, required, type_label=label, minimum=minimum, maximum=maximum, **common)
    label = " | ".join(str(k) for k in kind_name) if isinstance(kind_name, list) else str(kind_name or "any")
    return FieldSpec(name, "json", required, type_label=f"{label} (JSON)", **common)


def _choices(schema: Any) -> tuple[tuple[Any, ...], tuple[str, ...]] | None:
    """The values of an enum, or of a oneOf/anyOf made only of `const`s, with their titles when the schema
    gives them (enumNames, or each const's title); None when the schema is not a choice."""
    if not isinstance(schema, Mapping):
        return None
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        names = schema.get("enumNames")
        titles = tuple(str(n) for n in names) if isinstance(names, list) and len(names) == len(enum) else ()
        return tuple(enum), titles
    for key in ("oneOf", "anyOf"):
        options = schema.get(key)
        if isinstance(options, list) and options and all(isinstance(o, Mapping) and "const" in o for o in options):
            titles = tuple(str(o.get("title", choice_label(o["const"]))) for o in options)
            return tuple(o["const"] for o in options), titles
    return None


def parse_text(spec: FieldSpec, text: str) -> Any:
    """The JSON value typed for a string, number, integer or JSON field; MISSING when left empty.

    Raises FieldError for a missing required value, a bad number or bad JSON.
    """
    if text.strip() == "" and not (spec.kind == "string" and text):
        if spec.required:
            raise FieldError("required")
        return MISSING
    if spec.kind == "string":
        return text
    if spec.kind in ("number", "integer"):
        return parse_number(spec, text)
    return parse_json(text)


def parse_number(spec: FieldSpec, text: str) -> int | float:
    """An int when the text is integral (so `2` is sent as 2, not 2.0), else a float; within bounds."""
    cleaned = text.strip()
    value: int | float
    try:
        value = int(cleaned)
    except ValueError:
        if spec.kind == "integer":
            raise FieldError("not an integer") from None
        try:
            value = float(cleaned)
        except ValueError:
            raise FieldError("not a number") from None
        if not math.isfinite(value):
            raise FieldError("not a finite number") from None
    if spec.minimum is not None and value < spec.minimum:
        raise FieldError(f"must be ≥ {_show(spec.minimum)}")
    if spec.maximum is not None and value > spec.maximum:
        raise FieldError(f"must be ≤ {_show(spec.maximum)}")
    return value


def parse_json(text: str) -> Any:
    """Strict JSON (no NaN or Infinity), with the parser's position in the error."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise FieldError(f"invalid JSON: {error.msg} (line {error.lineno}, column {error.colno})") from None
    except ValueError as error:
        raise FieldError(f"invalid JSON: {error}") from None


def parse_arguments(text: str) -> dict[str, Any]:
    """The whole arguments object from raw JSON text (empty text means `{}`)."""
    if not text.strip():
        return {}
    value = parse_json(text)
    if not isinstance(value, dict):
        raise FieldError(f"arguments must be a JSON object, not {_json_type(value)}")
    return value


def check_choice(spec: FieldSpec, value: Any) -> Any:
    """`value` if the enum field allows it."""
    if value not in spec.choices:
        raise FieldError(f"must be one of {', '.join(choice_label(c) for c in spec.choices)}")
    return value


def choice_label(value: Any) -> str:
    """How an enum choice reads in a Select: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def text_for(spec: FieldSpec, value: Any) -> str:
    """The text a string, number or JSON field shows for `value` (the inverse of parse_text)."""
    if value is MISSING:
        return ""
    if spec.kind == "string":
        if not isinstance(value, str):
            raise FieldError(f"expected a string, got {_json_type(value)}")
        return value
    if spec.kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise FieldError(f"expected a number, got {_json_type(value)}")
        return _show(value)
    return to_json(value)


def to_json(value: Any, indent: int | None = 2) -> str:
    """JSON for display: readable Unicode, and anything non-JSON shown by repr rather than failing."""
    return json.dumps(value, indent=indent, ensure_ascii=False, default=repr)


def _bound(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _show(value: float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
