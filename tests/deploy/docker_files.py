"""Reading the Dockerfile (with the `dockerfile-parse` library), .dockerignore and compose.yaml for the tests."""

from __future__ import annotations

import fnmatch
import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from dockerfile_parse import DockerfileParser  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "compose.yaml"
CONTAINER_CONFIG = ROOT / "deploy" / "config.yaml"
CONFIG_IN_IMAGE = "/etc/mcpstead/config.yaml"


@dataclass(frozen=True)
class Instruction:
    name: str
    value: str


@dataclass(frozen=True)
class Stage:
    base: str
    alias: str | None
    instructions: tuple[Instruction, ...]

    def all(self, name: str) -> list[str]:
        return [i.value for i in self.instructions if i.name == name]

    def last(self, name: str) -> str | None:
        values = self.all(name)
        return values[-1] if values else None


def stages() -> list[Stage]:
    """The Dockerfile's stages, ARG and ENV substituted by the parser (global ARGs in FROM too), comments
    dropped."""
    parser = DockerfileParser(path=str(DOCKERFILE))
    bases = iter(parser.parent_images)
    found: list[Stage] = []
    base: str | None = None
    alias: str | None = None
    current: list[Instruction] = []
    for entry in parser.structure:
        name, value = str(entry["instruction"]), str(entry["value"])
        if name == "COMMENT":
            continue
        if name == "FROM":
            if base is not None:
                found.append(Stage(base, alias, tuple(current)))
            words = value.split()
            base = str(next(bases))
            alias = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            current = []
        elif base is not None:
            current.append(Instruction(name, value))
    assert base is not None, "the Dockerfile has no FROM"
    found.append(Stage(base, alias, tuple(current)))
    return found


def exec_form(value: str) -> list[str]:
    """A JSON-array instruction value (ENTRYPOINT, CMD, HEALTHCHECK's CMD); the shell form is refused,
    since it runs under /bin/sh and signals would not reach mcpstead."""
    words = json.loads(value)
    assert isinstance(words, list) and all(isinstance(word, str) for word in words), value
    return words


def healthcheck(stage: Stage) -> tuple[dict[str, str], list[str]]:
    """HEALTHCHECK's --options and its exec-form command."""
    value = stage.last("HEALTHCHECK")
    assert value is not None, "the runtime stage has no HEALTHCHECK"
    options, _, command = value.partition("CMD")
    parsed = dict(option.removeprefix("--").split("=", 1) for option in shlex.split(options))
    return parsed, exec_form(command.strip())


def copies(stage: Stage) -> list[tuple[list[str], list[str], str]]:
    """Each COPY of a stage as (--flags, sources, destination)."""
    found = []
    for value in stage.all("COPY"):
        words = shlex.split(value)
        flags = [word for word in words if word.startswith("--")]
        paths = [word for word in words if not word.startswith("--")]
        found.append((flags, paths[:-1], paths[-1]))
    return found


def ignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` (relative to the context) out of the build context: the last
    pattern that matches the path or one of its parent directories decides; `!` lets it back in."""
    result = False
    parts = Path(path).parts
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    for line in DOCKERIGNORE.read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = pattern.removeprefix("!").strip("/")
        anywhere = pattern.startswith("**/")
        pattern = pattern.removeprefix("**/")
        if any(fnmatch.fnmatchcase(candidate, pattern) for candidate in candidates) or (
            anywhere and any(fnmatch.fnmatchcase(part, pattern) for part in parts)
        ):
            result = not negated
    return result


def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(document, dict)
    return document


def container_config() -> dict[str, Any]:
    document = yaml.safe_load(CONTAINER_CONFIG.read_text())
    assert isinstance(document, dict)
    return document
