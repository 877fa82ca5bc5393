"""Which configs are exposed (no auth beyond loopback), and what the refusal and the warning say."""

from __future__ import annotations

import pytest

from mcpstead.config_load import parse_config
from mcpstead.exposure import is_exposed, refusal, warning

TOKEN = {"MCPSTEAD_BEARER_TOKEN": "a-token-of-enough-length"}


@pytest.mark.parametrize(
    ("host", "auth", "exposed"),
    [
        ("127.0.0.1", "none", False),
        ("localhost", "none", False),
        ("::1", "none", False),
        ("127.0.0.2", "none", False),
        ("0.0.0.0", "none", True),
        ("::", "none", True),
        ("192.168.1.20", "none", True),
        ("gateway.lan", "none", True),
        ("0.0.0.0", "bearer", False),
        ("::", "bearer", False),
    ],
)
def test_exposed_means_no_auth_beyond_loopback(host: str, auth: str, exposed: bool) -> None:
    config = parse_config(f'host: "{host}"\nmcp:\n  auth:\n    mode: {auth}\n', "gw.yaml", TOKEN)
    assert is_exposed(config) is exposed


def test_the_refusal_names_the_address_and_every_way_out_and_the_warning_the_flag() -> None:
    config = parse_config("host: 0.0.0.0\nport: 9100\n", "gw.yaml", {})
    text = refusal(config)
    assert text.startswith("refusing to listen on 0.0.0.0:9100 with mcp.auth.mode: none")
    assert all(way in text for way in ("mcp.auth.mode: bearer", "MCPSTEAD_BEARER_TOKEN", "127.0.0.1", "--allow-"))
    assert warning(config).startswith("UNAUTHENTICATED: listening on 0.0.0.0:9100")


def test_an_ipv6_address_is_shown_in_brackets() -> None:
    config = parse_config('host: "::"\nport: 9100\n', "gw.yaml", {})
    assert refusal(config).startswith("refusing to listen on [::]:9100 with")
    assert warning(config).startswith("UNAUTHENTICATED: listening on [::]:9100 with")
