"""From inputSchema to form fields, and from typed text back to JSON arguments (no app needed)."""

from __future__ import annotations

import pytest

from tui.forms import (
    MISSING,
    FieldError,
    FieldSpec,
    field_for,
    parse_arguments,
    parse_text,
    plan_form,
    text_for,
)

WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "City name."},
        "units": {"type": "string", "enum": ["metric", "imperial"], "default": "metric"},
    },
    "required": ["city"],
}


def test_weather_schema_becomes_a_string_and_an_enum() -> None:
    plan = plan_form(WEATHER)
    assert plan.form_ok
    city, units = plan.fields
    assert (city.name, city.kind, city.required, city.description) == ("city", "string", True, "City name.")
    assert (units.kind, units.required, units.default, units.choices) == (
        "enum",
        False,
        "metric",
        ("metric", "imperial"),
    )


@pytest.mark.parametrize(
    ("schema", "kind", "label"),
    [
        ({"type": "number", "minimum": 0, "maximum": 60}, "number", "number ≥0 ≤60"),
        ({"type": "integer"}, "integer", "integer"),
        ({"type": "boolean"}, "boolean", "boolean"),
        ({"const": 3}, "enum", "constant"),
        ({"type": "object"}, "json", "object (JSON)"),
        ({"type": "array", "items": {"type": "string"}}, "json", "array (JSON)"),
        ({"type": ["string", "null"]}, "json", "string | null (JSON)"),
        ({"anyOf": [{"type": "string"}, {"type": "number"}]}, "json", "any (JSON)"),
        ("not a schema", "json", "any"),
    ],
)
def test_field_kinds(schema: object, kind: str, label: str) -> None:
    spec = field_for("x", schema, required=False)
    assert (spec.kind, spec.type_label) == (kind, label)


def test_schemas_the_form_cannot_describe_go_to_raw_json() -> None:
    assert plan_form({"type": "object"}).form_ok  # no arguments at all: an empty form
    assert plan_form({}).form_ok
    assert not plan_form({"type": "object", "additionalProperties": {"type": "string"}}).form_ok
    assert not plan_form({"oneOf": [{"type": "object"}]}).form_ok
    assert not plan_form(None).form_ok


def test_numbers_are_sent_as_ints_when_integral_and_checked_against_bounds() -> None:
    number = FieldSpec("n", "number", required=True, minimum=0, maximum=60)
    assert parse_text(number, "2") == 2
    assert isinstance(parse_text(number, "2"), int)
    assert parse_text(number, " 2.5 ") == 2.5
    with pytest.raises(FieldError, match="not a number"):
        parse_text(number, "1e")
    with pytest.raises(FieldError, match="≤ 60"):
        parse_text(number, "61")
    with pytest.raises(FieldError, match="not a finite number"):
        parse_text(number, "1e999")
    with pytest.raises(FieldError, match="not an integer"):
        parse_text(FieldSpec("i", "integer", required=True), "2.5")


def test_empty_fields_are_left_out_unless_required() -> None:
    assert parse_text(FieldSpec("s", "string", required=False), "") is MISSING
    assert parse_text(FieldSpec("n", "number", required=False), "  ") is MISSING
    assert parse_text(FieldSpec("s", "string", required=False), "  ") == "  "  # whitespace is a value
    with pytest.raises(FieldError, match="required"):
        parse_text(FieldSpec("s", "string", required=True), "")


def test_json_fields_and_raw_arguments() -> None:
    spec = FieldSpec("tags", "json", required=False)
    assert parse_text(spec, '["a", 1]') == ["a", 1]
    with pytest.raises(FieldError, match=r"invalid JSON: Expecting value \(line 1, column 1\)"):
        parse_text(spec, "nope")
    with pytest.raises(FieldError, match="invalid JSON"):
        parse_text(spec, "NaN")
    assert parse_arguments("") == {}
    assert parse_arguments('{"a": 1}') == {"a": 1}
    with pytest.raises(FieldError, match="must be a JSON object, not an array"):
        parse_arguments("[1]")


def test_values_back_into_text() -> None:
    assert text_for(FieldSpec("n", "number", required=True), 3.0) == "3"
    assert text_for(FieldSpec("n", "number", required=True), 2.5) == "2.5"
    assert text_for(FieldSpec("j", "json", required=True), {"a": [1]}) == '{\n  "a": [\n    1\n  ]\n}'
    assert text_for(FieldSpec("s", "string", required=True), MISSING) == ""
    with pytest.raises(FieldError, match="expected a string, got a number"):
        text_for(FieldSpec("s", "string", required=True), 3)
