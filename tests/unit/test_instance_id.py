"""`instance_id`: the prefix of every session id an instance issues, so nginx can route a session home.

The key (its rule, its errors with file:line:col, `$MCPSTEAD_INSTANCE_ID` over the file), the session ids
(`<instance_id>.<192 random bits>`, unchanged without an id), /health, and a reload that changes it (kept
until a restart, like host and port).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping

import jsonschema
import pytest

from mcpstead.config import INSTANCE_ID_ENV, GatewayConfig
from mcpstead.config_diff import diff_configs, effective_config
from mcpstead.config_load import parse_config
from mcpstead.config_schema import config_schema
from mcpstead.downstream.admin import health_document
from mcpstead.errors import ConfigError
from mcpstead.gateway import Gateway
from mcpstead.sessions import SESSION_ID_BYTES, SessionStore
from mcpstead.state import short_session_id
from mcpstead.traffic import short_session

RULE = "it must be 1 to 32 letters, digits, '-' or '_'"


def load(text: str, environ: Mapping[str, str] | None = None) -> GatewayConfig:
    return parse_config(text, "gw.yaml", dict(environ or {}))


def problems(text: str, environ: Mapping[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(text, environ)
    return caught.value.problems


def random_part(session_id: str, prefix: str) -> bytes:
    assert session_id.startswith(prefix)
    rest = session_id.removeprefix(prefix)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", rest), session_id
    return base64.urlsafe_b64decode(rest + "=" * (-len(rest) % 4))


# -- the key -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["a", "b", "eu-west_1", "A9", "x" * 32, "-", "_a-"])
def test_an_instance_id_of_letters_digits_dash_and_underscore_is_accepted(value: str) -> None:
    assert load(f"instance_id: '{value}'\n").instance_id == value


def test_without_the_key_there_is_no_instance_id() -> None:
    assert load("port: 1\n").instance_id is None
    assert load("instance_id: null\n").instance_id is None


@pytest.mark.parametrize("value", ["", "a.b", "a b", "x" * 33, "é", "a/b", "a:b", "a\n"])
def test_a_bad_instance_id_is_an_error_naming_file_line_column_and_the_rule(value: str) -> None:
    text = f"port: 1\ninstance_id: {value!r}\n".replace("'a\\n'", '"a\\n"')
    assert problems(text) == [f"gw.yaml:2:14: instance_id: {value!r} is not an instance id: {RULE}"]


def test_an_instance_id_that_is_not_a_string_says_what_it_got() -> None:
    assert problems("instance_id: 7\n") == ["gw.yaml:1:14: instance_id: expected a string, got an integer 7"]


def test_a_misspelt_key_suggests_instance_id() -> None:
    (problem,) = problems("instance_ids: a\n")
    assert problem.startswith("gw.yaml:1:1: instance_ids: unknown key (did you mean 'instance_id'?")


def test_the_environment_variable_overrides_the_file() -> None:
    assert load("instance_id: a\n", {INSTANCE_ID_ENV: "b"}).instance_id == "b"
    assert load("port: 1\n", {INSTANCE_ID_ENV: "b"}).instance_id == "b"


def test_an_empty_environment_variable_counts_as_unset() -> None:
    assert load("instance_id: a\n", {INSTANCE_ID_ENV: ""}).instance_id == "a"


def test_a_bad_environment_variable_is_an_error_naming_it_not_a_line() -> None:
    assert problems("port: 1\n", {INSTANCE_ID_ENV: "a.b"}) == [
        f"gw.yaml: environment variable {INSTANCE_ID_ENV}: 'a.b' is not an instance id: {RULE}"
    ]


def test_a_bad_file_value_is_reported_even_when_the_variable_overrides_it() -> None:
    assert problems("instance_id: a.b\n", {INSTANCE_ID_ENV: "a"}) == [
        f"gw.yaml:1:14: instance_id: 'a.b' is not an instance id: {RULE}"
    ]


@pytest.mark.parametrize(("value", "valid"), [("a", True), ("a-1_B", True), ("a.b", False), ("x" * 33, False)])
def test_the_schema_says_what_the_loader_says(value: str, valid: bool) -> None:
    assert jsonschema.Draft7Validator(config_schema()).is_valid({"instance_id": value}) is valid


# -- the session ids -----------------------------------------------------------------------------------------


def test_session_ids_start_with_the_instance_id_and_a_dot_then_192_random_bits() -> None:
    store = SessionStore("a")
    ids = {
        store.create(protocol_version="2025-11-25", client_name="c", client_version="1", wall=0, monotonic=0).session_id
        for _ in range(50)
    }
    assert len(ids) == 50
    for session_id in ids:
        assert len(random_part(session_id, "a.")) == SESSION_ID_BYTES == 24
        assert session_id.partition(".")[0] == "a"
        assert store.get(session_id) is not None


def test_without_an_instance_id_session_ids_are_the_random_part_alone() -> None:
    store = SessionStore()
    session = store.create(protocol_version="2025-11-25", client_name="c", client_version="1", wall=0, monotonic=0)
    assert "." not in session.session_id
    assert len(random_part(session.session_id, "")) == SESSION_ID_BYTES


# -- the gateway: sessions, /health, reload ----------------------------------------------------------------


def new_session_id(gateway: Gateway) -> str:
    session = gateway.sessions.create(
        protocol_version="2025-11-25", client_name="c", client_version="1", wall=0, monotonic=0
    )
    return session.session_id


async def test_the_gateway_prefixes_its_sessions_and_health_shows_the_instance_id() -> None:
    async with Gateway(load("instance_id: a\n")) as gateway:
        assert new_session_id(gateway).startswith("a.")
        assert health_document(gateway)["instance_id"] == "a"
    async with Gateway(load("port: 1\n")) as gateway:
        assert health_document(gateway)["instance_id"] is None


def test_a_changed_instance_id_is_ignored_until_a_restart_like_host_and_port() -> None:
    old, new = load("instance_id: a\n"), load("instance_id: b\n")
    assert diff_configs(old, new).ignored == ("instance_id",)
    assert effective_config(old, new).instance_id == "a"
    assert diff_configs(old, load("instance_id: a\n")).ignored == ()
    assert diff_configs(load("port: 1\n"), load("port: 1\ninstance_id: a\n")).ignored == ("instance_id",)


async def test_a_reload_that_changes_it_keeps_every_session_and_new_ones_keep_the_running_id() -> None:
    async with Gateway(load("instance_id: a\n")) as gateway:
        before = new_session_id(gateway)
        outcome = await gateway.apply_config(load("instance_id: b\n"))
        assert outcome.ok and outcome.ignored == ("instance_id",)
        assert gateway.sessions.get(before) is not None
        assert new_session_id(gateway).startswith("a.")
        assert gateway.config.instance_id == health_document(gateway)["instance_id"] == "a"
        assert health_document(gateway)["last_reload"]["ignored"] == ["instance_id"]


def test_short_ids_keep_the_instance_prefix_and_still_tell_sessions_apart() -> None:
    """Logs, traffic records and the dashboard show sessions by a short id: with a long instance id the
    first 8 characters would be the prefix alone, the same for every session."""
    store = SessionStore("gateway-east")
    ids = [
        store.create(protocol_version="2025-11-25", client_name="c", client_version="1", wall=0.0, monotonic=0.0)
        for _ in range(20)
    ]
    shorts = {short_session_id(session.session_id) for session in ids}
    assert len(shorts) == 20
    assert all(short.startswith("gateway-east.") and len(short) == len("gateway-east.") + 8 for short in shorts)
    assert short_session(ids[0].session_id) == short_session_id(ids[0].session_id)
    plain = SessionStore(None).create(
        protocol_version="2025-11-25", client_name="c", client_version="1", wall=0.0, monotonic=0.0
    )
    assert short_session_id(plain.session_id) == plain.session_id[:8]
