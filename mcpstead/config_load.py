"""Reading config: YAML in, frozen validated models out, or a ConfigError listing every problem at once.

Every problem names the file, the line and column, the key path and what was expected, e.g.
`gw.yaml:9:5: servers[1] (name: b).reconnect: backoff_max_ms must be >= backoff_base_ms (1000), got 10`.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from mcpstead.config import (
    BEARER_TOKEN_ENV,
    INSTANCE_ID_ENV,
    MIN_BEARER_TOKEN,
    SERVER_NAME_PATTERN,
    GatewayConfig,
    instance_id_problem,
    redact_url,
    shown_value,
    type_name,
)
from mcpstead.config_yaml import YamlDocument, read_yaml
from mcpstead.errors import ConfigError
from mcpstead.secrets import Secret

CONFIG_ENV = "MCPSTEAD_CONFIG"
DEFAULT_CONFIG_PATH = Path("~/.config/mcpstead/config.yaml")
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SERVER_ENTRY = re.compile(r"servers\[(\d+)\]")


@dataclass(frozen=True)
class _Problem:
    path: str
    message: str
    at_key: bool
    """The key itself is the problem (unknown, or not allowed), so the position is the key's, not its value's."""
    outside: bool = False
    """Not in the file (an environment variable): no line and column."""


@dataclass
class _Problems:
    """Collects problems so all of them are reported together, in file order, each with its place in the file."""

    file: str
    document: YamlDocument
    items: list[_Problem] = field(default_factory=list)

    def add(self, path: str, message: str, *, at_key: bool = False, outside: bool = False) -> None:
        self.items.append(_Problem(path, message, at_key, outside))

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError([self._line(problem) for problem in self.items])

    def _line(self, problem: _Problem) -> str:
        at = None if problem.outside else self.document.position(problem.path, at_key=problem.at_key)
        where = f"{self.file}:{at}" if at is not None else self.file
        if not problem.path:
            return f"{where}: {problem.message}"
        return f"{where}: {_named(problem.path, self.document.data)}: {problem.message}"


def _named(path: str, data: Any) -> str:
    """The path with ` (name: NAME)` after `servers[i]` when that entry has a string name: an index alone is
    hard to find in a long file."""
    entry = _SERVER_ENTRY.match(path)
    servers = data.get("servers") if isinstance(data, dict) else None
    if entry is None or not isinstance(servers, list) or int(entry.group(1)) >= len(servers):
        return path
    server = servers[int(entry.group(1))]
    name = server.get("name") if isinstance(server, dict) else None
    if not isinstance(name, str):
        return path
    return f"{entry.group(0)} (name: {name}){path[entry.end() :]}"


def resolve_config_path(flag: str | None, environ: Mapping[str, str] = os.environ) -> Path:
    """--config wins over MCPSTEAD_CONFIG, which wins over ~/.config/mcpstead/config.yaml."""
    if flag:
        return Path(flag)
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV])
    return DEFAULT_CONFIG_PATH.expanduser()


def load_config(path: str | Path, environ: Mapping[str, str] = os.environ) -> GatewayConfig:
    """Read, expand and validate a config file. Raises ConfigError listing every problem."""
    shown = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{shown}: cannot read the config file: {exc.strerror or exc}"]) from None
    return parse_config(text, shown, environ)


def parse_config(text: str, file: str, environ: Mapping[str, str] = os.environ) -> GatewayConfig:
    document = read_yaml(text, file)
    problems = _Problems(file, document)
    raw = {} if document.data is None else document.data
    if not isinstance(raw, dict):
        problems.add("", f"the top level must be a mapping of keys, got {type_name(raw)}")
        problems.raise_if_any()

    written = raw
    raw = _check_raw(raw, problems, environ)
    config: GatewayConfig | None = None
    try:
        config = GatewayConfig.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            problems.add(_format_loc(error["loc"]), _describe(error), at_key=error["type"] == "extra_forbidden")
    problems.items.sort(key=lambda item: _path_order(written, item.path))  # as written: a dropped key keeps its place
    instance_id = _instance_id_from_env(environ, problems)
    problems.raise_if_any()
    assert config is not None
    if instance_id is not None:
        config = config.model_copy(update={"instance_id": instance_id})
    config._path = file
    if config.mcp.auth.mode == "bearer":
        config._bearer_token = Secret(environ[BEARER_TOKEN_ENV])
    for index, server in enumerate(config.servers):
        if server.auth.token_env is not None:
            server.auth._token = Secret(environ[server.auth.token_env])
        server._target_as_written = _target_as_written(written["servers"][index])
    return config


def _instance_id_from_env(environ: Mapping[str, str], problems: _Problems) -> str | None:
    """$MCPSTEAD_INSTANCE_ID, which overrides the file's `instance_id` (empty: unset, as in the shell)."""
    value = environ.get(INSTANCE_ID_ENV) or None
    problem = instance_id_problem(value) if value is not None else None
    if problem is not None:
        problems.add("", f"environment variable {INSTANCE_ID_ENV}: {problem}", outside=True)
        return None
    return value


def _target_as_written(server: dict[str, Any]) -> str:
    """The upstream's URL or command line before `${VAR}` expansion: what is shown, so a secret passed in
    through a variable never appears in /health, the dashboard or `check`."""
    if isinstance(server.get("url"), str):
        return redact_url(server["url"])
    return " ".join(str(part) for part in [server.get("command", ""), *server.get("args", ())])


def _check_raw(raw: dict[str, Any], problems: _Problems, environ: Mapping[str, str]) -> dict[str, Any]:
    """Checks the models cannot express: secrets in the file, names, duplicates and the environment.

    Returns a copy of `raw` with `${VAR}` references expanded and already-reported keys removed, so the
    model validation that follows reports each problem once.
    """
    raw = dict(raw)
    mcp = raw.get("mcp")
    if isinstance(mcp, dict) and isinstance(mcp.get("auth"), dict):
        auth = dict(mcp["auth"])
        if "bearer_token" in auth:
            problems.add(
                "mcp.auth.bearer_token",
                f"is not allowed in the file; set {BEARER_TOKEN_ENV} in the environment",
                at_key=True,
            )
            del auth["bearer_token"]
        token = environ.get(BEARER_TOKEN_ENV, "")
        if auth.get("mode") == "bearer" and not token.strip():
            problems.add("mcp.auth.mode", f"bearer mode needs the environment variable {BEARER_TOKEN_ENV} set")
        elif auth.get("mode") == "bearer" and (len(token) < MIN_BEARER_TOKEN or token != token.strip()):
            problems.add(
                "mcp.auth.mode",
                f"{BEARER_TOKEN_ENV} must be at least {MIN_BEARER_TOKEN} characters with no surrounding spaces "
                f"(it has {len(token)}); `python -c 'import secrets; print(secrets.token_urlsafe(32))'` makes one",
            )
        raw["mcp"] = {**mcp, "auth": auth}

    servers = raw.get("servers")
    if not isinstance(servers, list):
        return raw
    seen: dict[str, int] = {}
    expanded_servers: list[Any] = []
    for index, server in enumerate(servers):
        where = f"servers[{index}]"
        if not isinstance(server, dict):
            expanded_servers.append(server)
            continue
        server = dict(server)
        name = server.get("name")
        if isinstance(name, str):
            if not SERVER_NAME_PATTERN.match(name):
                problems.add(
                    f"{where}.name",
                    f"'{name}' must be letters and digits, separated by single '-' or '_' "
                    "(no '__', no leading or trailing separator), so '<server>__<tool>' splits unambiguously",
                )
            elif name in seen:
                problems.add(f"{where}.name", f"duplicate server name '{name}' (also servers[{seen[name]}])")
            else:
                seen[name] = index
        server_auth = server.get("auth")
        if isinstance(server_auth, dict):
            if "token" in server_auth:
                problems.add(
                    f"{where}.auth.token", "is not allowed; use token_env to name an environment variable", at_key=True
                )
                server_auth = {key: value for key, value in server_auth.items() if key != "token"}
                server["auth"] = server_auth
            token_env = server_auth.get("token_env")
            if isinstance(token_env, str) and token_env and token_env not in environ:
                problems.add(f"{where}.auth.token_env", f"environment variable '{token_env}' is not set")
        for key in ("headers", "env"):
            values = server.get(key)
            if isinstance(values, dict):
                server[key] = {
                    name_: _expand(value, f"{where}.{key}.{name_}", problems, environ)
                    for name_, value in values.items()
                }
        for key in ("url", "command", "cwd"):
            if key in server:
                server[key] = _expand(server[key], f"{where}.{key}", problems, environ)
        if isinstance(server.get("args"), list):
            server["args"] = [
                _expand(arg, f"{where}.args[{position}]", problems, environ)
                for position, arg in enumerate(server["args"])
            ]
        expanded_servers.append(server)
    raw["servers"] = expanded_servers
    return raw


def _expand(value: Any, path: str, problems: _Problems, environ: Mapping[str, str]) -> Any:
    """Expand `${VAR}` and `${VAR:-default}`; a missing variable without default is a problem."""
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        variable, default = match.group(1), match.group(2)
        if environ.get(variable):
            return environ[variable]
        if default is not None:  # as in the shell: `:-` covers unset and empty
            return default
        if variable in environ:
            return ""
        problems.add(
            path,
            f"environment variable '{variable}' is not set (write ${{{variable}:-default}} for a default)",
        )
        return ""

    return _ENV_REFERENCE.sub(substitute, value)


def _format_loc(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.startswith("function-") or part in {"str", "dict[str,any]"}:
            continue
        else:
            text += f".{part}" if text else part
    return text


_TYPE_WORDS = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "a string",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "tuple_type": "a list",
}


SECRET_KEYS = frozenset({"headers", "env", "auth"})
"""Where users keep (or paste by mistake) credentials: values found there are never echoed."""


def _describe(error: Any) -> str:
    kind = error["type"]
    secret = any(part in SECRET_KEYS for part in error["loc"] if isinstance(part, str))
    value = "<hidden>" if secret else error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        allowed = _allowed_keys(error["loc"][:-1])
        key = error["loc"][-1]
        close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.75)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return "unknown key" + (f" ({hint}expected one of: {', '.join(allowed)})" if allowed else "")
    if kind == "missing":
        return "is required"
    if kind in _TYPE_WORDS:
        if secret:
            return f"expected {_TYPE_WORDS[kind]}, got {type_name(error.get('input'))}"
        shown = shown_value(value)
        return f"expected {_TYPE_WORDS[kind]}, got {type_name(value)}" + (f" {shown}" if shown else "")
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected')}, got {shown_value(value)}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        sign = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}[kind]
        bound = next(iter(ctx.values()))
        return f"must be {sign} {bound}, got {shown_value(value)}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return str(error["msg"])


def _allowed_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys the model at `loc` accepts, to turn a typo into a suggestion."""
    model: Any = GatewayConfig
    for part in loc:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part) if isinstance(model, type) and issubclass(model, BaseModel) else None
        if info is None:
            return []
        model = _model_in(info.annotation)
        if model is None:
            return []
    return list(model.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        for argument in typing.get_args(annotation):
            found = _model_in(argument)
            if found is not None:
                return found
    return None


def _path_order(raw: Any, path: str) -> tuple[int, ...]:
    """Sort key putting problems in file order: each path segment's position in its mapping or list."""
    order: list[int] = []
    node = raw
    for key, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        if index:
            position = int(index)
            node = node[position] if isinstance(node, list) and position < len(node) else None
        else:
            keys = list(node) if isinstance(node, dict) else []
            position = keys.index(key) if key in keys else len(keys)
            node = node.get(key) if isinstance(node, dict) else None
        order.append(position)
    # A problem with a whole entry comes after the problems with its keys.
    return (*order, sys.maxsize)
