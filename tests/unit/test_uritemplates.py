"""Matching URIs against RFC 6570 resource templates (mcpstead.uritemplates)."""

from __future__ import annotations

import pytest

from mcpstead.uritemplates import UriTemplate, compile_template

MATCHES: list[tuple[str, str, dict[str, str | list[str]]]] = [
    # the MCP conformance template
    ("test://template/{id}/data", "test://template/123/data", {"id": "123"}),
    # simple
    ("x://{a}/{b}", "x://one/two", {"a": "one", "b": "two"}),
    ("x://{x,y}", "x://1024,768", {"x": "1024", "y": "768"}),
    ("x://{list*}", "x://red,green", {"list": ["red", "green"]}),
    ("users://{name}", "users://J%C3%BCrgen%20K", {"name": "Jürgen K"}),
    ("x://{a.b}", "x://v", {"a.b": "v"}),
    # reserved and fragment: '/' and ',' allowed
    ("docs://{+path}", "docs://guide/intro.md", {"path": "guide/intro.md"}),
    ("file:///{+path}", "file:///home/me/a%20b.txt", {"path": "home/me/a b.txt"}),
    ("x://{+x,y}", "x://a/b,c", {"x": "a/b", "y": "c"}),
    ("x://{+path}", "x://a,b", {"path": "a,b"}),
    ("x://p{#frag}", "x://p#sec/1,2", {"frag": "sec/1,2"}),
    # label
    ("x://file{.ext}", "x://file.json", {"ext": "json"}),
    ("x://www{.dom*}", "x://www.example.com", {"dom": ["example", "com"]}),
    ("x://v{.x,y}", "x://v.1.2", {"x": "1", "y": "2"}),
    # path segments
    ("x://a{/segments*}", "x://a/b/c", {"segments": ["b", "c"]}),
    ("x://a{/segments*}", "x://a/b", {"segments": ["b"]}),
    ("x://a{/x,y}", "x://a/1/2", {"x": "1", "y": "2"}),
    # path-style parameters, each optional
    ("x://m{;x,y}", "x://m;x=1;y=2", {"x": "1", "y": "2"}),
    ("x://m{;x,y}", "x://m;y", {"y": ""}),
    ("x://m{;x,y}", "x://m", {}),
    # query and continuation, each optional, in template order
    ("repo://{owner}/{repo}/issues{?state,page}", "repo://o/r/issues", {"owner": "o", "repo": "r"}),
    (
        "repo://{owner}/{repo}/issues{?state,page}",
        "repo://o/r/issues?state=open&page=2",
        {"owner": "o", "repo": "r", "state": "open", "page": "2"},
    ),
    ("repo://{owner}/{repo}/issues{?state,page}", "repo://o/r/issues?page=2", {"owner": "o", "repo": "r", "page": "2"}),
    ("x://s{?q}", "x://s?q=a%20b%2Fc", {"q": "a b/c"}),
    ("x://s{?q}", "x://s?q=", {"q": ""}),
    ("x://s{?ids}", "x://s?ids=1,2", {"ids": "1,2"}),
    ("x://s{?a,ab}", "x://s?ab=1", {"ab": "1"}),
    ("x://s{?list*}", "x://s?list=a&list=b", {"list": ["a", "b"]}),
    ("x://s?fixed=1{&x,y}", "x://s?fixed=1&y=2", {"y": "2"}),
    ("x://s{?a}{&b}", "x://s?a=1&b=2", {"a": "1", "b": "2"}),
    # prefix modifiers
    ("x://{var:3}", "x://abc", {"var": "abc"}),
    ("x://{var:3}", "x://ab", {"var": "ab"}),
    ("x://{var:3}/{rest}", "x://a%20b/c", {"var": "a b", "rest": "c"}),
    ("x://s{?q:2}", "x://s?q=ab", {"q": "ab"}),
    # literal parts are regex-escaped
    ("x://a.b+c(d)/{id}", "x://a.b+c(d)/7", {"id": "7"}),
]

NON_MATCHES: list[tuple[str, str]] = [
    ("test://template/{id}/data", "test://template/123/data/extra"),
    ("test://template/{id}/data", "test://template/123/other"),
    ("test://template/{id}/data", "test://template/a/b/data"),
    ("test://template/{id}/data", "test://template//data"),
    ("test://template/{id}/data", "prefix-test://template/1/data"),
    ("test://template/{id}/data", "TEST://template/1/data"),
    ("x://{a}", "x://a?b"),
    ("x://{a}", "x://a#b"),
    ("x://{a}", "x://a,b"),
    ("x://{a}", "x://a%zz"),
    ("file:///{path}", "file:///a/b"),
    ("x://a.b/{id}", "x://aXb/1"),
    ("x://a{/segments*}", "x://a"),
    ("x://a{/segments*}", "x://a/"),
    ("x://a{/segments*}", "x://a/b//c"),
    ("x://{var:3}", "x://abcd"),
    ("x://s{?q:2}", "x://s?q=abc"),
    ("x://s{?state,page}", "x://s?page=2&state=open"),
    ("x://s{?state,page}", "x://s?other=1"),
    ("x://s{?state,page}", "x://s&state=1"),
    ("x://s{?state,page}", "x://s?state=1?page=2"),
    ("x://s{?state}", "x://s?state=a b"),
    ("x://file{.ext}", "x://file"),
]

INVALID = [
    "x://{",
    "x://}",
    "x://{}",
    "x://{id",
    "x://{a{b}}",
    "x://{ x}",
    "x://{+}",
    "x://{a,,b}",
    "x://{a..b}",
    "x://{a.}",
    "x://{x:0}",
    "x://{x:10000}",
    "x://{x*:3}",
    "x://{=x}",
    "x://{!x}",
    "x://{|x}",
    "x://{,x}",
    "x://{x,}",
    "x://{x=1}",
    "x://{x[]}",
    "x://{x/y}",
]


@pytest.mark.parametrize(("template", "uri", "expected"), MATCHES)
def test_match(template: str, uri: str, expected: dict[str, str | list[str]]) -> None:
    compiled = compile_template(template)
    assert compiled is not None
    assert compiled.match(uri) == expected


@pytest.mark.parametrize(("template", "uri"), NON_MATCHES)
def test_no_match(template: str, uri: str) -> None:
    compiled = compile_template(template)
    assert compiled is not None
    assert compiled.match(uri) is None


@pytest.mark.parametrize("template", INVALID)
def test_invalid_template(template: str) -> None:
    assert compile_template(template) is None


def test_template_without_expressions_matches_itself_only() -> None:
    compiled = compile_template("x://fixed/path")
    assert compiled is not None
    assert compiled.match("x://fixed/path") == {}
    assert compiled.match("x://fixed/path2") is None


def test_compiled_once_and_value_like() -> None:
    compiled = compile_template("test://template/{id}/data")
    assert isinstance(compiled, UriTemplate)
    assert compiled.template == "test://template/{id}/data"
    assert compiled == compile_template("test://template/{id}/data")
    assert "_pattern" not in repr(compiled)
