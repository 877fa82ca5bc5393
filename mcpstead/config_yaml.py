"""The config file as YAML: parsed once into its data and its node tree, so a problem found in the data can
say where in the file it is (`gw.yaml:16:4:`). Lines and columns are 1-based, as editors count them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from mcpstead.errors import ConfigError


@dataclass(frozen=True)
class Position:
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.line}:{self.column}"

    @classmethod
    def of(cls, mark: yaml.Mark) -> Position:
        return cls(mark.line + 1, mark.column + 1)


class _DuplicateKey(Exception):
    def __init__(self, key: object, at: Position, first_line: int) -> None:
        super().__init__(f"duplicate key '{key}' (first given at line {first_line})")
        self.at = at


class _StrictLoader(yaml.SafeLoader):
    """yaml.SafeLoader, except that a key given twice in one mapping is an error (YAML says keys are unique;
    PyYAML keeps the last one silently). Merge keys (`<<: *base`) work as in PyYAML: a mapping's own keys
    override the merged ones, and only its own keys are checked for duplicates."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            at = Position.of(key_node.start_mark)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise _DuplicateKey(key, at, seen[key])
            if isinstance(key, str | int | float | bool):
                seen[key] = at.line
        return super().construct_mapping(node, deep)


@dataclass(frozen=True)
class YamlDocument:
    """A parsed file: its data (None when empty) and the node each part of it came from."""

    data: Any
    root: yaml.Node | None

    def position(self, path: str, *, at_key: bool = False) -> Position | None:
        """Where the part of the file at `path` (`servers[3].headers.X-Key`) is: its value, or its key with
        `at_key`. A path that goes past what the file has (a missing key) gives the deepest node that exists:
        the mapping that lacks the key."""
        node, key_node = self.root, None
        if node is None:
            return None
        rest = path
        while rest:
            step = _step(node, rest)
            if step is None:
                return Position.of(node.start_mark)
            key_node, node, rest = step
        target = key_node if at_key and key_node is not None else node
        return Position.of(target.start_mark)


def read_yaml(text: str, file: str) -> YamlDocument:
    """Parse `text` once, keeping its nodes. Raises ConfigError (`file:line:col: ...`) for a YAML syntax error
    or a key given twice."""
    loader: _StrictLoader | None = None
    try:
        loader = _StrictLoader(text)  # it checks every character at once
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        where = f":{Position.of(exc.problem_mark)}" if exc.problem_mark is not None else ""
        raise ConfigError([f"{file}{where}: invalid YAML: {exc.problem or exc}"]) from None
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        at = Position(before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1)
        raise ConfigError(
            [f"{file}:{at}: invalid YAML: unacceptable character #x{exc.character:04x}: {exc.reason}"]
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{file}: invalid YAML: {exc}"]) from None
    except _DuplicateKey as exc:
        raise ConfigError([f"{file}:{exc.at}: {exc}"]) from None
    finally:
        if loader is not None:
            loader.dispose()
    return YamlDocument(data, root)


def _step(node: yaml.Node, rest: str) -> tuple[yaml.Node | None, yaml.Node, str] | None:
    """One step down `rest` from `node`: (the key node if a mapping key was taken, the node reached, what
    is left of the path), or None when `node` has no such part."""
    if rest.startswith("["):
        index, _, after = rest[1:].partition("]")
        if isinstance(node, yaml.SequenceNode) and index.isdigit() and int(index) < len(node.value):
            return None, node.value[int(index)], after
        return None
    if not isinstance(node, yaml.MappingNode):
        return None
    rest = rest.removeprefix(".")
    # The longest key that the path continues from, so a key with a '.' in it (a header name) is found whole.
    matches = [
        (key_node, value_node)
        for key_node, value_node in node.value
        if isinstance(key_node, yaml.ScalarNode)
        and rest.startswith(key_node.value)
        and rest[len(key_node.value) : len(key_node.value) + 1] in ("", ".", "[")
    ]
    if not matches:
        return None
    key_node, value_node = sorted(matches, key=lambda pair: len(pair[0].value))[-1]  # a merge key's own wins
    return key_node, value_node, rest[len(key_node.value) :]
