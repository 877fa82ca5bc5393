"""What a reload changes: added / removed / restarted / updated / unchanged upstreams, and settings kept."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from mcpstead.config import GatewayConfig
from mcpstead.config_diff import RESTART_FIELDS, diff_configs, effective_config
from mcpstead.config_load import parse_config

HTTP = "url: http://127.0.0.1:9/mcp"
STDIO = "command: demo"
ENV = {"TOKEN": "one"}


def config(*servers: str, top: str = "", environ: Mapping[str, str] = ENV) -> GatewayConfig:
    """A config from top-level YAML lines and servers written as `name: <yaml lines at the server's indent>`."""
    lines = [line for line in top.splitlines() if line]
    if servers:
        lines.append("servers:")
        for text in servers:
            name, _, body = text.partition(":")
            lines.append(f"  - name: {name}")
            lines += [f"    {line.strip()}" for line in body.split(";") if line.strip()]
    return parse_config("\n".join(lines) + "\n", "gw.yaml", dict(environ))


def test_added_removed_unchanged_in_the_new_file_order() -> None:
    old = config(f"a:{HTTP}", f"b:{HTTP}", f"c:{STDIO}")
    new = config(f"d:{STDIO}", f"c:{STDIO}", f"a:{HTTP}")
    diff = diff_configs(old, new)
    assert diff.added == ("d",)
    assert diff.removed == ("b",)
    assert diff.unchanged == ("c", "a")
    assert diff.restarted == diff.updated == diff.ignored == ()


def test_an_identical_config_changes_nothing() -> None:
    text = (f"a:{HTTP};timeout_seconds: 5", f"b:{STDIO};args: [x]")
    diff = diff_configs(config(*text), config(*text))
    assert diff.unchanged == ("a", "b")
    assert diff.added == diff.removed == diff.restarted == diff.updated == diff.ignored == ()


# Each connection-defining field, changed from the first server to the second.
RESTART_CASES = {
    "url": (HTTP, "url: http://127.0.0.1:10/mcp"),
    "command": (STDIO, "command: other"),
    "args": (f"{STDIO};args: [x]", f"{STDIO};args: [y]"),
    "env": (f"{STDIO};env: {{K: v}}", f"{STDIO};env: {{K: w}}"),
    "cwd": (f"{STDIO};cwd: /tmp", f"{STDIO};cwd: /"),
    "protocol": (HTTP, f"{HTTP};protocol: sse"),
    "tls_skip_verify": (HTTP, f"{HTTP};tls_skip_verify: true"),
    "auth": (HTTP, f"{HTTP};auth: {{type: bearer, token_env: TOKEN}}"),
    "headers": (f"{HTTP};headers: {{X-A: b}}", f"{HTTP};headers: {{X-A: c}}"),
    "session": (HTTP, f"{HTTP};session: per_client"),
    "max_sessions": (f"{HTTP};session: per_client", f"{HTTP};session: per_client;max_sessions: 2"),
}


def test_every_restart_field_has_a_case() -> None:
    assert set(RESTART_CASES) == RESTART_FIELDS


@pytest.mark.parametrize(("before", "after"), RESTART_CASES.values(), ids=list(RESTART_CASES))
def test_a_connection_setting_change_restarts(before: str, after: str) -> None:
    diff = diff_configs(config(f"a:{before}", f"b:{HTTP}"), config(f"a:{after}", f"b:{HTTP}"))
    assert diff.restarted == ("a",)
    assert diff.unchanged == ("b",)
    assert diff.updated == diff.added == diff.removed == ()


def test_a_new_token_behind_the_same_token_env_restarts() -> None:
    server = f"a:{HTTP};auth: {{type: bearer, token_env: TOKEN}}"
    diff = diff_configs(config(server, environ={"TOKEN": "one"}), config(server, environ={"TOKEN": "two"}))
    assert diff.restarted == ("a",)
    assert diff_configs(config(server), config(server)).unchanged == ("a",)


@pytest.mark.parametrize(
    "soft",
    [
        "timeout_seconds: 5",
        "health_check_seconds: 1",
        "required: true",
        "reconnect: {max_attempts: 3}",
        "reconnect: {backoff_base_ms: 10, backoff_max_ms: 20}",
        "tools: {ttl_seconds: 10}",
        "quirks: {normalize_sse_events: true}",
        "prefix: false",
        "tools: {include: [a*]}",
        "prompts: {exclude: [secret-*]}",
        "resources: {include: ['file://*']}",
    ],
)
def test_a_soft_setting_change_updates_in_place(soft: str) -> None:
    diff = diff_configs(config(f"a:{HTTP}"), config(f"a:{HTTP};{soft}"))
    assert diff.updated == ("a",)
    assert diff.restarted == diff.unchanged == diff.added == diff.removed == ()


def test_host_port_logging_and_session_settings_are_ignored_and_kept() -> None:
    old = config(f"a:{HTTP}", top="host: 127.0.0.1\nport: 8766\nlogging: {level: info}")
    new = config(
        f"a:{HTTP}",
        top=(
            "host: 0.0.0.0\nport: 9000\nlogging: {level: debug}\n"
            "mcp: {session: {idle_ttl_seconds: 5}, allowed_origins: ['http://localhost:5173']}\n"
            "metrics: {enabled: false}"
        ),
    )
    diff = diff_configs(old, new)
    assert diff.ignored == ("host/port", "logging", "mcp.session")
    assert diff.unchanged == ("a",)

    merged = effective_config(old, new)
    assert (merged.host, merged.port, merged.logging, merged.mcp.session) == (
        old.host,
        old.port,
        old.logging,
        old.mcp.session,
    )
    # everything else takes the new value
    assert merged.mcp.allowed_origins == ("http://localhost:5173",)
    assert merged.metrics.enabled is False
    assert merged.servers == new.servers


def test_a_port_change_alone_is_reported_as_host_port() -> None:
    diff = diff_configs(config(top="port: 8766"), config(top="port: 8767"))
    assert diff.ignored == ("host/port",)


def test_effective_config_keeps_the_new_files_path_and_tokens() -> None:
    old = config(f"a:{HTTP}", top="port: 1")
    new = config(f"a:{HTTP};auth: {{type: bearer, token_env: TOKEN}}", top="port: 2")
    merged = effective_config(old, new)
    assert merged.path == new.path == "gw.yaml"
    server = merged.server("a")
    assert server is not None and server.auth.token is not None
    assert server.auth.token == new.servers[0].auth.token
