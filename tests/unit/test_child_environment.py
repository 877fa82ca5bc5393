"""stdio children get a minimal base environment plus what is configured, never the gateway's secrets."""

from __future__ import annotations

from mcpstead.config import ServerConfig
from mcpstead.config_load import parse_config
from mcpstead.upstream.stdio import child_environment

GATEWAY_ENV = {
    "PATH": "/usr/bin",
    "HOME": "/home/dev",
    "LANG": "C.UTF-8",
    "LC_TIME": "en_GB.UTF-8",
    "AWS_SECRET_ACCESS_KEY": "do-not-pass",
    "MCPSTEAD_BEARER_TOKEN": "downstream-secret-1234",
    "PROJECT_ROOT": "/src",
}


def stdio(extra: str = "") -> ServerConfig:
    text = "servers:\n  - name: s\n    command: tool\n    env: {MODE: test}\n" + "".join(
        f"    {x}\n" for x in extra.splitlines()
    )
    return parse_config(text, "gw.yaml", {}).servers[0]


def test_by_default_a_child_gets_the_minimal_base_and_its_own_env() -> None:
    assert child_environment(stdio(), GATEWAY_ENV) == {
        "PATH": "/usr/bin",
        "HOME": "/home/dev",
        "LANG": "C.UTF-8",
        "LC_TIME": "en_GB.UTF-8",
        "MODE": "test",
    }


def test_named_variables_are_added_to_the_base() -> None:
    env = child_environment(stdio("inherit_env: [PROJECT_ROOT]"), GATEWAY_ENV)
    assert env["PROJECT_ROOT"] == "/src" and "AWS_SECRET_ACCESS_KEY" not in env


def test_all_passes_the_whole_environment_with_env_on_top() -> None:
    env = child_environment(stdio("inherit_env: all"), {**GATEWAY_ENV, "MODE": "prod"})
    assert env == {**GATEWAY_ENV, "MODE": "test"}
