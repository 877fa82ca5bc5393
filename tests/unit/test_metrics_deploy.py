"""mcpstead_upstream_calls_in_flight, the in-flight relays panel of deploy/grafana/mcpstead.json: a real Gateway
with a scripted upstream that holds its tools/call answers, read through GET /metrics."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from mcpstead.config_load import parse_config
from mcpstead.downstream.app import create_app
from mcpstead.gateway import Gateway
from tests.fakes import FakeUpstream, rpc_error, tool

CONFIG = "servers:\n  - name: held\n    url: http://127.0.0.1:9/mcp\n  - name: idle\n    url: http://127.0.0.1:9/mcp\n"
PER_CLIENT = CONFIG.replace("name: held\n", "name: held\n    session: per_client\n")
ACCEPT = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
WAIT = 5.0


@contextlib.asynccontextmanager
async def gateway_with(
    upstreams: dict[str, FakeUpstream], text: str = CONFIG
) -> AsyncIterator[tuple[Gateway, httpx.AsyncClient]]:
    def connect(config, transport, hooks):  # type: ignore[no-untyped-def]
        return upstreams[config.name].connect(config, transport, hooks)

    config = parse_config(text, "test.yaml", {})
    async with (
        Gateway(config, connect=connect) as gateway,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(gateway)), base_url="http://127.0.0.1:8766"
        ) as client,
    ):
        async with asyncio.timeout(WAIT):
            while any(supervisor.status != "ready" for supervisor in gateway.supervisors.values()):
                await gateway.wait_for_change(gateway.version, timeout=WAIT)
        yield gateway, client


async def in_flight(client: httpx.AsyncClient) -> dict[str, float]:
    text = (await client.get("/metrics")).text
    families = {family.name: family for family in text_string_to_metric_families(text)}
    family = families["mcpstead_upstream_calls_in_flight"]
    assert family.type == "gauge"
    return {sample.labels["server"]: sample.value for sample in family.samples}


async def session(client: httpx.AsyncClient) -> str:
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    response = await client.post("/mcp", json=init, headers=ACCEPT)
    assert response.status_code == 200, response.text
    return response.headers["mcp-session-id"]


@pytest.mark.parametrize("text", [CONFIG, PER_CLIENT], ids=["shared", "per_client"])
async def test_calls_in_flight_counts_relays_waiting_for_their_upstream_and_drops_when_they_end(text: str) -> None:
    release = asyncio.Event()
    held = FakeUpstream(tools=[tool("slow")], hold={"tools/call": release})
    async with gateway_with({"held": held, "idle": FakeUpstream()}, text) as (_, client):
        assert await in_flight(client) == {"held": 0.0, "idle": 0.0}
        sid = await session(client)
        headers = {**ACCEPT, "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"}

        async def call(msg_id: int) -> httpx.Response:
            body = {"jsonrpc": "2.0", "id": msg_id, "method": "tools/call", "params": {"name": "held__slow"}}
            return await client.post("/mcp", json=body, headers=headers)

        calls = [asyncio.create_task(call(n)) for n in (2, 3, 4)]
        try:
            async with asyncio.timeout(WAIT):
                while held.methods().count("tools/call") < 3:
                    held.changed.clear()
                    await held.changed.wait()
            assert await in_flight(client) == {"held": 3.0, "idle": 0.0}
        finally:
            release.set()
            async with asyncio.timeout(WAIT):
                answers = await asyncio.gather(*calls)
        assert all(answer.status_code == 200 and "result" in answer.json() for answer in answers)
        assert await in_flight(client) == {"held": 0.0, "idle": 0.0}


async def test_a_failed_relay_leaves_nothing_in_flight() -> None:
    failing = FakeUpstream(tools=[tool("boom")], answers={"tools/call": rpc_error("held", -32099, "exploded")})
    async with gateway_with({"held": failing, "idle": FakeUpstream()}) as (_, client):
        sid = await session(client)
        headers = {**ACCEPT, "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25"}
        body = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "held__boom"}}
        answer = await client.post("/mcp", json=body, headers=headers)
        assert answer.json()["error"]["code"] == -32099
        assert await in_flight(client) == {"held": 0.0, "idle": 0.0}
