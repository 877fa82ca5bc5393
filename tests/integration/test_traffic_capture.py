"""The traffic tap on a real gateway: an SDK client's session through it, on both hops, in the dashboard's
memory and in a capture file; the capture opens in `mcpstead view` as the same rows; no secret in either."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client
from textual.pilot import Pilot

from mcpstead.capture import read_capture
from mcpstead.state import GatewayView, TrafficRecord
from tests.integration.gateway_harness import run_gateway
from tests.integration.upstreams import serve_sdk_upstream
from tests.tui.fakes import FakeView, snapshot
from tests.tui.helpers import show_tab, wait_until
from tui.app import DashboardApp
from tui.capture_viewer import CaptureViewer
from tui.traffic_model import TrafficModel, TrafficRow
from tui.widgets.traffic import TrafficTable

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

SECRET = "cap-SECRET-9f3e1d"
ENVIRON = {
    "MCPSTEAD_BEARER_TOKEN": SECRET + "-downstream-token",
    "UPSTREAM_TOKEN": SECRET + "-upstream",
    "HEADER_KEY": SECRET + "-header",
}


def config(upstream_url: str) -> str:
    return f"""
mcp:
  auth: {{mode: bearer}}
servers:
  - name: sdk
    url: {upstream_url}
    auth: {{type: bearer, token_env: UPSTREAM_TOKEN}}
    headers: {{X-Api-Key: '${{HEADER_KEY}}'}}
  - name: demo
    command: mcpstead
    args: [demo-server]
"""


class HoldView:
    """A frontend that only keeps the gateway's view (so the runner keeps traffic, as for the dashboard)."""

    def __init__(self) -> None:
        self.view: GatewayView | None = None

    async def run(self, view: GatewayView, stop: asyncio.Event) -> None:
        self.view = view
        await stop.wait()


def find(model: TrafficModel, hop: str, direction: str, method: str, kind: str = "request") -> list[TrafficRow]:
    return [
        row
        for row in model.rows()
        if (row.record.hop, row.record.direction, row.method, row.summary.kind) == (hop, direction, method, kind)
    ]


async def test_a_session_is_seen_on_both_hops_and_captured_without_secrets(tmp_path: Path) -> None:
    capture = tmp_path / "capture.jsonl"
    holder = HoldView()
    auth = {"Authorization": f"Bearer {ENVIRON['MCPSTEAD_BEARER_TOKEN']}"}
    async with (
        serve_sdk_upstream(json_response=False) as upstream_url,
        run_gateway(config(upstream_url), ENVIRON, capture=capture, frontend=holder) as gateway,
    ):
        await gateway.wait_connected("sdk", "demo")
        progress: list[float] = []

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            progress.append(done)

        async with (
            create_mcp_http_client(headers=auth) as http,
            Client(streamable_http_client(gateway.url, http_client=http), mode="legacy") as client,
        ):
            await client.list_tools()
            await client.call_tool("demo__sleep", {"seconds": 0.1, "steps": 2}, progress_callback=on_progress)
            echoed = await client.call_tool("sdk__echo", {"message": "over http"})
        assert progress == [1, 2] and echoed.content[0].text == "echo: over http"  # type: ignore[union-attr]
        assert holder.view is not None
        live = holder.view.traffic_since(0)

    model = TrafficModel()
    model.add(live)
    initialize = find(model, "client", "in", "initialize")[0]
    assert initialize.answered_by is not None and model.session_of(initialize)  # the session comes with the answer
    assert find(model, "client", "in", "tools/list")

    (sleep,) = [
        r for r in find(model, "client", "in", "tools/call") if r.summary.parsed["params"]["name"] == "demo__sleep"
    ]
    group = model.group_rows(sleep)
    upstream_call = model.counterpart(sleep)
    assert upstream_call is not None and upstream_call.record.upstream == "demo"
    assert upstream_call.summary.parsed["params"]["name"] == "sleep"
    assert upstream_call.summary.parsed["id"] != sleep.summary.parsed["id"]  # the gateway's own id upstream
    hops = [(r.hop_label, r.method, r.summary.kind) for r in group]
    assert hops.count(("up→gw", "notifications/progress", "notification")) == 2
    assert hops.count(("gw→client", "notifications/progress", "notification")) == 2
    assert hops[:2] == [("client→gw", "tools/call", "request"), ("gw→up", "tools/call", "request")]
    assert hops[-1] == ("gw→client", "tools/call", "result") and ("up→gw", "tools/call", "result") in hops
    assert sleep.answered_by is not None and sleep.answered_by.latency_ms is not None

    (echo,) = [
        r for r in find(model, "client", "in", "tools/call") if r.summary.parsed["params"]["name"] == "sdk__echo"
    ]
    echo_upstream = model.counterpart(echo)
    assert echo_upstream is not None and echo_upstream.record.call == echo.record.call  # linked in its task

    raw = capture.read_bytes()
    assert SECRET.encode() not in raw
    assert not any(SECRET.encode() in record.data for record in live)
    captured = read_capture([capture])
    newest = live[-1].seq
    assert [_essence(r) for r in captured if r.seq <= newest] == [_essence(r) for r in live]

    assert await _viewer_rows(captured) == await _dashboard_rows(live)


def _essence(record: TrafficRecord) -> tuple[Any, ...]:
    return (
        record.seq,
        record.hop,
        record.direction,
        record.session,
        record.upstream,
        record.call,
        json.loads(record.data),
        round(record.at, 3),
    )


async def _table_rows(pilot: Pilot[Any], table: TrafficTable) -> list[tuple[str, ...]]:
    await wait_until(pilot, lambda: table.row_count > 0)
    return [tuple(str(cell) for cell in table.get_row_at(index)) for index in range(table.row_count)]


async def _viewer_rows(records: list[TrafficRecord]) -> list[tuple[str, ...]]:
    app = CaptureViewer(records, title="capture.jsonl")
    async with app.run_test(size=(160, 40)) as pilot:
        return await _table_rows(pilot, app.query_one(TrafficTable))


async def _dashboard_rows(records: tuple[TrafficRecord, ...]) -> list[tuple[str, ...]]:
    view = FakeView(snapshot())
    view.traffic = list(records)
    app = DashboardApp(view, frame_interval=0.05)
    app.animation_level = "none"
    async with app.run_test(size=(160, 40)) as pilot:
        await show_tab(pilot, "4", "traffic")
        return await _table_rows(pilot, app.query_one(TrafficTable))
