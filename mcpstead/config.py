"""The config schema: frozen pydantic models with their defaults and the checks a model can express.

Reading a file into these models, and every error message about it, is `config_load.py`. The key set is
the reference gateway's, plus stdio upstreams, per-upstream call timeouts and mcpstead's own options.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
import typing
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.config import JsonDict

from mcpstead.secrets import Secret

BEARER_TOKEN_ENV = "MCPSTEAD_BEARER_TOKEN"
MIN_BEARER_TOKEN = 16
"""Shorter downstream tokens are refused: a guessable token is no protection for a daemon others can reach."""
DEFAULT_ACCEPT = "application/json, text/event-stream"
SERVER_NAME_PATTERN = re.compile(r"^[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*$")
INSTANCE_ID_ENV = "MCPSTEAD_INSTANCE_ID"
INSTANCE_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
INSTANCE_ID_RULE = "1 to 32 letters, digits, '-' or '_'"
"""An instance id never holds '.', the separator in the session ids it prefixes (`<instance_id>.<random>`),
nor anything a proxy's regex or a header would need escaped."""


def instance_id_problem(value: str) -> str | None:
    """Why `value` cannot be an instance id, or None when it can."""
    if INSTANCE_ID_PATTERN.fullmatch(value):
        return None
    return f"{value!r} is not an instance id: it must be {INSTANCE_ID_RULE}"


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
    """The keys' docstrings are their documentation; config_schema reads them only when it writes the schema
    (pydantic's use_attribute_docstrings would parse this file's source at every start: ~30 ms)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class AuthConfig(_Model):
    mode: Literal["none", "bearer"] = "none"
    """`bearer`: every /mcp request must carry `Authorization: Bearer <token>`, the token read from
    MCPSTEAD_BEARER_TOKEN (never from the file). `none`: anyone who can reach the port may call."""


class SessionConfig(_Model):
    idle_ttl_seconds: int = Field(3600, gt=0)
    """A downstream session idle for longer than this is ended, so forgotten clients do not pile up."""
    gc_interval_seconds: int = Field(60, gt=0)
    """How often idle sessions are looked for."""
    shutdown_grace_seconds: float = Field(5, gt=0)
    """On shutdown, how long in-flight requests may take to finish before they get an error."""


class McpConfig(_Model):
    auth: AuthConfig = AuthConfig()
    """Who may use /mcp."""
    session: SessionConfig = SessionConfig()
    """How long downstream sessions live."""
    max_body_bytes: int = Field(2 * 1024 * 1024, ge=1024)
    """Requests larger than this get 413 (the reference's limit is 2 MiB)."""
    allowed_origins: tuple[str, ...] = Field((), strict=False)
    """Browser origins allowed besides the loopback ones, e.g. `http://localhost:5173`."""
    allowed_hosts: tuple[str, ...] = Field((), strict=False)
    """Host header values allowed besides loopback names when bound to loopback."""
    trusted_proxies: tuple[str, ...] = Field((), strict=False)
    """Addresses or networks of reverse proxies (nginx) in front of the gateway, e.g. `127.0.0.1`: a
    request from one of them is counted against limits.sessions_per_client by the client address the
    proxy puts last in X-Forwarded-For, not by the proxy's own."""

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"'{entry}' is not an IP address or network (like 127.0.0.1 or 10.0.0.0/8)") from None
        return value


class UpstreamAuthConfig(_Model):
    type: Literal["none", "bearer"] = "none"
    """`bearer` sends `Authorization: Bearer <token>` upstream; `none` sends no credentials."""
    token_env: str | None = Field(None, min_length=1)
    """The environment variable holding the bearer token: the token itself never goes in the file."""
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
    """0 retries forever; N marks the upstream failed after N failures in a row (until a reload or a
    reconnect from the dashboard)."""
    backoff_base_ms: int = Field(1000, ge=1)
    """The delay after failure n is this times 2^(n-1), capped at backoff_max_ms, with jitter."""
    backoff_max_ms: int = Field(30000, ge=1)
    """The longest delay between two attempts."""

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
    """Globs; when any are given, only the names matching one are offered (empty: every name)."""
    exclude: tuple[str, ...] = Field((), strict=False)
    """Globs; a matching name is neither offered nor callable, even when included."""

    def allows(self, name: str) -> bool:
        if not self.include and not self.exclude:  # the usual case, asked for every item at every rebuild
            return True
        if self.include and not any(fnmatch.fnmatchcase(name, pattern) for pattern in self.include):
            return False
        return not any(fnmatch.fnmatchcase(name, pattern) for pattern in self.exclude)


class ToolsConfig(NameFilter):
    ttl_seconds: int = Field(300, ge=1)
    """How often the upstream's lists (tools, prompts, resources, templates) are fetched again."""


class QuirksConfig(_Model):
    normalize_sse_events: bool = False
    """Take every SSE event as a message whatever its `event:` name, for servers that name theirs."""
    inject_accept_header: str | None = None
    """The Accept header sent upstream instead of `application/json, text/event-stream`, for servers
    that want another."""


STDIO_ONLY_KEYS = ("args", "env", "cwd", "inherit_env")
HTTP_ONLY_KEYS = ("headers", "auth", "tls_skip_verify", "quirks")
_ONE_TRANSPORT: JsonDict = {
    "oneOf": [
        {
            "required": ["url"],
            "properties": {"protocol": {"not": {"const": "stdio"}}, **dict.fromkeys(STDIO_ONLY_KEYS, False)},
        },
        {
            "required": ["command"],
            "properties": {"protocol": {"enum": ["auto", "stdio"]}, **dict.fromkeys(HTTP_ONLY_KEYS, False)},
        },
    ]
}
"""`_one_transport` for editors: exactly one of `url` or `command`, and only the keys of that transport."""


class ServerConfig(_Model):
    model_config = ConfigDict(json_schema_extra=_ONE_TRANSPORT)

    name: str = Field(json_schema_extra={"pattern": SERVER_NAME_PATTERN.pattern})
    """Letters and digits, single `-` or `_` between them: the prefix of its tools and prompts
    (`<name>__<tool>`), so it must split unambiguously."""
    url: str | None = None
    """An HTTP upstream's MCP endpoint (Streamable HTTP or legacy HTTP+SSE). Exactly one of `url` and
    `command` is given."""
    command: str | None = Field(None, min_length=1)
    """A stdio upstream: the program to start as a child speaking newline-delimited JSON-RPC (`mcpstead`
    means this installation)."""
    args: tuple[str, ...] = Field((), strict=False)
    """stdio: the program's arguments."""
    env: dict[str, str] = Field(default_factory=dict, repr=False)
    """stdio: variables added to the child's environment; values may use `${VAR}` or `${VAR:-default}`."""
    cwd: str | None = None
    """stdio: the directory the child runs in (by default the gateway's)."""
    protocol: Literal["auto", "streamable", "sse", "stdio"] = "auto"
    """The transport. HTTP: `auto` tries Streamable HTTP and falls back to legacy HTTP+SSE, `streamable`
    and `sse` speak only that one. A `command` upstream speaks `stdio` (`auto` says the same)."""
    required: bool = False
    """The gateway waits (30 s at most) for this upstream at start-up, and exits 1 if it does not come up."""
    auth: UpstreamAuthConfig = UpstreamAuthConfig()
    """HTTP: `none`, or `{type: bearer, token_env: VAR}` to send a bearer token read from the environment."""
    headers: dict[str, str] = Field(default_factory=dict, repr=False)
    """HTTP: extra request headers, replacing defaults of the same name; values may use `${VAR}` or
    `${VAR:-default}`, so secrets stay in the environment."""
    quirks: QuirksConfig = QuirksConfig()
    """HTTP: workarounds for servers that bend the transport's rules."""
    reconnect: ReconnectConfig = ReconnectConfig()
    """How a lost upstream (or a crashed stdio child) is retried."""
    tools: ToolsConfig = ToolsConfig()
    """Which of the upstream's tools are offered, and how often its lists are fetched again."""
    tls_skip_verify: bool = False
    """HTTP: accept any TLS certificate (trusted local networks only)."""
    timeout_seconds: float = Field(60, gt=0, le=86400)
    """The bound on every request to this upstream, requests relayed to a client included."""
    health_check_seconds: float = Field(15, gt=0, le=86400)
    """How often a ready upstream is pinged, so a dead one is noticed without waiting for a call."""
    prompts: NameFilter = NameFilter()
    """Which of the upstream's prompts are offered (globs over its prompt names)."""
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
    protocol_version: Literal["auto", "2026-07-28", "2025-11-25"] = "auto"
    """The era to speak upstream (Streamable HTTP and stdio). 2026-07-28: server/discover and an envelope on
    every request, no session. 2025-11-25: the 2025 handshake (negotiating down as the server wants). auto:
    server/discover first, then the handshake; 2026-07-28 to a server that takes only the first, a 2025
    session with one that takes both (it keeps push-style requests, subscriptions, per-client sessions)."""

    @field_validator(
        "inherit_env",
        mode="before",
        json_schema_input_type=Literal["minimal", "all"] | list[Annotated[str, Field(min_length=1)]],
    )
    @classmethod
    def _names_as_tuple(cls, value: Any) -> Any:
        if value in ("minimal", "all"):
            return value
        if isinstance(value, list) and all(isinstance(name, str) and name for name in value):
            return tuple(value)
        raise ValueError(
            f"expected 'minimal', 'all' or a list of environment variable names, got {shown_value(value) or type_name(value)}"
        )

    @field_validator("auth", mode="before", json_schema_input_type=UpstreamAuthConfig | Literal["none"] | None)
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
            stray: list[str] = [key for key in STDIO_ONLY_KEYS if key in self.model_fields_set]
            if stray:
                raise ValueError(f"{', '.join(stray)} only apply to stdio upstreams (with 'command')")
        else:
            if self.protocol not in ("auto", "stdio"):
                raise ValueError(f"protocol '{self.protocol}' needs 'url'; a 'command' upstream speaks stdio")
            stray = [key for key in HTTP_ONLY_KEYS if key in self.model_fields_set]
            if stray:
                raise ValueError(f"{', '.join(stray)} only apply to HTTP upstreams (with 'url')")
        return self

    @property
    def transport(self) -> Literal["streamable-http", "sse", "stdio"]:
        """The configured transport; `protocol: auto` HTTP upstreams start with Streamable HTTP."""
        if self.command is not None:
            return "stdio"
        return "sse" if self.protocol == "sse" else "streamable-http"

    _target_as_written: str | None = PrivateAttr(default=None)

    @property
    def target(self) -> str:
        """Where the upstream lives, for display: its URL or its command line as the file has it, before
        `${VAR}` expansion (never env or headers)."""
        if self._target_as_written is not None:
            return self._target_as_written
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
    """`false`: GET /metrics answers 404."""


LogLevel = Literal["trace", "debug", "info", "warn", "warning", "error", "critical"]


def _in_any_case(words: tuple[str, ...]) -> str:
    """A JSON Schema pattern for `words` in any case: its regexes have no case-insensitive flag."""
    letters = ("".join(f"[{char.upper()}{char.lower()}]" for char in word) for word in words)
    return f"^({'|'.join(letters)})$"


class LoggingConfig(_Model):
    level: LogLevel = "info"
    """trace, debug, info, warn (or warning), error or critical, in any case."""

    @field_validator(
        "level",
        mode="before",
        json_schema_input_type=LogLevel
        | Annotated[str, StringConstraints(pattern=_in_any_case(typing.get_args(LogLevel)))],
    )
    @classmethod
    def _lowercase(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


class CaptureConfig(_Model):
    """What the traffic tap keeps: the dashboard's memory of messages, and capture files (`--capture`)."""

    messages: int = Field(5000, ge=10, le=1_000_000)
    """The dashboard's Traffic tab keeps the newest this many messages ..."""
    max_bytes: int = Field(32 * 1024 * 1024, ge=64 * 1024)
    """... in at most this many bytes together ..."""
    message_bytes: int = Field(256 * 1024, ge=1024)
    """... each cut at this size (with a note); a capture file keeps every message whole."""
    file_bytes: int = Field(64 * 1024 * 1024, ge=64 * 1024)
    """A capture file past this size is rotated: FILE becomes FILE.1, and a new FILE starts ..."""
    file_keep: int = Field(3, ge=0, le=100)
    """... keeping this many rotated files (FILE.1 the newest)."""


class DashboardConfig(_Model):
    capture: CaptureConfig = CaptureConfig()
    """What the Traffic tab and capture files keep."""
    roots: tuple[str, ...] | None = Field(None, strict=False)
    """What the dashboard answers an upstream's roots/list with during its own calls (paths or file://
    URIs); by default the working directory."""


class GatewayConfig(_Model):
    """A whole config file: where the gateway listens, its /mcp endpoint, the upstream servers behind it,
    and the bounds on what clients may hold."""

    host: str = "127.0.0.1"
    """The listen address; loopback by default, so nothing outside this machine can connect."""
    port: int = Field(8766, ge=0, le=65535)
    """The listen port; 0 lets the OS choose (the chosen URL is logged)."""
    instance_id: Annotated[str, StringConstraints(pattern=INSTANCE_ID_PATTERN.pattern)] | None = None
    """This instance's name when several run behind a load balancer: every session id it issues starts
    with it and a '.', so the balancer can route a session to its instance (deploy/nginx/mcpstead.conf).
    1 to 32 letters, digits, '-' or '_'. MCPSTEAD_INSTANCE_ID overrides it; a change needs a restart."""
    mcp: McpConfig = McpConfig()
    """The downstream endpoint, /mcp: auth, sessions and what requests may be."""
    servers: tuple[ServerConfig, ...] = Field((), strict=False)
    """The upstream MCP servers, each an HTTP `url` or a stdio `command`."""
    metrics: MetricsConfig = MetricsConfig()
    """The Prometheus endpoint, /metrics."""
    logging: LoggingConfig = LoggingConfig()
    """Log output: on stderr, or in the dashboard's Logs tab."""
    limits: LimitsConfig = LimitsConfig()
    """Bounds on what clients may hold; each refusal counts in mcpstead_limit_hits_total."""
    dashboard: DashboardConfig = DashboardConfig()
    """The dashboard (`mcpstead dev`) as an MCP debugger."""
    _path: str = PrivateAttr(default="")
    _bearer_token: Secret | None = PrivateAttr(default=None)

    @property
    def path(self) -> str:
        return self._path

    @property
    def bearer_token(self) -> Secret | None:
        return self._bearer_token

    @field_validator("instance_id", mode="before")
    @classmethod
    def _instance_id_rule(cls, value: Any) -> Any:
        problem = instance_id_problem(value) if isinstance(value, str) else None
        if problem is not None:
            raise ValueError(problem)
        return value

    def server(self, name: str) -> ServerConfig | None:
        return next((server for server in self.servers if server.name == name), None)


def type_name(value: Any) -> str:
    """How a config error names the type of a value the user wrote ("an integer", "a list")."""
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


def shown_value(value: Any) -> str:
    """A scalar as a config error shows it (short; nothing for mappings and lists)."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    text = repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."
