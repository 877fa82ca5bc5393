"""Config: YAML in, frozen validated models out, or a ConfigError listing every problem at once.

Every problem names the file, the key path and what was expected, e.g.
`gw.yaml: servers[1].reconnect.backoff_max_ms: must be >= backoff_base_ms (1000), got 10`.
The key set is the reference gateway's, plus stdio upstreams and per-upstream call timeouts.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
import re
import sys
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from mcpstead.errors import ConfigError
from mcpstead.secrets import Secret

BEARER_TOKEN_ENV = "MCPSTEAD_BEARER_TOKEN"
MIN_BEARER_TOKEN = 16
"""Shorter downstream tokens are refused: a guessable token is no protection for a daemon others can reach."""
CONFIG_ENV = "MCPSTEAD_CONFIG"
DEFAULT_CONFIG_PATH = Path("~/.config/mcpstead/config.yaml")
DEFAULT_ACCEPT = "application/json, text/event-stream"
SERVER_NAME_PATTERN = re.compile(r"^[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*$")
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def redact_url(url: str) -> str:
    """The URL with any password in it replaced by `***`, for everything that shows a URL."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return url.split("@")[-1] if "@" in url else url
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}{port}"))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class AuthConfig(_Model):
    mode: Literal["none", "bearer"] = "none"


class SessionConfig(_Model):
    idle_ttl_seconds: int = Field(3600, gt=0)
    gc_interval_seconds: int = Field(60, gt=0)
    shutdown_grace_seconds: float = Field(5, gt=0)


class McpConfig(_Model):
    auth: AuthConfig = AuthConfig()
    session: SessionConfig = SessionConfig()
    max_body_bytes: int = Field(2 * 1024 * 1024, ge=1024)
    """Requests larger than this get 413 (the reference's limit is 2 MiB)."""
    allowed_origins: tuple[str, ...] = Field((), strict=False)
    """Browser origins allowed besides the loopback ones, e.g. `http://localhost:5173`."""
    allowed_hosts: tuple[str, ...] = Field((), strict=False)
    """Host header values allowed besides loopback names when bound to loopback."""


class UpstreamAuthConfig(_Model):
    type: Literal["none", "bearer"] = "none"
    token_env: str | None = Field(None, min_length=1)
    _token: Secret | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _bearer_needs_token_env(self) -> UpstreamAuthConfig:
        if self.type == "bearer" and self.token_env is None:
            raise ValueError("bearer auth requires token_env (the name of an environment variable)")
        return self

    @property
    def token(self) -> Secret | None:
        return self._token


class ReconnectConfig(_Model):
    max_attempts: int = Field(0, ge=0)
    backoff_base_ms: int = Field(1000, ge=1)
    backoff_max_ms: int = Field(30000, ge=1)

    @model_validator(mode="after")
    def _max_not_below_base(self) -> ReconnectConfig:
        if self.backoff_max_ms < self.backoff_base_ms:
            raise ValueError(
                f"backoff_max_ms must be >= backoff_base_ms ({self.backoff_base_ms}), got {self.backoff_max_ms}"
            )
        return self


class NameFilter(_Model):
    """Glob lists over an upstream's own names (URIs for resources): a name is offered when it matches some
    `include` pattern (all names when `include` is empty) and no `exclude` pattern. A name not offered cannot
    be called either."""

    include: tuple[str, ...] = Field((), strict=False)
    exclude: tuple[str, ...] = Field((), strict=False)

    def allows(self, name: str) -> bool:
        if self.include and not any(fnmatch.fnmatchcase(name, pattern) for pattern in self.include):
            return False
        return not any(fnmatch.fnmatchcase(name, pattern) for pattern in self.exclude)


class ToolsConfig(NameFilter):
    ttl_seconds: int = Field(300, ge=1)
    """How often the upstream's lists (tools, prompts, resources, templates) are fetched again."""


class QuirksConfig(_Model):
    normalize_sse_events: bool = False
    inject_accept_header: str | None = None


class ServerConfig(_Model):
    name: str
    url: str | None = None
    command: str | None = Field(None, min_length=1)
    args: tuple[str, ...] = Field((), strict=False)
    env: dict[str, str] = Field(default_factory=dict, repr=False)
    cwd: str | None = None
    protocol: Literal["auto", "streamable", "sse", "stdio"] = "auto"
    required: bool = False
    auth: UpstreamAuthConfig = UpstreamAuthConfig()
    headers: dict[str, str] = Field(default_factory=dict, repr=False)
    quirks: QuirksConfig = QuirksConfig()
    reconnect: ReconnectConfig = ReconnectConfig()
    tools: ToolsConfig = ToolsConfig()
    tls_skip_verify: bool = False
    timeout_seconds: float = Field(60, gt=0, le=86400)
    health_check_seconds: float = Field(15, gt=0, le=86400)
    """How often a ready upstream is pinged, so a dead one is noticed without waiting for a call."""
    prompts: NameFilter = NameFilter()
    resources: NameFilter = NameFilter()
    """Filters resource URIs and resource template URI templates."""
    prefix: bool = True
    """Tools and prompts appear as `<server>__<name>`; with `false` their names pass through unchanged."""
    inherit_env: Literal["minimal", "all"] | tuple[str, ...] = "minimal"
    """stdio: which of the gateway's environment variables the child gets besides `env`. `minimal` (PATH,
    HOME, USER, LANG, TERM, TMPDIR, TZ, LC_* and the like), `all`, or a list of names added to minimal."""
    describe_prefix: bool = False
    """Start each tool and prompt description with `[<server>] `. Off by default: the qualified name already
    says where a tool comes from, and the gateway changes nothing but names."""
    session: Literal["shared", "per_client"] = "shared"
    """`shared`: one upstream session for every client. `per_client`: one upstream session per downstream
    session, opened at its first request with that client's capabilities, closed when it ends."""
    max_sessions: int = Field(32, ge=1)
    """With `session: per_client`, at most this many upstream sessions at once."""

    @field_validator("inherit_env", mode="before")
    @classmethod
    def _names_as_tuple(cls, value: Any) -> Any:
        if value in ("minimal", "all"):
            return value
        if isinstance(value, list) and all(isinstance(name, str) and name for name in value):
            return tuple(value)
        raise ValueError(
            f"expected 'minimal', 'all' or a list of environment variable names, got {_show(value) or _type_name(value)}"
        )

    @field_validator("auth", mode="before")
    @classmethod
    def _auth_shorthand(cls, value: Any) -> Any:
        if value is None or value == "none":
            return {"type": "none"}
        if isinstance(value, str):
            raise ValueError("expected 'none' or a mapping with 'type' (for example {type: bearer, token_env: VAR})")
        return value

    @model_validator(mode="after")
    def _one_transport(self) -> ServerConfig:
        if (self.url is None) == (self.command is None):
            raise ValueError("needs exactly one of 'url' (an HTTP upstream) or 'command' (a stdio upstream)")
        if self.url is not None:
            if not re.match(r"^https?://[^/\s]+", self.url):
                raise ValueError(f"url must be an http:// or https:// URL, got '{redact_url(self.url)}'")
            if urlsplit(self.url).password is not None and self.auth.type == "bearer":
                raise ValueError(
                    "url carries a user and password, which cannot be combined with auth: bearer (both need the "
                    "Authorization header); keep one of them"
                )
            if self.protocol == "stdio":
                raise ValueError("protocol 'stdio' needs 'command', not 'url'")
            stray: list[str] = [key for key in ("args", "env", "cwd", "inherit_env") if key in self.model_fields_set]
            if stray:
                raise ValueError(f"{', '.join(stray)} only apply to stdio upstreams (with 'command')")
        else:
            if self.protocol not in ("auto", "stdio"):
                raise ValueError(f"protocol '{self.protocol}' needs 'url'; a 'command' upstream speaks stdio")
            stray = [key for key in ("headers", "auth", "tls_skip_verify", "quirks") if key in self.model_fields_set]
            if stray:
                raise ValueError(f"{', '.join(stray)} only apply to HTTP upstreams (with 'url')")
        return self

    @property
    def transport(self) -> Literal["streamable-http", "sse", "stdio"]:
        """The configured transport; `protocol: auto` HTTP upstreams start with Streamable HTTP."""
        if self.command is not None:
            return "stdio"
        return "sse" if self.protocol == "sse" else "streamable-http"

    @property
    def target(self) -> str:
        """Where the upstream lives, for display: its URL or its command line (never env or headers)."""
        if self.url is not None:
            return redact_url(self.url)
        return " ".join([self.command or "", *self.args])


class LimitsConfig(_Model):
    """Bounds on what clients may hold (issue 10 adds more here)."""

    header_read_seconds: float = Field(10, gt=0, le=3600)
    """A client must send a request's headers within this long of starting it (or of connecting)."""
    body_read_seconds: float = Field(30, gt=0, le=3600)
    """... and its body within this long of the headers: a slow client cannot hold a connection."""
    sessions: int = Field(1000, ge=1)
    """Downstream sessions open at once; one more initialize gets 503."""
    sessions_per_client: int = Field(100, ge=1)
    """... of them from one client address; one more gets 429."""
    get_streams: int = Field(1000, ge=1)
    """GET streams open at once; one more gets 503."""
    calls_in_flight: int = Field(512, ge=1)
    """Forwarded requests waiting on upstreams at once, all sessions together ..."""
    calls_per_session: int = Field(64, ge=1)
    """... and per session; past either, a request is answered at once with -32000 saying which limit."""
    items_per_upstream: int = Field(10_000, ge=1)
    """Tools, prompts, resources and templates taken from one upstream, each; past it the list is cut (and
    reported as a catalog problem), so an upstream that pages forever cannot fill memory."""
    stderr_lines: int = Field(200, ge=1, le=100_000)
    """Lines of each stdio child's stderr kept for /health and the dashboard."""
    relay_wait_seconds: float = Field(600, gt=0, le=86400)
    """The longest a server-to-client request relayed to a client may wait for its answer (it never waits
    past its call's own timeout either)."""
    json_depth: int = Field(64, ge=8, le=500)
    """How many arrays and objects deep a client's message may nest; deeper gets 400 with -32700. The
    default leaves room for deeply structured tool arguments while keeping every walk over them cheap."""
    upstream_message_bytes: int = Field(64 * 1024 * 1024, ge=64 * 1024)
    """The largest message an upstream may send (an HTTP answer, an SSE event, a stdio line); a bigger one is
    refused as it arrives, so memory stays bounded (the call gets -32000 saying so)."""


class MetricsConfig(_Model):
    enabled: bool = True


class LoggingConfig(_Model):
    level: Literal["trace", "debug", "info", "warn", "warning", "error", "critical"] = "info"

    @field_validator("level", mode="before")
    @classmethod
    def _lowercase(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


class GatewayConfig(_Model):
    host: str = "127.0.0.1"
    port: int = Field(8766, ge=0, le=65535)
    mcp: McpConfig = McpConfig()
    servers: tuple[ServerConfig, ...] = Field((), strict=False)
    metrics: MetricsConfig = MetricsConfig()
    logging: LoggingConfig = LoggingConfig()
    limits: LimitsConfig = LimitsConfig()
    _path: str = PrivateAttr(default="")
    _bearer_token: Secret | None = PrivateAttr(default=None)

    @property
    def path(self) -> str:
        return self._path

    @property
    def bearer_token(self) -> Secret | None:
        return self._bearer_token

    def server(self, name: str) -> ServerConfig | None:
        return next((server for server in self.servers if server.name == name), None)


@dataclass
class _Problems:
    """Collects problems as (key path, message) so all of them are reported together, in file order."""

    file: str
    items: list[tuple[str, str]] = field(default_factory=list)

    def add(self, path: str, message: str) -> None:
        self.items.append((path, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(
                [
                    f"{self.file}: {path}: {message}" if path else f"{self.file}: {message}"
                    for path, message in self.items
                ]
            )


class _DuplicateKey(Exception):
    pass


class _StrictLoader(yaml.SafeLoader):
    """yaml.SafeLoader, except that a key given twice in one mapping is an error (YAML says keys are unique;
    PyYAML keeps the last one silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if isinstance(key, str | int | float | bool) and key in seen:
                raise _DuplicateKey(f"line {line}: duplicate key '{key}' (first given at line {seen[key]})")
            if isinstance(key, str | int | float | bool):
                seen[key] = line
        return super().construct_mapping(node, deep)


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
    problems = _Problems(file)
    try:
        raw = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader that also refuses duplicate keys
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{file}: invalid YAML{where}: {problem}"]) from None
    except _DuplicateKey as exc:
        raise ConfigError([f"{file}: {exc}"]) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError([f"{file}: the top level must be a mapping of keys, got {_type_name(raw)}"])

    raw = _check_raw(raw, problems, environ)
    config: GatewayConfig | None = None
    try:
        config = GatewayConfig.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            problems.add(_format_loc(error["loc"]), _describe(error))
    problems.items.sort(key=lambda item: _path_order(raw, item[0]))
    problems.raise_if_any()
    assert config is not None
    config._path = file
    if config.mcp.auth.mode == "bearer":
        config._bearer_token = Secret(environ[BEARER_TOKEN_ENV])
    for server in config.servers:
        if server.auth.token_env is not None:
            server.auth._token = Secret(environ[server.auth.token_env])
    return config


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
                problems.add(f"{where}.auth.token", "is not allowed; use token_env to name an environment variable")
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
            return f"expected {_TYPE_WORDS[kind]}, got {_type_name(error.get('input'))}"
        shown = _show(value)
        return f"expected {_TYPE_WORDS[kind]}, got {_type_name(value)}" + (f" {shown}" if shown else "")
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected')}, got {_show(value)}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        sign = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}[kind]
        bound = next(iter(ctx.values()))
        return f"must be {sign} {bound}, got {_show(value)}"
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


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    text = repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."
