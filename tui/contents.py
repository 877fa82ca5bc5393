"""How a resource's contents and a prompt's messages read: text highlighted by MIME type, binary by size."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text

from tui import blobs
from tui.rendering import content_block, highlight, json_syntax, section

TEXT_LIMIT = 200_000
"""Characters of one text content highlighted and shown; the rest is cut (highlighting more is slow)."""

LEXERS: dict[str, str] = {
    "application/json": "json",
    "text/json": "json",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "application/yaml": "yaml",
    "application/x-yaml": "yaml",
    "text/yaml": "yaml",
    "text/x-yaml": "yaml",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/x-python": "python",
    "application/x-python": "python",
    "text/x-script.python": "python",
    "text/javascript": "javascript",
    "application/javascript": "javascript",
    "application/x-javascript": "javascript",
    "text/typescript": "typescript",
    "application/typescript": "typescript",
    "text/css": "css",
    "application/toml": "toml",
    "text/x-toml": "toml",
    "application/sql": "sql",
    "text/x-sh": "bash",
    "application/x-sh": "bash",
    "text/x-shellscript": "bash",
    "text/csv": "text",
    "text/plain": "text",
}
SUFFIX_LEXERS = {"+json": "json", "+xml": "xml", "+yaml": "yaml"}


@dataclass(frozen=True, slots=True)
class ResourceContent:
    """One item of resources/read's `contents`: text, decoded binary data, or why it is neither."""

    uri: str
    mime: str | None
    text: str | None = None
    data: bytes | None = None
    problem: str | None = None


def parse_contents(result: Mapping[str, Any]) -> tuple[ResourceContent, ...]:
    """The contents of a resources/read result, each text or binary (a bad one says why)."""
    contents = result.get("contents")
    return tuple(parse_content(item) for item in contents) if isinstance(contents, list) else ()


def parse_content(item: Any) -> ResourceContent:
    if not isinstance(item, Mapping):
        return ResourceContent("", None, problem="not an object")
    uri = str(item.get("uri", ""))
    mime = item.get("mimeType") if isinstance(item.get("mimeType"), str) else None
    if isinstance(item.get("text"), str):
        return ResourceContent(uri, mime, text=item["text"])
    if isinstance(item.get("blob"), str):
        try:
            return ResourceContent(uri, mime, data=blobs.decode(item["blob"]))
        except blobs.BlobError as error:
            return ResourceContent(uri, mime, problem=str(error))
    return ResourceContent(uri, mime, problem="neither text nor blob")


def lexer_for(mime: str | None, uri: str) -> str:
    """The Pygments lexer for a MIME type; without a known one, guessed from the URI's file name."""
    base = mime.split(";")[0].strip().lower() if mime else ""
    if base in LEXERS:
        return LEXERS[base]
    for suffix, lexer in SUFFIX_LEXERS.items():
        if base.endswith(suffix):
            return lexer
    name = urlsplit(uri).path.rstrip("/").rsplit("/", 1)[-1]
    guessed = Syntax.guess_lexer(name) if name else "default"
    return "text" if guessed == "default" else guessed


def resource_contents(contents: Sequence[ResourceContent], *, dark: bool = True) -> RenderableType:
    """Every content with a heading (its URI and MIME type); binary data by size, with the key that saves it."""
    if not contents:
        return Text("The resource has no contents.", style="dim")
    parts: list[RenderableType] = []
    for index, content in enumerate(contents):
        if index:
            parts.append(Text(""))
        heading = content.uri + (f" · {content.mime}" if content.mime else "")
        parts.append(section(heading if len(contents) == 1 else f"{index + 1}. {heading}"))
        parts.append(content_body(content, dark=dark))
    return Group(*parts)


def content_body(content: ResourceContent, *, dark: bool = True) -> RenderableType:
    if content.text is not None:
        shown = highlight(content.text[:TEXT_LIMIT], lexer_for(content.mime, content.uri), dark=dark)
        if len(content.text) <= TEXT_LIMIT:
            return shown
        return Group(shown, Text(f"… cut at {TEXT_LIMIT:,} of {len(content.text):,} characters", style="yellow"))
    if content.data is not None:
        return Text.assemble(
            ("[blob] ", "cyan"),
            f"{content.mime or 'no MIME type'}, {len(content.data):,} bytes",
            ("   w saves it to a file", "dim"),
        )
    return Text(f"unreadable content: {content.problem}", style="red")


def prompt_result(result: Mapping[str, Any], *, dark: bool = True) -> RenderableType:
    """prompts/get's answer: its description, then each message with its role and content blocks."""
    parts: list[RenderableType] = []
    description = result.get("description")
    if isinstance(description, str) and description:
        parts.append(Text(description, style="italic"))
    messages = result.get("messages")
    if not isinstance(messages, list):
        parts.append(json_syntax(dict(result), dark=dark))
        return Group(*parts)
    if not messages:
        parts.append(Text("The prompt has no messages.", style="dim"))
    for index, message in enumerate(messages, 1):
        role = message.get("role", "?") if isinstance(message, Mapping) else "?"
        content = message.get("content") if isinstance(message, Mapping) else message
        parts.append(section(f"{index}. {role}"))
        for block in content if isinstance(content, list) else [content]:
            parts.append(message_block(block, dark=dark))
    return Group(*parts)


def message_block(block: Any, *, dark: bool = True) -> RenderableType:
    """A content block; an embedded resource is shown like a read one (highlighted by its MIME type)."""
    if isinstance(block, Mapping) and block.get("type") == "resource" and isinstance(block.get("resource"), Mapping):
        content = parse_content(block["resource"])
        head = Text.assemble(
            ("[resource] ", "cyan"), content.uri, (f" · {content.mime}" if content.mime else "", "dim")
        )
        return Group(head, content_body(content, dark=dark))
    return content_block(block, dark=dark)


def failure(message: str) -> RenderableType:
    """The gateway's (or the upstream's) error, in the error style."""
    return Group(section("Error"), Text(message, style="red"))
