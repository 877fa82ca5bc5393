"""The pure parts of browsing: template variables and expansion, lexers by MIME type, contents, completions,
and the notification fan-out."""

from __future__ import annotations

from typing import Any

import pytest

from tui.completion import Completions, parse, prompt_ref, request_params, template_ref
from tui.contents import lexer_for, parse_contents, prompt_result
from tui.notifications import NotificationHub
from tui.templates import TemplateVariable, expand, template_variables
from tui.widgets.document import Document


def test_template_variables_in_order_with_query_ones_optional() -> None:
    assert template_variables("file:///{path}{?q,lang}") == (
        TemplateVariable("path", True),
        TemplateVariable("q", False),
        TemplateVariable("lang", False),
    )
    assert template_variables("x://{a}/{a}") == (TemplateVariable("a", True),)
    assert template_variables("x://static") == ()
    assert template_variables("x://{+}") is None


def test_expand_leaves_out_empty_values_and_encodes_the_rest() -> None:
    assert expand("file:///{path}{?q,lang}", {"path": "a b", "q": "", "lang": "en"}) == "file:///a%20b?lang=en"
    assert expand("x://{+path}", {"path": "a/b"}) == "x://a/b"


@pytest.mark.parametrize(
    ("mime", "uri", "lexer"),
    [
        ("application/json", "x://a", "json"),
        ("application/vnd.api+json", "x://a", "json"),
        ("text/markdown; charset=utf-8", "x://a", "markdown"),
        ("application/x-yaml", "x://a", "yaml"),
        ("text/html", "x://a", "html"),
        ("image/svg+xml", "x://a", "xml"),
        ("text/x-python", "x://a", "python"),
        ("application/javascript", "x://a", "javascript"),
        ("text/csv", "x://a.csv", "text"),
        ("text/plain", "x://a.py", "text"),  # the server said plain: shown plain
        (None, "file:///src/app.py", "python"),
        (None, "test://static-text", "text"),
        ("application/x-unknown", "x://a", "text"),
    ],
)
def test_lexer_by_mime_type_then_by_file_name(mime: str | None, uri: str, lexer: str) -> None:
    assert lexer_for(mime, uri) == lexer


def test_contents_are_text_blob_or_a_reason() -> None:
    result: dict[str, Any] = {
        "contents": [
            {"uri": "x://t", "mimeType": "text/plain", "text": "hi"},
            {"uri": "x://b", "blob": "AAEC"},
            {"uri": "x://bad", "blob": "!!"},
            {"uri": "x://none"},
        ]
    }
    text, blob, bad, none = parse_contents(result)
    assert (text.text, text.mime) == ("hi", "text/plain")
    assert blob.data == b"\x00\x01\x02"
    assert bad.problem is not None and "base64" in bad.problem
    assert none.problem == "neither text nor blob"
    assert parse_contents({}) == ()


def test_a_prompt_result_with_a_list_of_blocks_and_no_messages() -> None:
    listed = {"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]}
    text = Document(prompt_result(listed)).text
    assert "1. user" in text and "a\n" in text and "b\n" in text
    assert "The prompt has no messages." in Document(prompt_result({"messages": []})).text


def test_completion_params_and_answers() -> None:
    assert request_params(prompt_ref("p"), "city", "Pa", {}) == {
        "ref": {"type": "ref/prompt", "name": "p"},
        "argument": {"name": "city", "value": "Pa"},
    }
    assert request_params(template_ref("x://{a}"), "a", "", {"b": "1"})["context"] == {"arguments": {"b": "1"}}
    answer = parse({"completion": {"values": ["Paris", 3, "Pau"], "total": 10, "hasMore": True}})
    assert answer == Completions(("Paris", "Pau"), 10, True)
    assert answer.summary() == "2 of 10 suggestions, more available"
    assert Completions(("a",), 1).summary() == "1 suggestion"
    assert parse({"completion": "nonsense"}) == Completions()


def test_the_hub_tells_every_listener_even_when_one_fails() -> None:
    hub = NotificationHub()
    seen: list[str] = []

    def broken(message: dict[str, Any]) -> None:
        raise RuntimeError("listener bug")

    hub.add(broken)
    stop = hub.add(lambda message: seen.append(message["method"]))
    with pytest.raises(RuntimeError, match="listener bug"):
        hub.deliver({"method": "notifications/resources/updated"})
    assert seen == ["notifications/resources/updated"]
    stop()
    stop()  # twice is harmless
    with pytest.raises(RuntimeError):
        hub.deliver({"method": "again"})
    assert seen == ["notifications/resources/updated"]
