"""Real nginx, with the shipped deploy/nginx/mcpstead.conf (its ports substituted), in front of two real
mcpstead instances (`a` from its config's `instance_id`, `b` from $MCPSTEAD_INSTANCE_ID), each with the
bundled stdio demo server behind it. The clients are the official `mcp` SDK's.

Which instance served a call is read from each instance's own /health (the tool calls it forwarded to its
upstream), never from nginx. Every process is a real child, ended in `finally`; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import TextContent

from tests.deploy.nginx_harness import (
    PLACEHOLDERS,
    SHIPPED_CONF,
    Cluster,
    nginx_binary,
    prepare_nginx,
    start_cluster,
    substitute,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

NGINX = nginx_binary()
needs_nginx = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (apt-get install nginx; .ci/run installs it as root)"
)
WAIT = 15.0
"""Bound on any one scenario's client work."""
LEGACY = "2025-11-25"
SESSION_NOT_FOUND = {"code": -32001, "message": "Session not found"}
"""What an instance answers (HTTP 404) for a session it does not hold."""
HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Both instances and nginx, shared by the tests that kill nothing."""
    assert NGINX is not None
    running = start_cluster(NGINX, tmp_path_factory.mktemp("nginx-cluster"))
    try:
        yield running
    finally:
        running.stop()


def calls(cluster: Cluster) -> dict[str, int]:
    return {instance_id: instance.calls() for instance_id, instance in cluster.instances.items()}


def served(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {instance_id: after[instance_id] - before[instance_id] for instance_id in after}


async def echo(client: Client, message: str) -> None:
    result = await client.call_tool("demo__echo", {"message": message})
    assert not result.is_error, result
    assert result.content == [TextContent(type="text", text=message)]


def raw_initialize(url: str) -> str:
    """A session through nginx with plain HTTP; its id (which names the instance that issued it)."""
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
    }
    response = httpx.post(url, json=body, headers=HEADERS, timeout=5)
    assert response.status_code == 200, response.text
    session_id: str = response.headers["mcp-session-id"]
    initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    sent = {**HEADERS, "mcp-session-id": session_id, "mcp-protocol-version": LEGACY}
    assert httpx.post(url, json=initialized, headers=sent, timeout=5).status_code == 202
    return session_id


def raw_call(url: str, session_id: str) -> httpx.Response:
    body = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "demo__echo", "arguments": {}}}
    sent = {**HEADERS, "mcp-session-id": session_id, "mcp-protocol-version": LEGACY}
    return httpx.post(url, json=body, headers=sent, timeout=5)


# -- the shipped config ----------------------------------------------------------------------------------


def test_the_shipped_config_has_exactly_the_documented_placeholders() -> None:
    text = SHIPPED_CONF.read_text(encoding="utf-8")
    for name in PLACEHOLDERS:
        assert "${" + name + "}" in text
        assert f"${{{name}}}" in text.split("\n\n", 1)[0], f"the header comment's envsubst line names {name}"
    rendered = substitute(text, {name: "1" for name in PLACEHOLDERS})
    assert "${" not in rendered
    assert "$http_mcp_session_id" in rendered and "$host" in rendered  # nginx's own variables untouched
    for needed in ("proxy_buffering off;", "proxy_cache off;", "proxy_http_version 1.1;", 'Connection "";'):
        assert needed in rendered
    assert "client_max_body_size 2m;" in rendered  # mcp.max_body_bytes' default, 2 MiB


@needs_nginx
def test_the_shipped_config_is_valid_nginx_once_substituted(tmp_path: Path) -> None:
    assert NGINX is not None
    prepare_nginx(NGINX, tmp_path, {"LISTEN_PORT": 18080, "INSTANCE_A": 18081, "INSTANCE_B": 18082})  # nginx -t


# -- routing -----------------------------------------------------------------------------------------------


@needs_nginx
def test_initialize_round_robins_and_each_session_id_names_its_instance(cluster: Cluster) -> None:
    ids = [raw_initialize(cluster.url) for _ in range(4)]
    assert sorted(session_id.partition(".")[0] for session_id in ids) == ["a", "a", "b", "b"]
    for session_id in ids:
        before = calls(cluster)
        assert raw_call(cluster.url, session_id).status_code == 200
        assert served(before, calls(cluster)) == {"a": 0, "b": 0} | {session_id.partition(".")[0]: 1}


@needs_nginx
async def test_an_sdk_session_sticks_to_one_instance_through_20_calls(cluster: Cluster) -> None:
    before = calls(cluster)
    async with asyncio.timeout(WAIT), Client(cluster.url, mode="legacy") as client:
        for n in range(20):
            await echo(client, f"sticky-{n}")
    assert sorted(served(before, calls(cluster)).values()) == [0, 20]


@needs_nginx
async def test_10_concurrent_sessions_spread_over_both_instances(cluster: Cluster) -> None:
    before = calls(cluster)
    sessions_before = {i: instance.health()["sessions"] for i, instance in cluster.instances.items()}
    async with asyncio.timeout(WAIT), contextlib.AsyncExitStack() as stack:
        # Entered in this task (anyio's scopes must be left where they were entered); the calls are concurrent.
        clients = [await stack.enter_async_context(Client(cluster.url, mode="legacy")) for _ in range(10)]
        held = {i: instance.health()["sessions"] - sessions_before[i] for i, instance in cluster.instances.items()}
        await asyncio.gather(*(echo(client, f"c{i}-{n}") for i, client in enumerate(clients) for n in range(3)))
    assert sum(held.values()) == 10
    assert min(held.values()) >= 3, held  # round-robin: 5 and 5 unless something else initialized meanwhile
    # Every session's 3 calls went to the instance that holds it.
    assert served(before, calls(cluster)) == {instance_id: 3 * count for instance_id, count in held.items()}


@needs_nginx
async def test_a_2026_client_has_no_session_so_its_calls_go_to_both_instances(cluster: Cluster) -> None:
    before = calls(cluster)
    async with asyncio.timeout(WAIT), Client(cluster.url, mode="2026-07-28") as client:
        for n in range(20):
            await echo(client, f"modern-{n}")
    spread = served(before, calls(cluster))
    assert sum(spread.values()) == 20
    assert min(spread.values()) >= 5, spread


# -- an instance dies ----------------------------------------------------------------------------------------


@needs_nginx
async def test_after_an_instance_is_killed_its_sessions_get_404_and_a_new_session_works(tmp_path: Path) -> None:
    assert NGINX is not None
    cluster = start_cluster(NGINX, tmp_path)  # its own: this test kills one
    try:
        async with asyncio.timeout(WAIT * 2), Client(cluster.url, mode="legacy") as doomed:
            before = calls(cluster)
            await echo(doomed, "before")
            victim = next(instance_id for instance_id, n in served(before, calls(cluster)).items() if n == 1)
            survivor = "b" if victim == "a" else "a"
            raw = next(sid for sid in (raw_initialize(cluster.url) for _ in range(2)) if sid.startswith(victim))

            cluster.instances[victim].kill()

            # nginx cannot connect to the victim, so the survivor gets its sessions: 404, unknown session.
            lost = await asyncio.to_thread(raw_call, cluster.url, raw)
            assert lost.status_code == 404, lost.text
            assert lost.json()["error"] == SESSION_NOT_FOUND

            # The SDK client on the dead instance gets that error, at once: not a hang, not a 502.
            with pytest.raises(MCPError) as caught:
                async with asyncio.timeout(10):
                    await echo(doomed, "after")
            assert (caught.value.code, caught.value.message) == (
                SESSION_NOT_FOUND["code"],
                SESSION_NOT_FOUND["message"],
            )

            # A new session works, on the survivor.
            survivor_before = cluster.instances[survivor].calls()
            async with Client(cluster.url, mode="legacy") as fresh:
                for n in range(3):
                    await echo(fresh, f"fresh-{n}")
            assert cluster.instances[survivor].calls() - survivor_before == 3
    finally:
        cluster.stop()
