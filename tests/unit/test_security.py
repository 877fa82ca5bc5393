"""DNS-rebinding guard (Host and Origin) and downstream bearer auth."""

from __future__ import annotations

import pytest

from mcpstead.config import BEARER_TOKEN_ENV, GatewayConfig
from mcpstead.config_load import parse_config
from mcpstead.downstream.auth import auth_failure
from mcpstead.downstream.security import RequestGuard, client_address
from mcpstead.exposure import is_loopback_host

LOOPBACK = RequestGuard("127.0.0.1", (), ())


@pytest.mark.parametrize(
    "host",
    [
        None,
        "127.0.0.1",
        "127.0.0.1:8766",
        "localhost",
        "localhost:8766",
        "LOCALHOST:8766",
        "[::1]",
        "[::1]:8766",
        "127.0.0.2:80",
    ],
)
def test_loopback_hosts_pass(host: str | None) -> None:
    assert LOOPBACK.host_allowed(host)


@pytest.mark.parametrize(
    "host",
    [
        "evil.example.com",
        "evil.example.com:8766",
        "localhost.evil.example.com",
        "127.0.0.1.evil.example.com",
        "10.0.0.5:8766",
        "[2001:db8::1]:8766",
        "",
        "[::1].evil.com",
        "[::1]evil.com:80",
        "[::1]:80.evil.com",
        "127.0.0.1:8766:1",
        "127.0.0.1:port",
        "user@127.0.0.1",
        "127.0.0.1/x",
        "[]",
    ],
)
def test_foreign_hosts_are_rejected_on_a_loopback_bind(host: str) -> None:
    assert not LOOPBACK.host_allowed(host)


@pytest.mark.parametrize("bind", ["0.0.0.0", "192.168.1.10", "::"])
def test_non_loopback_bind_skips_the_host_check(bind: str) -> None:
    assert RequestGuard(bind, (), ()).host_allowed("evil.example.com")


@pytest.mark.parametrize("bind", ["localhost", "::1", "127.0.0.1"])
def test_loopback_binds_check_the_host(bind: str) -> None:
    assert not RequestGuard(bind, (), ()).host_allowed("evil.example.com")


def test_allowed_host_with_port_is_matched_exactly_case_insensitive() -> None:
    guard = RequestGuard("127.0.0.1", ["MyBox.local:8766"], ())
    assert guard.host_allowed("mybox.local:8766")
    assert guard.host_allowed("MYBOX.LOCAL:8766")
    assert not guard.host_allowed("mybox.local:9999")
    assert not guard.host_allowed("other.local:8766")


def test_allowed_host_without_port_allows_any_port() -> None:
    guard = RequestGuard("127.0.0.1", ["mybox.local"], ())
    assert guard.host_allowed("mybox.local:8766")
    assert guard.host_allowed("mybox.local")
    assert not guard.host_allowed("evil.local:8766")


@pytest.mark.parametrize(
    "origin",
    [
        None,
        "http://localhost",
        "http://localhost:5173",
        "https://localhost:5173/",
        "http://127.0.0.1:8766",
        "http://[::1]:3000",
        "HTTP://LOCALHOST:5173",
    ],
)
def test_loopback_origins_pass(origin: str | None) -> None:
    assert LOOPBACK.origin_allowed(origin)


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example.com",
        "https://evil.example.com:8766",
        "http://localhost.evil.example.com",
        "http://127.0.0.1@evil.example.com",
        "null",
        "file://",
        "ftp://localhost",
        "",
    ],
)
def test_foreign_origins_are_rejected(origin: str) -> None:
    assert not LOOPBACK.origin_allowed(origin)


def test_origin_is_checked_on_any_bind() -> None:
    assert not RequestGuard("0.0.0.0", (), ()).origin_allowed("http://evil.example.com")


def test_allowed_origins_are_honoured() -> None:
    guard = RequestGuard("0.0.0.0", (), ["https://App.Example.com/"])
    assert guard.origin_allowed("https://app.example.com")
    assert guard.origin_allowed("https://app.example.com/")
    assert not guard.origin_allowed("http://app.example.com")
    assert not guard.origin_allowed("https://app.example.com:8443")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("[::1]", True), ("localhost", True), ("0.0.0.0", False), ("a.b", False)],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


# -- auth --------------------------------------------------------------------------------------------------

TOKEN = "tok-123-long-enough"
BEARER = parse_config("mcp:\n  auth:\n    mode: bearer\n", "t.yaml", {BEARER_TOKEN_ENV: TOKEN})


@pytest.mark.parametrize("header", [None, "", "Bearer x", "garbage"])
def test_mode_none_lets_everything_pass(header: str | None) -> None:
    assert auth_failure(parse_config("", "t.yaml", {}), header) is None


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing_header"),
        (f"Bearer {TOKEN}", None),
        (f"Bearer {TOKEN}   ", None),
        (f"  Bearer {TOKEN}", None),
        ("Bearer wrong", "wrong_token"),
        (f"Bearer {TOKEN}x", "wrong_token"),
        (f"Bearer  {TOKEN}", "wrong_token"),
        (f"Basic {TOKEN}", "bad_format"),
        (TOKEN, "bad_format"),
        ("Bearer", "bad_format"),
        ("Bearer ", "bad_format"),
        ("", "bad_format"),
    ],
)
def test_bearer_reasons(header: str | None, reason: str | None) -> None:
    assert auth_failure(BEARER, header) == reason


def test_scheme_is_case_insensitive() -> None:
    # RFC 9110 §11.1: the auth scheme is case-insensitive (the reference insisted on "Bearer ").
    assert auth_failure(BEARER, f"bearer {TOKEN}") is None
    assert auth_failure(BEARER, f"BEARER {TOKEN}") is None


def test_bearer_mode_without_a_loaded_token_is_internal() -> None:
    config = GatewayConfig.model_validate({"mcp": {"auth": {"mode": "bearer"}}})
    assert auth_failure(config, f"Bearer {TOKEN}") == "internal"


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "client"),
    [
        ("127.0.0.1", "10.0.0.7", ["127.0.0.1"], "10.0.0.7"),
        ("127.0.0.1", "1.2.3.4, 10.0.0.7", ["127.0.0.0/8"], "10.0.0.7"),  # the proxy's own entry is last
        ("127.0.0.1", "10.0.0.7", [], "127.0.0.1"),  # no proxy trusted: the header is anyone's to write
        ("10.1.1.1", "10.0.0.7", ["127.0.0.1"], "10.1.1.1"),  # from elsewhere: the header is ignored
        ("127.0.0.1", "not-an-address", ["127.0.0.1"], "127.0.0.1"),
        ("127.0.0.1", None, ["127.0.0.1"], "127.0.0.1"),
        ("::1", "2001:db8::1", ["::1"], "2001:db8::1"),
        (None, "10.0.0.7", ["127.0.0.1"], None),
    ],
)
def test_client_address_behind_a_trusted_proxy(
    peer: str | None, forwarded: str | None, trusted: list[str], client: str | None
) -> None:
    assert client_address(peer, forwarded, trusted) == client
