"""Checking elicitation content against a requested schema, and the form fields such schemas give."""

from __future__ import annotations

from tui import elicitation
from tui.forms import plan_form

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 2, "maxLength": 5},
        "email": {"type": "string", "format": "email"},
        "site": {"type": "string", "format": "uri"},
        "born": {"type": "string", "format": "date"},
        "at": {"type": "string", "format": "date-time"},
        "count": {"type": "integer"},
        "ratio": {"type": "number"},
        "ok": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b", "c"]}, "minItems": 1, "maxItems": 2},
        "picks": {"type": "array", "items": {"anyOf": [{"const": "x", "title": "X"}, {"const": "y", "title": "Y"}]}},
    },
    "required": ["name"],
}


def test_valid_content_has_no_problems() -> None:
    content = {
        "name": "Ada",
        "email": "ada@example.org",
        "site": "https://example.org",
        "born": "1815-12-10",
        "at": "2025-01-02T03:04:05+00:00",
        "count": 3,
        "ratio": 0.5,
        "ok": False,
        "tags": ["a", "c"],
        "picks": ["y"],
    }
    assert elicitation.check_content(SCHEMA, content) == {}


def test_each_kind_of_problem_is_named_per_field() -> None:
    content = {
        "name": "A" * 6,
        "email": "ada@",
        "site": "not a uri",
        "born": "10/12/1815",
        "at": "yesterday",
        "count": 2.5,
        "ratio": True,
        "ok": "yes",
        "tags": ["a", "b", "c"],
        "picks": ["z"],
    }
    assert elicitation.check_content(SCHEMA, content) == {
        "name": "at most 5 characters",
        "email": "not a valid email",
        "site": "not a valid uri",
        "born": "not a valid date",
        "at": "not a valid date-time",
        "count": "must be an integer",
        "ratio": "must be a number",
        "ok": "must be a boolean",
        "tags": "choose at most 2",
        "picks": "not allowed: z (choose from x, y)",
    }
    assert elicitation.check_content(SCHEMA, {"tags": []}) == {"name": "required", "tags": "choose at least 1"}


def test_bodies() -> None:
    assert elicitation.accept({"a": 1}) == {"result": {"action": "accept", "content": {"a": 1}}}
    assert elicitation.accept() == {"result": {"action": "accept"}}
    assert elicitation.DECLINE == {"result": {"action": "decline"}}
    assert elicitation.CANCEL == {"result": {"action": "cancel"}}


def test_titled_enums_and_formats_become_form_fields() -> None:
    plan = plan_form(
        {
            "type": "object",
            "properties": {
                "color": {
                    "type": "string",
                    "title": "Colour",
                    "oneOf": [{"const": "r", "title": "Red"}, {"const": "g"}],
                },
                "size": {"type": "string", "enum": ["s", "l"], "enumNames": ["Small", "Large"]},
                "mail": {"type": "string", "format": "email"},
            },
        }
    )
    color, size, mail = plan.fields
    assert (color.kind, color.choices, color.choice_titles, color.title) == ("enum", ("r", "g"), ("Red", "g"), "Colour")
    assert (size.kind, size.choices, size.choice_titles) == ("enum", ("s", "l"), ("Small", "Large"))
    assert (mail.kind, mail.type_label) == ("string", "string, email")


def test_arrays_of_enum_values_are_chosen_from_a_list() -> None:
    plan = plan_form(
        {
            "type": "object",
            "properties": {
                "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "default": ["b"]},
                "picks": {"type": "array", "items": {"anyOf": [{"const": "x", "title": "Ex"}]}},
                "free": {"type": "array", "items": {"type": "string"}},
            },
        }
    )
    tags, picks, free = plan.fields
    assert (tags.kind, tags.choices, tags.default) == ("multi", ("a", "b"), ["b"])
    assert (picks.kind, picks.choices, picks.choice_titles) == ("multi", ("x",), ("Ex",))
    assert free.kind == "json"
