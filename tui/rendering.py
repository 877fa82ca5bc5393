"""Rich renderables for JSON, tool results and timings, shared by the call detail and the tool runner."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rich.console import Group, RenderableType
from rich.rule import Rule
from rich.style import Style
from rich.syntax import Syntax
from rich.text import Span, Text

from tui.forms import to_json

DARK_THEME = "monokai"
LIGHT_THEME = "friendly"
BAR_WIDTH = 24
RESULT_KEYS = ("content", "structuredContent", "isError")


def json_syntax(value: Any, *, dark: bool = True) -> Text:
    """`value` pretty-printed as highlighted JSON that wraps to the width available.

    Only the theme's token colours are kept, so JSON sits on the panel's own background.
    """
    return highlight(to_json(value), "json", dark=dark)


def highlight(code: str, lexer: str, *, dark: bool = True) -> Text:
    """`code` highlighted by a Pygments lexer name, in the theme's token colours on the panel's background."""
    text = Syntax(code, lexer, theme=DARK_THEME if dark else LIGHT_THEME).highlight(code)
    text.style = ""
    text.spans = [Span(span.start, span.end, _foreground(span.style)) for span in text.spans]
    text.rstrip()
    return text


def _foreground(style: str | Style) -> Style:
    parsed = Style.parse(style) if isinstance(style, str) else style
    return Style(color=parsed.color, bold=parsed.bold, italic=parsed.italic)


def section(title: str) -> Rule:
    return Rule(Text(title, style="bold"), align="left", style="dim")


def result_renderable(
    result: Any, error: str | None, *, dark: bool = True, raw: bool = False, structured: bool = True
) -> RenderableType:
    """A tools/call outcome: the gateway's error, or the result's content, structured content and flags.

    `raw` shows the result object exactly as received instead; `structured=False` leaves the structured
    content out (the tool runner shows it as a tree of its own).
    """
    if error is not None:
        return Group(section("Error"), Text(error, style="red"))
    if raw or not isinstance(result, Mapping):
        return Group(section("Result (raw)"), json_syntax(result, dark=dark))
    parts: list[RenderableType] = []
    if result.get("isError") is True:
        parts.append(Text("The tool reported an error (isError: true)", style="bold red"))
    content = result.get("content")
    if isinstance(content, list):
        parts.append(section(f"Content ({len(content)} block{'s' if len(content) != 1 else ''})"))
        parts.extend(content_block(block, dark=dark) for block in content)
        if not content:
            parts.append(Text("(empty)", style="dim"))
    if structured and "structuredContent" in result:
        parts.extend(_gap(parts))
        parts.append(section("Structured content"))
        parts.append(json_syntax(result["structuredContent"], dark=dark))
    others = {key: value for key, value in result.items() if key not in RESULT_KEYS}
    if others or (content is not None and not isinstance(content, list)):
        parts.extend(_gap(parts))
        parts.append(section("Other fields"))
        parts.append(json_syntax({**others, **({"content": content} if content is not None else {})}, dark=dark))
    return Group(*parts)


def content_block(block: Any, *, dark: bool = True) -> RenderableType:
    """One content block: text as text (or highlighted when it is JSON), binary data by size and type."""
    if not isinstance(block, Mapping):
        return json_syntax(block, dark=dark)
    kind = block.get("type")
    if kind == "text" and isinstance(block.get("text"), str):
        text: str = block["text"]
        parsed = _json_document(text)
        return json_syntax(parsed, dark=dark) if parsed is not None else Text(text)
    if kind in ("image", "audio"):
        return Text.assemble((f"[{kind}] ", "cyan"), f"{block.get('mimeType', '?')}, {data_size(block.get('data'))}")
    if kind == "resource_link":
        link = Text.assemble(("[link] ", "cyan"), str(block.get("uri", "")), (f"  {block.get('name', '')}", "dim"))
        details = [str(block[key]) for key in ("mimeType", "description") if isinstance(block.get(key), str)]
        return Group(link, Text("  " + " · ".join(details), style="dim")) if details else link
    if kind == "resource" and isinstance(block.get("resource"), Mapping):
        resource: Mapping[str, Any] = block["resource"]
        mime = resource.get("mimeType")
        shown_mime = f" · {mime}" if isinstance(mime, str) else ""
        head = Text.assemble(("[resource] ", "cyan"), str(resource.get("uri", "")), (shown_mime, "dim"))
        if isinstance(resource.get("text"), str):
            return Group(head, Text(resource["text"]))
        if isinstance(resource.get("blob"), str):
            return Group(head, Text(f"blob, {data_size(resource['blob'])}"))
        return Group(head, json_syntax({k: v for k, v in resource.items() if k != "uri"}, dark=dark))
    return json_syntax(block, dark=dark)


def data_size(data: Any) -> str:
    """The size base64 `data` decodes to, without decoding it ("no data" when it is not a string)."""
    if not isinstance(data, str):
        return "no data"
    stripped = "".join(data.split())
    return f"{len(stripped) * 3 // 4 - stripped[-2:].count('='):,} bytes"


def timing(total_ms: float, upstream_ms: float | None, *, bar: bool = True) -> Text:
    """Total time split into upstream and gateway time, optionally with a bar showing the shares."""
    text = Text.assemble(("total ", "dim"), (f"{total_ms:.1f} ms", "bold"))
    if upstream_ms is None:
        text.append("   upstream time not measured", style="dim")
        return text
    gateway_ms = max(total_ms - upstream_ms, 0.0)
    text.append("   upstream ", style="dim")
    text.append(f"{upstream_ms:.1f} ms", style="cyan")
    text.append("   gateway ", style="dim")
    text.append(f"{gateway_ms:.1f} ms", style="magenta")
    if not bar:
        return text
    share = upstream_ms / total_ms if total_ms > 0 else 1.0
    filled = round(min(max(share, 0.0), 1.0) * BAR_WIDTH)
    text.append("   ")
    text.append("█" * filled, style="cyan")
    text.append("█" * (BAR_WIDTH - filled), style="magenta")
    return text


def _gap(parts: list[RenderableType]) -> list[RenderableType]:
    """A blank line before a section, unless it is the first thing shown."""
    return [Text("")] if parts else []


def _json_document(text: str) -> Any:
    """The parsed value when `text` is a JSON object or array (worth highlighting), else None."""
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{":
        return None
    try:
        return json.loads(stripped)
    except ValueError:
        return None
