"""Match a URI against an MCP resource template (RFC 6570).

The gateway routes resources/read, resources/subscribe and completion/complete (ref/resource) to the
upstream whose resource template matches the URI, but RFC 6570 libraries only *expand* templates.
So `uri-template` parses and validates the template, and each expression is compiled here into a
regular expression, once per template (the catalog compiles when an upstream's list changes):
matching is one anchored `fullmatch` plus percent-decoding.

Values of path-like expressions are required and non-empty; query (`?`, `&`) and path-style (`;`)
parameters are each optional, in template order. A prefix `{var:3}` counts characters or `%XX`
triplets. Exploded `{/var*}`, `{.var*}`, `{var*}` and `{?var*}` (repeated `var=`) give lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import unquote

from uri_template import ExpansionInvalidError, ExpansionReservedError, URITemplate, VariableInvalidError
from uri_template.expansions import ExpressionExpansion, Literal

_UNRESERVED = "-._~"  # and ASCII letters and digits
_RESERVED = ":/?#[]@!$&'()*+,;="
_PCT = "%[0-9A-Fa-f]{2}"
_VARNAME = re.compile(rf"(?:\w|{_PCT})(?:\.?(?:\w|{_PCT}))*", re.ASCII)

# operator -> (first, separator, named, characters a value may hold besides letters, digits and %XX)
_OPERATORS: dict[str, tuple[str, str, bool, str]] = {
    "": ("", ",", False, _UNRESERVED),
    "+": ("", ",", False, _UNRESERVED + _RESERVED),
    "#": ("#", ",", False, _UNRESERVED + _RESERVED),
    ".": (".", ".", False, _UNRESERVED),
    "/": ("/", "/", False, _UNRESERVED),
    ";": (";", ";", True, _UNRESERVED + ","),
    "?": ("?", "&", True, _UNRESERVED + ","),
    "&": ("&", "&", True, _UNRESERVED + ","),
}


class _Capture(NamedTuple):
    group: str
    name: str
    separator: str
    named: bool
    explode: bool


@dataclass(frozen=True, slots=True)
class UriTemplate:
    template: str
    _pattern: re.Pattern[str] = field(repr=False, compare=False)
    _captures: tuple[_Capture, ...] = field(repr=False, compare=False)

    def match(self, uri: str) -> dict[str, str | list[str]] | None:
        """The template's variables in `uri`, percent-decoded; None if `uri` does not match."""
        found = self._pattern.fullmatch(uri)
        if found is None:
            return None
        variables: dict[str, str | list[str]] = {}
        for capture in self._captures:
            raw = found.group(capture.group)
            if raw is None:
                continue
            items = raw.split(capture.separator) if capture.explode else [raw]
            if capture.named:
                items = [item[len(capture.name) :].removeprefix("=") for item in items]
            values = [unquote(item) for item in items]
            variables[capture.name] = values if capture.explode else values[0]
        return variables


def compile_template(template: str) -> UriTemplate | None:
    """Compile `template`, or None when it is not a valid RFC 6570 (level 1-4) template."""
    try:
        parsed = URITemplate(template)
    except (ExpansionInvalidError, ExpansionReservedError, VariableInvalidError, IndexError, ValueError):
        return None  # the parser raises IndexError on empty variables such as "{+}" or "{a,,b}"
    regex: list[str] = []
    captures: list[_Capture] = []
    for expansion in parsed.expansions:
        if isinstance(expansion, Literal):
            regex.append(re.escape(expansion.value))
            continue
        if not isinstance(expansion, ExpressionExpansion) or expansion.operator not in _OPERATORS:
            return None  # the parser's non-standard "{,var}" extension
        first, separator, named, allowed = _OPERATORS[expansion.operator]
        if expansion.trailing_joiner:
            return None  # non-standard "{var,}"
        parts: list[str] = []
        for index, var in enumerate(expansion.vars):
            if not _VARNAME.fullmatch(var.name) or var.key != var.name or var.default is not None or var.array:
                return None  # non-standard "{var=default}", "{var[]}", "{name/key}"
            group = f"g{len(captures)}"
            captures.append(_Capture(group, var.name, separator, named, var.explode))
            split = var.explode or len(expansion.vars) > 1
            chars = re.escape(allowed.replace(separator, "") if split else allowed)  # items of a list hold no separator
            value = f"(?:[A-Za-z0-9{chars}]|{_PCT})"
            if named:
                times = f"{{0,{var.max_length}}}" if var.max_length else "*"
                item = f"{re.escape(var.name)}(?:={value}{times})?"
            else:
                item = f"{value}{{1,{var.max_length}}}" if var.max_length else f"{value}+"
            body = f"(?P<{group}>{item}(?:{re.escape(separator)}{item})*)" if var.explode else f"(?P<{group}>{item})"
            if not named:
                parts.append(body)
                continue
            lead = re.escape(separator if index else first)
            if expansion.operator == "?":  # "?" before the first parameter present, "&" after it
                lead = r"\?"
                for earlier in captures[-1 - index : -1]:
                    lead = f"(?({earlier.group})&|{lead})"
            parts.append(f"(?:{lead}{body})?")
        regex.append("".join(parts) if named else re.escape(first) + re.escape(separator).join(parts))
    return UriTemplate(template, re.compile("".join(regex)), tuple(captures))
