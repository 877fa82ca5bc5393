"""Config loading: every problem as one exact `<file>:<line>:<column>: <key.path>: <message>` line, defaults, env
expansion, secrets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mcpstead.config import BEARER_TOKEN_ENV, GatewayConfig, McpConfig, ServerConfig
from mcpstead.config_load import CONFIG_ENV, load_config, parse_config, resolve_config_path
from mcpstead.errors import ConfigError
from mcpstead.secrets import Secret

ROOT = Path(__file__).resolve().parents[2]
FILE = "gw.yaml"
SECRET = "s3cr3t-DO-NOT-LEAK-7f3a9c"
"""A value distinctive enough that finding it anywhere means it leaked."""

# The "expected one of" lists name every key the model accepts, in declaration order. They are read from the
# models so a new key doesn't break every test; test_key_lists_hold_the_documented_keys pins the known ones.
TOP_KEYS = ", ".join(GatewayConfig.model_fields)
MCP_KEYS = ", ".join(McpConfig.model_fields)
SERVER_KEYS = ", ".join(ServerConfig.model_fields)
NAME_RULE = (
    "must be letters and digits, separated by single '-' or '_' "
    "(no '__', no leading or trailing separator), so '<server>__<tool>' splits unambiguously"
)


def problems(text: str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, FILE, environ or {})
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def key_path(line: str) -> str:
    """A problem line's key path: `servers[0] (name: a).url` in `gw.yaml:3:5: servers[0] (name: a).url: ...`."""
    found = re.match(rf"{re.escape(FILE)}:\d+:\d+: ((?:\(name: [^)]*\)|[^:])+): ", line)
    assert found is not None, line
    return found.group(1)


def one_problem(text: str, environ: dict[str, str] | None = None) -> str:
    found = problems(text, environ)
    assert len(found) == 1, found
    return found[0]


def server(extra: str = "", name: str = "a", transport: str = "url: http://127.0.0.1:9/mcp") -> str:
    """A one-server config; `extra` is more YAML lines at the server's indentation."""
    lines = [f"  - name: {name}", f"    {transport}"]
    lines += [f"    {line}" for line in extra.splitlines() if line]
    return "servers:\n" + "\n".join(lines) + "\n"


def test_key_lists_hold_the_documented_keys() -> None:
    assert TOP_KEYS == "host, port, instance_id, mcp, servers, metrics, logging, limits, dashboard"
    assert MCP_KEYS.startswith("auth, session, max_body_bytes, allowed_origins, allowed_hosts")
    assert SERVER_KEYS.startswith(
        "name, url, command, args, env, cwd, protocol, required, auth, headers, quirks, reconnect, tools, "
        "tls_skip_verify, timeout_seconds"
    )


# -- one problem, one exact line ---------------------------------------------------------------------------

SINGLE_PROBLEMS = [
    pytest.param(
        "hots: 127.0.0.1\n",
        f"{FILE}:1:1: hots: unknown key (did you mean 'host'? expected one of: {TOP_KEYS})",
        id="unknown-top",
    ),
    pytest.param(
        "mcp:\n  sesion: {}\n",
        f"{FILE}:2:3: mcp.sesion: unknown key (did you mean 'session'? expected one of: {MCP_KEYS})",
        id="unknown-mcp",
    ),
    pytest.param(
        "mcp:\n  session: {idle_ttl: 1}\n",
        f"{FILE}:2:13: mcp.session.idle_ttl: unknown key "
        "(expected one of: idle_ttl_seconds, gc_interval_seconds, shutdown_grace_seconds)",
        id="unknown-mcp-session",
    ),
    pytest.param(
        server("tokn: 1"),
        f"{FILE}:4:5: servers[0] (name: a).tokn: unknown key (expected one of: {SERVER_KEYS})",
        id="unknown-server",
    ),
    pytest.param(
        server("reconnect: {retries: 3}"),
        f"{FILE}:4:17: servers[0] (name: a).reconnect.retries: unknown key "
        "(expected one of: max_attempts, backoff_base_ms, backoff_max_ms)",
        id="unknown-reconnect",
    ),
    pytest.param(
        server("auth: {type: none, extra: 1}"),
        f"{FILE}:4:24: servers[0] (name: a).auth.extra: unknown key (expected one of: type, token_env)",
        id="unknown-upstream-auth",
    ),
    pytest.param("port: '8766'\n", f"{FILE}:1:7: port: expected an integer, got a string '8766'", id="port-string"),
    pytest.param("port: 8766.0\n", f"{FILE}:1:7: port: expected an integer, got a number 8766.0", id="port-float"),
    pytest.param("port: true\n", f"{FILE}:1:7: port: expected an integer, got a boolean true", id="port-bool"),
    pytest.param("host: 5\n", f"{FILE}:1:7: host: expected a string, got an integer 5", id="host-int"),
    pytest.param(
        server("required: 'yes'"),
        f"{FILE}:4:15: servers[0] (name: a).required: expected true or false, got a string 'yes'",
        id="required-string",
    ),
    pytest.param("mcp: 5\n", f"{FILE}:1:6: mcp: expected a mapping, got an integer 5", id="mcp-not-mapping"),
    pytest.param("servers: [5]\n", f"{FILE}:1:11: servers[0]: expected a mapping, got an integer 5", id="server-int"),
    pytest.param(
        server("args: '--flag'", transport="command: tool"),
        f"{FILE}:4:11: servers[0] (name: a).args: expected a list, got a string '--flag'",
        id="args-string",
    ),
    pytest.param("port: 70000\n", f"{FILE}:1:7: port: must be <= 65535, got 70000", id="port-too-big"),
    pytest.param("port: -1\n", f"{FILE}:1:7: port: must be >= 0, got -1", id="port-negative"),
    pytest.param(
        "mcp:\n  session:\n    idle_ttl_seconds: 0\n",
        f"{FILE}:3:23: mcp.session.idle_ttl_seconds: must be > 0, got 0",
        id="idle-ttl-0",
    ),
    pytest.param(
        "mcp:\n  session:\n    gc_interval_seconds: 0\n",
        f"{FILE}:3:26: mcp.session.gc_interval_seconds: must be > 0, got 0",
        id="gc-0",
    ),
    pytest.param(
        "mcp:\n  max_body_bytes: 10\n", f"{FILE}:2:19: mcp.max_body_bytes: must be >= 1024, got 10", id="body-limit"
    ),
    pytest.param(
        server("reconnect: {backoff_base_ms: 1000, backoff_max_ms: 10}"),
        f"{FILE}:4:16: servers[0] (name: a).reconnect: backoff_max_ms must be >= backoff_base_ms (1000), got 10",
        id="backoff-max-below-base",
    ),
    pytest.param(
        server("tools: {ttl_seconds: 0}"),
        f"{FILE}:4:26: servers[0] (name: a).tools.ttl_seconds: must be >= 1, got 0",
        id="ttl-0",
    ),
    pytest.param(
        server("timeout_seconds: 0"),
        f"{FILE}:4:22: servers[0] (name: a).timeout_seconds: must be > 0.0, got 0",
        id="timeout-0",
    ),
    pytest.param(
        "servers:\n  - name: a\n    url: http://x/mcp\n  - name: a\n    command: tool\n",
        f"{FILE}:4:11: servers[1] (name: a).name: duplicate server name 'a' (also servers[0])",
        id="duplicate-name",
    ),
    pytest.param(
        server(name="a__b"),
        f"{FILE}:2:11: servers[0] (name: a__b).name: 'a__b' {NAME_RULE}",
        id="name-double-underscore",
    ),
    pytest.param(
        server(name="_a"), f"{FILE}:2:11: servers[0] (name: _a).name: '_a' {NAME_RULE}", id="name-leading-separator"
    ),
    pytest.param(
        server(name="a_"), f"{FILE}:2:11: servers[0] (name: a_).name: 'a_' {NAME_RULE}", id="name-trailing-separator"
    ),
    pytest.param(server(name="'a b'"), f"{FILE}:2:11: servers[0] (name: a b).name: 'a b' {NAME_RULE}", id="name-space"),
    pytest.param("servers:\n  - url: http://x/mcp\n", f"{FILE}:2:5: servers[0].name: is required", id="name-missing"),
    pytest.param(
        "mcp:\n  auth:\n    bearer_token: abc\n",
        f"{FILE}:3:5: mcp.auth.bearer_token: is not allowed in the file; set {BEARER_TOKEN_ENV} in the environment",
        id="bearer-token-in-file",
    ),
    pytest.param(
        "mcp:\n  auth:\n    mode: bearer\n",
        f"{FILE}:3:11: mcp.auth.mode: bearer mode needs the environment variable {BEARER_TOKEN_ENV} set",
        id="bearer-without-env",
    ),
    pytest.param(
        server("auth: {type: bearer, token_env: NOT_SET_ANYWHERE}"),
        f"{FILE}:4:37: servers[0] (name: a).auth.token_env: environment variable 'NOT_SET_ANYWHERE' is not set",
        id="token-env-unset",
    ),
    pytest.param(
        server("auth: {type: bearer}"),
        f"{FILE}:4:11: servers[0] (name: a).auth: bearer auth requires token_env (the name of an environment variable)",
        id="bearer-without-token-env",
    ),
    pytest.param(
        server("auth: {token: abc}"),
        f"{FILE}:4:12: servers[0] (name: a).auth.token: is not allowed; use token_env to name an environment variable",
        id="raw-upstream-token",
    ),
    pytest.param(
        "servers:\n  - name: a\n",
        f"{FILE}:2:5: servers[0] (name: a): needs exactly one of 'url' (an HTTP upstream) or 'command' (a stdio upstream)",
        id="neither-url-nor-command",
    ),
    pytest.param(
        server("command: tool"),
        f"{FILE}:2:5: servers[0] (name: a): needs exactly one of 'url' (an HTTP upstream) or 'command' (a stdio upstream)",
        id="both-url-and-command",
    ),
    pytest.param(
        server(transport="url: ftp://x/mcp"),
        f"{FILE}:2:5: servers[0] (name: a): url must be an http:// or https:// URL, got 'ftp://x/mcp'",
        id="url-scheme",
    ),
    pytest.param(
        server("args: [x]\ncwd: /tmp"),
        f"{FILE}:2:5: servers[0] (name: a): args, cwd only apply to stdio upstreams (with 'command')",
        id="stdio-keys-on-url",
    ),
    pytest.param(
        server("env: {A: b}"),
        f"{FILE}:2:5: servers[0] (name: a): env only apply to stdio upstreams (with 'command')",
        id="env-on-url",
    ),
    pytest.param(
        server("headers: {A: b}\ntls_skip_verify: true", transport="command: tool"),
        f"{FILE}:2:5: servers[0] (name: a): headers, tls_skip_verify only apply to HTTP upstreams (with 'url')",
        id="http-keys-on-stdio",
    ),
    pytest.param(
        server("protocol: stdio"),
        f"{FILE}:2:5: servers[0] (name: a): protocol 'stdio' needs 'command', not 'url'",
        id="stdio-protocol-on-url",
    ),
    pytest.param(
        server("protocol: sse", transport="command: tool"),
        f"{FILE}:2:5: servers[0] (name: a): protocol 'sse' needs 'url'; a 'command' upstream speaks stdio",
        id="sse-protocol-on-command",
    ),
    pytest.param(
        server("protocol: carrier-pigeon"),
        f"{FILE}:4:15: servers[0] (name: a).protocol: expected one of 'auto', 'streamable', 'sse' or 'stdio', got 'carrier-pigeon'",
        id="protocol-unknown",
    ),
    pytest.param(
        server(transport="command: ''"),
        f"{FILE}:3:14: servers[0] (name: a).command: must not be empty",
        id="command-empty",
    ),
    pytest.param(
        server("headers: {X-Key: '${NOT_SET_ANYWHERE}'}"),
        f"{FILE}:4:22: servers[0] (name: a).headers.X-Key: environment variable 'NOT_SET_ANYWHERE' is not set "
        "(write ${NOT_SET_ANYWHERE:-default} for a default)",
        id="header-env-unset",
    ),
    pytest.param(
        "port: 8766\nhost: [unclosed\n",
        f"{FILE}:3:1: invalid YAML: expected ',' or ']', but got '<stream end>'",
        id="yaml-unclosed",
    ),
    pytest.param("a: b: c\n", f"{FILE}:1:5: invalid YAML: mapping values are not allowed here", id="yaml-mapping"),
    pytest.param("- a\n- b\n", f"{FILE}:1:1: the top level must be a mapping of keys, got a list", id="top-level-list"),
    pytest.param(
        "hello\n", f"{FILE}:1:1: the top level must be a mapping of keys, got a string", id="top-level-string"
    ),
    pytest.param(
        "logging:\n  level: loud\n",
        f"{FILE}:2:10: logging.level: expected one of 'trace', 'debug', 'info', 'warn', 'warning', 'error' or "
        "'critical', got 'loud'",
        id="log-level",
    ),
]


@pytest.mark.parametrize(("text", "expected"), SINGLE_PROBLEMS)
def test_each_problem_is_one_exact_line(text: str, expected: str) -> None:
    assert one_problem(text) == expected


def test_servers_not_a_list_names_the_type() -> None:
    line = one_problem("servers: {a: 1}\n")
    assert line.startswith(f"{FILE}:1:10: servers: expected a list, got a mapping")


def test_servers_not_a_list_has_no_trailing_space() -> None:
    assert one_problem("servers: {a: 1}\n") == f"{FILE}:1:10: servers: expected a list, got a mapping"


def test_null_value_reads_got_null() -> None:
    assert one_problem("servers:\n") == f"{FILE}:1:9: servers: expected a list, got null"


def test_bearer_mode_with_empty_token_is_a_problem() -> None:
    assert one_problem("mcp:\n  auth:\n    mode: bearer\n", {BEARER_TOKEN_ENV: ""}) == (
        f"{FILE}:3:11: mcp.auth.mode: bearer mode needs the environment variable {BEARER_TOKEN_ENV} set"
    )


def test_raw_token_beside_bearer_type_also_asks_for_token_env() -> None:
    assert problems(server("auth: {type: bearer, token: abc}")) == [
        f"{FILE}:4:26: servers[0] (name: a).auth.token: is not allowed; use token_env to name an environment variable",
        f"{FILE}:4:11: servers[0] (name: a).auth: bearer auth requires token_env (the name of an environment variable)",
    ]


def test_yaml_error_carries_line_and_column() -> None:
    line = one_problem("servers:\n  - name: a\n   url: [\n")
    assert re.fullmatch(rf"{re.escape(FILE)}:3:4: invalid YAML: .+", line), line


# -- several problems ------------------------------------------------------------------------------------

MANY = """\
hots: 1
port: 70000
mcp:
  session:
    idle_ttl_seconds: 0
servers:
  - name: a__b
    url: ftp://x
  - name: c
    command: tool
    reconnect: {backoff_base_ms: 10, backoff_max_ms: 1}
  - name: c
    command: tool
"""


def test_every_problem_is_reported_in_file_order() -> None:
    assert problems(MANY) == [
        f"{FILE}:1:1: hots: unknown key (did you mean 'host'? expected one of: {TOP_KEYS})",
        f"{FILE}:2:7: port: must be <= 65535, got 70000",
        f"{FILE}:5:23: mcp.session.idle_ttl_seconds: must be > 0, got 0",
        f"{FILE}:7:11: servers[0] (name: a__b).name: 'a__b' {NAME_RULE}",
        f"{FILE}:7:5: servers[0] (name: a__b): url must be an http:// or https:// URL, got 'ftp://x'",
        f"{FILE}:11:16: servers[1] (name: c).reconnect: backoff_max_ms must be >= backoff_base_ms (10), got 1",
        f"{FILE}:12:11: servers[2] (name: c).name: duplicate server name 'c' (also servers[1])",
    ]


def test_problem_order_follows_the_top_level_keys_of_the_file() -> None:
    text = "servers:\n  - name: a\nport: 70000\nmetrics: {enabled: 3}\nhots: 1\n"
    found = problems(text)
    assert [key_path(line) for line in found] == ["servers[0] (name: a)", "port", "metrics.enabled", "hots"]


def test_problems_in_several_servers_come_in_list_order() -> None:
    text = (
        "servers:\n"
        "  - {name: s0, url: http://x/mcp, timeout_seconds: 0}\n"
        "  - {name: s1, command: tool, headers: {a: b}}\n"
        "  - {name: 's 2', url: http://x/mcp}\n"
    )
    assert [key_path(line) for line in problems(text)] == [
        "servers[0] (name: s0).timeout_seconds",
        "servers[1] (name: s1)",
        "servers[2] (name: s 2).name",
    ]


def test_problems_inside_one_server_follow_file_order() -> None:
    found = problems(server("timeout_seconds: 0\nrequired: 'x'"))
    assert [key_path(line) for line in found] == [
        "servers[0] (name: a).timeout_seconds",
        "servers[0] (name: a).required",
    ]


# -- defaults ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n"])
def test_empty_file_gives_the_documented_defaults(text: str) -> None:
    config = parse_config(text, FILE, {})
    assert config.host == "127.0.0.1"
    assert config.port == 8766
    assert config.mcp.auth.mode == "none"
    assert config.bearer_token is None
    assert config.mcp.session.idle_ttl_seconds == 3600
    assert config.mcp.session.gc_interval_seconds == 60
    assert config.mcp.session.shutdown_grace_seconds == 5
    assert config.mcp.max_body_bytes == 2 * 1024 * 1024
    assert config.metrics.enabled is True
    assert config.logging.level == "info"
    assert config.servers == ()
    assert config.path == FILE


def test_server_defaults() -> None:
    config = parse_config(server(), FILE, {})
    (upstream,) = config.servers
    assert upstream.protocol == "auto"
    assert upstream.transport == "streamable-http"
    assert upstream.required is False
    assert upstream.auth.type == "none"
    assert upstream.auth.token is None
    assert (
        upstream.reconnect.max_attempts,
        upstream.reconnect.backoff_base_ms,
        upstream.reconnect.backoff_max_ms,
    ) == (0, 1000, 30000)
    assert upstream.tools.ttl_seconds == 300
    assert upstream.timeout_seconds == 60
    assert upstream.headers == {}
    assert config.server("a") is upstream
    assert config.server("nope") is None


def test_stdio_server_and_transport() -> None:
    config = parse_config(server("args: [demo-server, -v]", transport="command: mcpstead"), FILE, {})
    (upstream,) = config.servers
    assert upstream.transport == "stdio"
    assert upstream.target == "mcpstead demo-server -v"


def test_log_level_is_case_insensitive() -> None:
    assert parse_config("logging: {level: DEBUG}\n", FILE, {}).logging.level == "debug"


# -- ${VAR} expansion --------------------------------------------------------------------------------------


def test_header_expansion() -> None:
    text = server(
        "headers:\n"
        "  X-Key: '${API_KEY}'\n"
        "  X-Default: '${NOT_SET_ANYWHERE:-fallback}'\n"
        "  X-Set-Wins: '${API_KEY:-fallback}'\n"
        "  X-Mixed: 'pre-${API_KEY}-${OTHER:-x}-post'\n"
        "  X-Empty-Default: '${NOT_SET_ANYWHERE:-}'\n"
        "  X-Literal: plain"
    )
    (upstream,) = parse_config(text, FILE, {"API_KEY": "k1"}).servers
    assert upstream.headers == {
        "X-Key": "k1",
        "X-Default": "fallback",
        "X-Set-Wins": "k1",
        "X-Mixed": "pre-k1-x-post",
        "X-Empty-Default": "",
        "X-Literal": "plain",
    }


def test_stdio_env_expansion() -> None:
    text = server("env:\n  TOKEN: '${TOK}'\n  MODE: '${MODE:-dev}'", transport="command: tool")
    (upstream,) = parse_config(text, FILE, {"TOK": "t1"}).servers
    assert upstream.env == {"TOKEN": "t1", "MODE": "dev"}


def test_expansion_reads_the_given_environ_not_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCPSTEAD_TEST_ONLY_IN_OS", "from-os")
    text = server("headers: {X: '${MCPSTEAD_TEST_ONLY_IN_OS:-from-default}'}")
    (upstream,) = parse_config(text, FILE, {}).servers
    assert upstream.headers == {"X": "from-default"}


def test_every_unset_reference_is_reported() -> None:
    text = server("env:\n  A: '${UNSET_A}'\n  B: '${UNSET_B}-${UNSET_C}'", transport="command: tool")
    assert problems(text) == [
        f"{FILE}:5:10: servers[0] (name: a).env.A: environment variable 'UNSET_A' is not set (write ${{UNSET_A:-default}} for a default)",
        f"{FILE}:6:10: servers[0] (name: a).env.B: environment variable 'UNSET_B' is not set (write ${{UNSET_B:-default}} for a default)",
        f"{FILE}:6:10: servers[0] (name: a).env.B: environment variable 'UNSET_C' is not set (write ${{UNSET_C:-default}} for a default)",
    ]


def test_default_applies_to_an_empty_variable_like_the_shell() -> None:
    (upstream,) = parse_config(server("headers: {X: '${EMPTY:-fallback}'}"), FILE, {"EMPTY": ""}).servers
    assert upstream.headers == {"X": "fallback"}


# -- secrets -----------------------------------------------------------------------------------------------


def secret_environ() -> dict[str, str]:
    return {
        BEARER_TOKEN_ENV: SECRET + "-bearer",
        "UP_TOKEN": SECRET + "-upstream",
        "HDR": SECRET + "-header",
        "CHILD": SECRET + "-child",
    }


SECRET_CONFIG = """\
mcp:
  auth: {mode: bearer}
servers:
  - name: web
    url: http://127.0.0.1:9/mcp
    auth: {type: bearer, token_env: UP_TOKEN}
    headers: {X-Api-Key: '${HDR}'}
  - name: child
    command: tool
    env: {API_KEY: '${CHILD}'}
"""


def test_token_env_and_bearer_token_resolve_to_hidden_secrets() -> None:
    environ = secret_environ()
    config = parse_config(SECRET_CONFIG, FILE, environ)
    web = config.server("web")
    assert web is not None
    token = web.auth.token
    assert isinstance(token, Secret)
    assert token.reveal() == environ["UP_TOKEN"]
    assert token.matches(environ["UP_TOKEN"])
    assert not token.matches("guess")
    assert repr(token) == str(token) == "Secret('***')"
    assert isinstance(config.bearer_token, Secret)
    assert config.bearer_token.reveal() == environ[BEARER_TOKEN_ENV]


def test_secrets_never_appear_in_the_config_repr() -> None:
    config = parse_config(SECRET_CONFIG, FILE, secret_environ())
    texts = [repr(config), str(config), *(repr(s) for s in config.servers), *(str(s) for s in config.servers)]
    texts += [repr(s.auth) for s in config.servers] + [repr(config.bearer_token), f"{config.bearer_token}"]
    for text in texts:
        assert SECRET not in text


def test_secrets_never_appear_in_error_messages() -> None:
    environ = secret_environ()
    broken = (
        SECRET_CONFIG
        + f"    auth: {{token: {SECRET}-raw}}\n"
        + "    extra: 1\n"
        + "  - name: other\n"
        + "    url: http://x/mcp\n"
        + f"    auth: {{type: bearer, token: {SECRET}-raw2, token_env: UP_TOKEN}}\n"
        + "    headers: {X: '${HDR}'}\n"
        + "    timeout_seconds: 0\n"
    )
    broken = broken.replace("mcp:\n  auth: {mode: bearer}", f"mcp:\n  auth: {{mode: bearer, bearer_token: {SECRET}}}")
    found = problems(broken, environ)
    assert len(found) >= 4
    assert any("bearer_token: is not allowed" in line for line in found)
    assert any("auth.token: is not allowed" in line for line in found)
    for line in found:
        assert SECRET not in line


@pytest.mark.parametrize("key", ["headers", "env"])
def test_non_string_secret_values_are_not_echoed(key: str) -> None:
    transport = "url: http://x/mcp" if key == "headers" else "command: tool"
    line = one_problem(server(f"{key}: {{X-Api-Key: 7340912388471}}", transport=transport))
    assert "7340912388471" not in line


def test_string_auth_value_is_not_echoed() -> None:
    line = one_problem(server(f"auth: {SECRET}"))
    assert SECRET not in line


# -- files and paths ---------------------------------------------------------------------------------------


def test_load_config_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text("port: 9000\n", encoding="utf-8")
    config = load_config(path, {})
    assert config.port == 9000
    assert config.path == str(path)


def test_load_config_names_the_file_in_problems(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("port: 70000\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert caught.value.problems == [f"{path}:1:7: port: must be <= 65535, got 70000"]


def test_unreadable_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(str(path), {})
    assert caught.value.problems == [f"{path}: cannot read the config file: No such file or directory"]


def test_unreadable_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, {})
    assert caught.value.problems == [f"{tmp_path}: cannot read the config file: Is a directory"]


def test_relative_path_is_shown_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("rel.yaml").write_text("hots: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config("rel.yaml", {})
    assert caught.value.problems[0].startswith("rel.yaml:1:1: hots: unknown key")


def test_resolve_config_path_flag_wins() -> None:
    assert resolve_config_path("flag.yaml", {CONFIG_ENV: "env.yaml"}) == Path("flag.yaml")


def test_resolve_config_path_env_beats_default() -> None:
    assert resolve_config_path(None, {CONFIG_ENV: "env.yaml"}) == Path("env.yaml")


@pytest.mark.parametrize(("flag", "environ"), [(None, {}), ("", {}), (None, {CONFIG_ENV: ""})])
def test_resolve_config_path_default(
    flag: str | None, environ: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_config_path(flag, environ) == tmp_path / ".config" / "mcpstead" / "config.yaml"


# -- the shipped samples -----------------------------------------------------------------------------------

SAMPLES = sorted((ROOT / "sample_configs").glob("*.yaml"))
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")
_TOKEN_ENV = re.compile(r"token_env:\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)")


def sample_environ(text: str) -> dict[str, str]:
    """Every variable a sample could need, set to a dummy value."""
    names = {BEARER_TOKEN_ENV, *_REFERENCE.findall(text), *_TOKEN_ENV.findall(text)}
    return {name: f"dummy-{name.lower()}" for name in names}


def test_there_are_samples() -> None:
    assert SAMPLES, "sample_configs/*.yaml is empty"


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_every_sample_config_loads(path: Path) -> None:
    config = load_config(path, sample_environ(path.read_text(encoding="utf-8")))
    assert isinstance(config, GatewayConfig)
    assert len({s.name for s in config.servers}) == len(config.servers)


@pytest.mark.parametrize("token", ["   ", "\t"])
def test_a_blank_bearer_token_is_refused(token: str) -> None:
    assert one_problem("mcp:\n  auth:\n    mode: bearer\n", {BEARER_TOKEN_ENV: token}) == (
        f"{FILE}:3:11: mcp.auth.mode: bearer mode needs the environment variable {BEARER_TOKEN_ENV} set"
    )


@pytest.mark.parametrize("token", ["x", "short-token", " padded-token-of-length ", "fifteen-chars!!"])
def test_a_short_or_padded_bearer_token_is_refused_without_showing_it(token: str) -> None:
    problem = one_problem("mcp:\n  auth:\n    mode: bearer\n", {BEARER_TOKEN_ENV: token})
    assert problem.startswith(f"{FILE}:3:11: mcp.auth.mode: {BEARER_TOKEN_ENV} must be at least 16 characters")
    assert token.strip() not in problem


def test_a_sixteen_character_token_is_enough() -> None:
    config = parse_config("mcp:\n  auth:\n    mode: bearer\n", FILE, {BEARER_TOKEN_ENV: "0123456789abcdef"})
    assert config.bearer_token is not None


def test_url_credentials_with_bearer_auth_are_a_config_error_and_never_shown() -> None:
    text = (
        "servers:\n  - name: a\n    url: http://user:hunter2@127.0.0.1:9/mcp\n    auth: {type: bearer, token_env: T}\n"
    )
    problem = one_problem(text, {"T": "token-value"})
    assert problem.startswith(f"{FILE}:2:5: servers[0] (name: a): url carries a user and password")
    assert "hunter2" not in problem


def test_url_credentials_are_redacted_wherever_the_url_is_shown() -> None:
    config = parse_config("servers:\n  - name: a\n    url: http://user:hunter2@127.0.0.1:9/mcp\n", FILE, {})
    assert config.servers[0].target == "http://user:***@127.0.0.1:9/mcp"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("port: 1\nhost: 127.0.0.1\nport: 2\n", "3:1: duplicate key 'port' (first given at line 1)"),
        (
            "servers:\n  - name: a\n    url: http://127.0.0.1:1/mcp\n    name: b\n",
            "4:5: duplicate key 'name' (first given at line 2)",
        ),
        ("mcp:\n  auth: {mode: none, mode: bearer}\n", "2:22: duplicate key 'mode' (first given at line 2)"),
    ],
)
def test_a_key_given_twice_is_an_error_not_a_silent_last_wins(text: str, problem: str) -> None:
    assert one_problem(text) == f"{FILE}:{problem}"


def test_merge_keys_share_settings_and_own_keys_override_them() -> None:
    text = (
        "servers:\n  - &base\n    name: a\n    command: x\n    reconnect: {backoff_base_ms: 100}\n"
        "  - <<: *base\n    name: b\n"
    )
    config = parse_config(text, FILE, {})
    assert [(s.name, s.command, s.reconnect.backoff_base_ms) for s in config.servers] == [
        ("a", "x", 100),
        ("b", "x", 100),
    ]
    twice = "servers:\n  - &base\n    name: a\n    command: x\n  - <<: *base\n    name: b\n    name: c\n"
    assert one_problem(twice) == f"{FILE}:7:5: duplicate key 'name' (first given at line 6)"


def test_a_far_off_unknown_key_gets_no_guess() -> None:
    assert one_problem("zzzz: 1\n") == f"{FILE}:1:1: zzzz: unknown key (expected one of: {TOP_KEYS})"


# -- positions ---------------------------------------------------------------------------------------------

POSITIONED = """\
port: 8766
servers:
  - name: ok
    url: http://127.0.0.1:9/mcp
  - name: typo
    urll: http://127.0.0.1:9/mcp
    timeout_seconds: soon
  - url: http://127.0.0.1:9/nameless
  - name: env
    command: tool
    env: {TOKEN: '${UNSET_TOKEN}'}
"""
UNSET_TOKEN = "'${UNSET_TOKEN}'"
"""The env value in POSITIONED that names an unset variable."""


def at(text: str, marker: str) -> str:
    """`line:column` (1-based) of the one place `marker` occurs in `text`."""
    assert text.count(marker) == 1, marker
    before = text[: text.index(marker)]
    return f"{before.count(chr(10)) + 1}:{len(before) - before.rfind(chr(10))}"


def test_each_problem_points_where_it_is_in_the_file(tmp_path: Path) -> None:
    """An unknown key at the key, a wrong value at the value, a missing key at the mapping that lacks it, an
    environment problem at the value that names the variable."""
    path = tmp_path / "config.yaml"
    path.write_text(POSITIONED, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert caught.value.problems == [
        f"{path}:{at(POSITIONED, 'urll')}: servers[1] (name: typo).urll: unknown key "
        f"(did you mean 'url'? expected one of: {SERVER_KEYS})",
        f"{path}:{at(POSITIONED, 'soon')}: servers[1] (name: typo).timeout_seconds: expected a number, "
        "got a string 'soon'",
        f"{path}:{at(POSITIONED, 'url: http://127.0.0.1:9/nameless')}: servers[2].name: is required",
        f"{path}:{at(POSITIONED, UNSET_TOKEN)}: servers[3] (name: env).env.TOKEN: environment variable "
        "'UNSET_TOKEN' is not set (write ${UNSET_TOKEN:-default} for a default)",
    ]
    assert (at(POSITIONED, "urll"), at(POSITIONED, "soon")) == ("6:5", "7:22")  # 1-based, as editors count


def test_a_problem_with_a_whole_entry_points_at_the_entry() -> None:
    text = "servers:\n  - name: ok\n    url: http://127.0.0.1:9/mcp\n  -   name: both\n      url: http://x/mcp\n      command: tool\n"
    assert one_problem(text) == (
        f"{FILE}:4:7: servers[1] (name: both): needs exactly one of 'url' (an HTTP upstream) or 'command' "
        "(a stdio upstream)"
    )


def test_a_key_with_a_dot_and_a_list_item_are_found_whole() -> None:
    text = "servers:\n  - name: a\n    command: tool\n    args: [x, '${NO_ARG}']\n    env: {a.b: '${NO_ENV}'}\n"
    assert [line.split(": ", 1)[0] for line in problems(text)] == [f"{FILE}:4:15", f"{FILE}:5:16"]


def test_an_entry_without_a_string_name_is_shown_by_its_index_alone() -> None:
    assert one_problem("servers:\n  - name: 7\n    url: http://x/mcp\n") == (
        f"{FILE}:2:11: servers[0].name: expected a string, got an integer 7"
    )


def test_a_key_the_loader_drops_keeps_its_place_in_file_order() -> None:
    """bearer_token is taken out before validation; its problem still comes before the key after it."""
    assert problems("mcp:\n  auth:\n    bearer_token: x\n    mode: bearer\n") == [
        f"{FILE}:3:5: mcp.auth.bearer_token: is not allowed in the file; set {BEARER_TOKEN_ENV} in the environment",
        f"{FILE}:4:11: mcp.auth.mode: bearer mode needs the environment variable {BEARER_TOKEN_ENV} set",
    ]


def test_a_control_character_is_a_yaml_error_at_its_place() -> None:
    assert one_problem("port: 1\nhost: a\x07b\n") == (
        f"{FILE}:2:8: invalid YAML: unacceptable character #x0007: special characters are not allowed"
    )


def test_a_second_document_is_a_yaml_error_at_its_start() -> None:
    assert one_problem("port: 1\n---\nport: 2\n") == f"{FILE}:2:1: invalid YAML: but found another document"
