"""Answering elicitation/create as the human: checking the form's content against the requested schema,
and the answer bodies (pure logic; the dialog is tui/screens/elicitation.py).

The form (tui/forms.py) already turns text into typed values, enforces required fields, number bounds and
enum choices; what is left for here is what a flat elicitation schema adds: string length and format,
multi-select arrays, and the JSON type of anything the form edits as raw JSON.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}

DECLINE: dict[str, Any] = {"result": {"action": "decline"}}
CANCEL: dict[str, Any] = {"result": {"action": "cancel"}}


def accept(content: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The body of an accepted elicitation (URL mode accepts without content)."""
    result: dict[str, Any] = {"action": "accept"}
    if content is not None:
        result["content"] = dict(content)
    return {"result": result}


def check_content(schema: Any, content: Mapping[str, Any]) -> dict[str, str]:
    """A message per property whose value the requested schema does not allow (empty: the content is fine)."""
    if not isinstance(schema, Mapping):
        return {}
    properties = schema.get("properties")
    required = schema.get("required")
    errors: dict[str, str] = {}
    if isinstance(required, list):
        errors.update({name: "required" for name in required if isinstance(name, str) and name not in content})
    for name, value in content.items():
        spec = properties.get(name) if isinstance(properties, Mapping) else None
        if isinstance(spec, Mapping):
            problem = _check(spec, value)
            if problem is not None:
                errors[name] = problem
    return errors


def _check(spec: Mapping[str, Any], value: Any) -> str | None:
    kind = spec.get("type")
    if isinstance(kind, str) and kind in _TYPES and not _is(value, kind):
        return f"must be {'an' if kind[0] in 'aeiou' else 'a'} {kind}"
    if isinstance(value, str):
        return _check_string(spec, value)
    if isinstance(value, list):
        return _check_array(spec, value)
    return None


def _is(value: Any, kind: str) -> bool:
    if isinstance(value, bool) and kind in ("number", "integer"):
        return False
    if kind == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES[kind])


def _check_string(spec: Mapping[str, Any], value: str) -> str | None:
    shortest, longest = spec.get("minLength"), spec.get("maxLength")
    if isinstance(shortest, int) and len(value) < shortest:
        return f"at least {shortest} character{'s' if shortest != 1 else ''}"
    if isinstance(longest, int) and len(value) > longest:
        return f"at most {longest} character{'s' if longest != 1 else ''}"
    fmt = spec.get("format")
    if isinstance(fmt, str) and not _has_format(fmt, value):
        return f"not a valid {fmt}"
    return None


def _has_format(fmt: str, value: str) -> bool:
    """The formats elicitation names; an unknown format is not checked."""
    if fmt == "email":
        return _EMAIL.fullmatch(value) is not None
    if fmt == "uri":
        parts = urlsplit(value)
        return bool(parts.scheme) and bool(parts.netloc or parts.path)
    try:
        if fmt == "date":
            date.fromisoformat(value)
        elif fmt == "date-time":
            datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _check_array(spec: Mapping[str, Any], value: list[Any]) -> str | None:
    """A multi-select enum: every item one of the allowed values, within minItems and maxItems."""
    fewest, most = spec.get("minItems"), spec.get("maxItems")
    if isinstance(fewest, int) and len(value) < fewest:
        return f"choose at least {fewest}"
    if isinstance(most, int) and len(value) > most:
        return f"choose at most {most}"
    allowed = _allowed_items(spec.get("items"))
    if allowed is not None:
        wrong = [item for item in value if item not in allowed]
        if wrong:
            return f"not allowed: {', '.join(map(str, wrong))} (choose from {', '.join(map(str, allowed))})"
    return None


def _allowed_items(items: Any) -> list[Any] | None:
    if not isinstance(items, Mapping):
        return None
    if isinstance(items.get("enum"), list):
        return list(items["enum"])
    for key in ("anyOf", "oneOf"):
        options = items.get(key)
        if isinstance(options, list) and all(isinstance(o, Mapping) and "const" in o for o in options):
            return [o["const"] for o in options]
    return None
