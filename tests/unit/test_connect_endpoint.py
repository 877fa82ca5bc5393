"""Where `mcpstead connect` looks for the gateway: the argument, else $MCPSTEAD_URL, else the config."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpstead.bridge.endpoint import client_url, resolve_endpoint
from mcpstead.errors import ConfigError


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8766/mcp"),
        ("0.0.0.0", "http://127.0.0.1:8766/mcp"),
        ("::", "http://127.0.0.1:8766/mcp"),
        ("::1", "http://[::1]:8766/mcp"),
        ("localhost", "http://localhost:8766/mcp"),
    ],
)
def test_client_url(host: str, url: str) -> None:
    assert client_url(host, 8766) == url


def test_the_argument_wins_over_the_environment_which_wins_over_the_config(tmp_path: Path) -> None:
    config = tmp_path / "gw.yaml"
    config.write_text("host: 0.0.0.0\nport: 9001\nmcp:\n  auth:\n    mode: bearer\nservers:\n  - name: x\n")
    environ = {"MCPSTEAD_URL": "http://127.0.0.1:7000/mcp", "MCPSTEAD_BEARER_TOKEN": "tok-tok-tok-tok-tok"}
    assert resolve_endpoint("http://127.0.0.1:1/mcp", config, True, environ).url == "http://127.0.0.1:1/mcp"
    assert resolve_endpoint(None, config, True, environ).url == "http://127.0.0.1:7000/mcp"
    from_config = resolve_endpoint(None, config, True, {})
    # Only host, port and the auth mode are read: the broken server entry is the gateway's business.
    assert (from_config.url, from_config.auth_expected, from_config.token) == ("http://127.0.0.1:9001/mcp", True, None)
    token = resolve_endpoint(None, config, True, environ).token
    assert token is not None and token.reveal() == "tok-tok-tok-tok-tok"


def test_a_missing_default_config_means_the_default_port_and_a_named_one_is_an_error(tmp_path: Path) -> None:
    assert resolve_endpoint(None, tmp_path / "none.yaml", False, {}).url == "http://127.0.0.1:8766/mcp"
    with pytest.raises(ConfigError, match=r"none\.yaml"):
        resolve_endpoint(None, tmp_path / "none.yaml", True, {})
    (tmp_path / "bad.yaml").write_text("port: [1]\n")
    with pytest.raises(ConfigError, match="port"):
        resolve_endpoint(None, tmp_path / "bad.yaml", True, {})
    with pytest.raises(ConfigError, match="not an http"):
        resolve_endpoint("ftp://x", tmp_path / "none.yaml", False, {})
