"""Filling in an MCP resource template (RFC 6570): its variables, and the URI their values expand to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from uri_template import ExpansionInvalidError, ExpansionReservedError, URITemplate, VariableInvalidError
from uri_template.expansions import ExpressionExpansion

OPTIONAL_OPERATORS = frozenset({"?", "&", ";"})
"""Query and path-style parameters may be left out; a path-like value is needed to route the URI."""


@dataclass(frozen=True, slots=True)
class TemplateVariable:
    """One variable of a template, in the order it first appears."""

    name: str
    required: bool


def template_variables(template: str) -> tuple[TemplateVariable, ...] | None:
    """The variables of `template`, or None when it is not a template the library can expand."""
    try:
        parsed = URITemplate(template)
    except (ExpansionInvalidError, ExpansionReservedError, VariableInvalidError, IndexError, ValueError):
        return None  # the parser raises IndexError on empty variables such as "{+}"
    found: dict[str, TemplateVariable] = {}
    for expansion in parsed.expansions:
        if isinstance(expansion, ExpressionExpansion):
            required = expansion.operator not in OPTIONAL_OPERATORS
            for variable in expansion.vars:
                found.setdefault(variable.name, TemplateVariable(variable.name, required))
    return tuple(found.values())


def expand(template: str, values: Mapping[str, str]) -> str:
    """The URI for `values`; empty ones are left out, so an unused query parameter disappears."""
    return str(URITemplate(template).expand(**{name: value for name, value in values.items() if value}))
