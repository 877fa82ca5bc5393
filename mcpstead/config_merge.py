"""Imported servers as mcpstead YAML: printed as a whole config, or spliced into an existing config file as
text, so the user's comments and layout stay as they were. Whatever is written is first validated by the
config loader itself."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from mcpstead.client_import import Imported, ImportedServer
from mcpstead.config import INSTANCE_ID_ENV
from mcpstead.config_load import parse_config
from mcpstead.errors import ClientConfigError, ConfigError

PLACEHOLDER = "http://placeholder.invalid"
"""What an unset variable stands for while a config is checked: long enough for a token, and still a URL
where a variable makes up the start of one."""
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}")
_OPTIONAL_ENV = (INSTANCE_ID_ENV,)
"""Variables the gateway reads when they are set, and does without when not."""


class _AnyVariable(Mapping[str, str]):
    """An environment where every variable is set (but those only ever used with a default, which take it,
    and the optional ones the gateway reads itself, which are this shell's): checking a config checks its
    keys, not this shell."""

    def __init__(self, text: str) -> None:
        references = _REFERENCE.findall(text)
        bare = {name for name, default in references if not default}
        defaulted = {name for name, default in references if default} - bare
        self._unset = (defaulted | set(_OPTIONAL_ENV)) - set(os.environ)

    def __getitem__(self, key: str) -> str:
        if key in self._unset:
            raise KeyError(key)
        return os.environ.get(key) or PLACEHOLDER

    def __iter__(self) -> Iterator[str]:
        return iter(os.environ)

    def __len__(self) -> int:
        return len(os.environ)

    def __contains__(self, key: object) -> bool:
        return key not in self._unset


@dataclass
class Merge:
    text: str
    added: list[str] = field(default_factory=list)
    clashes: list[str] = field(default_factory=list)


def _comment(text: str) -> str:
    """Text safe inside a YAML comment: one line, whatever a file name held."""
    return text if text.isprintable() else json.dumps(text)[1:-1]


def server_items(servers: list[ImportedServer], indent: int = 2) -> str:
    """The servers as block-list items at `indent`, each under a comment naming where it came from; a
    disabled one commented out."""
    pad = " " * indent
    lines: list[str] = []
    for server in servers:
        body = yaml.safe_dump([server.entry], sort_keys=False, default_flow_style=False, allow_unicode=True, width=1000)
        item = [pad + line if line else line for line in body.rstrip("\n").splitlines()]
        if server.disabled:
            lines.append(f"{pad}# disabled in {_comment(server.source)}; remove the '# ' to enable it")
            lines += [f"{pad}# {line[indent:]}" for line in item]
        else:
            lines.append(f"{pad}# from {_comment(server.source)}")
            lines += item
    return "\n".join(lines) + "\n" if lines else ""


def variables_comment(imported: Imported) -> str:
    if not imported.variables:
        return ""
    lines = ["# Set these environment variables before starting the gateway:"]
    lines += [f"#   {variable.name}: {_comment(variable.origin)}" for variable in imported.variables.values()]
    return "\n".join(lines) + "\n"


def render_config(imported: Imported, sources: list[Path]) -> str:
    """A whole mcpstead config holding the imported servers."""
    header = f"# Imported by `mcpstead import` from {_comment(', '.join(str(path) for path in sources))}.\n"
    return header + variables_comment(imported) + "servers:\n" + (server_items(imported.servers) or "  []\n")


def merge_into(text: str, file: str, imported: Imported) -> Merge:
    """`text` (a config) with the imported servers added at the end of its `servers:` list. A name the
    config already has is a clash: the config's server is kept and the imported one left out."""
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError([f"{file}: cannot merge into it: invalid YAML: {exc}"]) from None
    data = data if isinstance(data, dict) else {}
    existing = {entry.get("name") for entry in data.get("servers") or () if isinstance(entry, dict)}
    merge = Merge(text)
    kept = []
    # disabled ones written before, their names perhaps quoted (`'off'` is a boolean to YAML)
    commented = set(re.findall(r"""(?m)^[ \t]*#[ \t]*- name: ['"]?([A-Za-z0-9_-]+)['"]?[ \t]*$""", text))
    for server in imported.servers:
        if server.name in existing:
            merge.clashes.append(f"{file} already has a server named '{server.name}': kept; {server.source} left out")
        elif server.disabled and server.name in commented:
            merge.clashes.append(f"{file} already has '{server.name}' commented out: kept; {server.source} left out")
        else:
            kept.append(server)
            merge.added.append(server.name)
    if not kept:
        return merge
    node = _servers_node(root)
    if node is None:
        merge.text = text + ("" if text.endswith("\n") or not text else "\n") + "servers:\n" + server_items(kept)
    elif isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
        indent = max(node.value[0].start_mark.column - 2, 0)
        end = _after_last_item(text, node.value[-1], indent)
        before = text[:end] if text[:end].endswith("\n") else text[:end] + "\n"
        merge.text = before + server_items(kept, indent) + text[end:]
    elif (isinstance(node, yaml.SequenceNode) and not node.value) or (
        isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"
    ):
        start, end = node.start_mark.index, node.end_mark.index
        newline = text.find("\n", end)
        comment = (text[end:newline] if newline != -1 else text[end:]).rstrip()  # `servers: []  # ...` keeps it
        rest = text[newline + 1 :] if newline != -1 else ""
        merge.text = text[:start].rstrip(" ") + comment + "\n" + server_items(kept) + rest
    else:
        raise ConfigError([f"{file}: servers: write it as a block list ('- name: ...' lines) to merge into it"])
    return merge


def _after_last_item(text: str, item: yaml.Node, dash_column: int) -> int:
    """Where new items go: after the list's last item and the comments indented as list items (commented-out
    servers), before blank lines and the comments that introduce what follows: those less indented than the
    dashes, or, for a list at column 0, the block of comments right above the next key. (A node ends at the
    next token, past all of those.)"""
    end = text.find("\n", item.end_mark.index - 1)
    end = len(text) if end == -1 else end + 1
    item_line = text.rfind("\n", 0, item.start_mark.index) + 1
    next_key_below = bool(text[end:].strip())
    while end > item_line:
        line_start = text.rfind("\n", 0, end - 1) + 1
        line = text[line_start:end]
        content = line.strip()
        indent = len(line) - len(line.lstrip(" "))
        if not content:
            next_key_below = False  # a blank line: the comments above it are not the next key's
        else:
            introduces_next = indent < dash_column or (dash_column == 0 and next_key_below)
            if not content.startswith("#") or not introduces_next:
                break
        end = line_start
    return end


def _servers_node(root: yaml.Node | None) -> yaml.Node | None:
    if not isinstance(root, yaml.MappingNode):
        return None
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "servers":
            return value if isinstance(value, yaml.Node) else None
    return None


def check(text: str, file: str) -> None:
    """The config loader's verdict on `text`, with every variable taken as set."""
    try:
        parse_config(text, file, _AnyVariable(text))
    except ConfigError as exc:
        raise ClientConfigError(
            [f"the result would not be a valid config: {problem}" for problem in exc.problems]
        ) from None


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` by `text` in one rename, keeping its mode (a reader never sees half a file)."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
