"""The dashboard as a client of its own gateway (`start_request`), against the conformance upstream: any
method, progress, the human answering elicitation and sampling, roots from the config, cancellation, and
resource updates reaching it; a client's own session keeps what it declared."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from mcpstead.state import GatewayView
from tests.conformance.suite import conformance_server
from tests.integration.gateway_harness import run_gateway
from tests.integration.test_traffic_capture import HoldView

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


class Human:
    """What a person at the dashboard would do, scripted: answers recorded with what was asked."""

    def __init__(self) -> None:
        self.notes: list[dict[str, Any]] = []
        self.questions: list[tuple[str, dict[str, Any]]] = []

    def notified(self, message: dict[str, Any]) -> None:
        self.notes.append(message)

    async def asked(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self.questions.append((method, params))
        if method == "elicitation/create":
            return {"result": {"action": "accept", "content": {"username": "ada", "email": "ada@example.com"}}}
        text = params["messages"][0]["content"]["text"]
        return {
            "result": {
                "role": "assistant",
                "content": {"type": "text", "text": f"human says {text}"},
                "model": "human",
                "stopReason": "endTurn",
            }
        }


def text_of(answer: dict[str, Any]) -> str:
    return str(answer["result"]["content"][0]["text"])


async def test_the_dashboard_sends_any_method_and_answers_what_the_server_asks(tmp_path: Path) -> None:
    holder = HoldView()
    async with conformance_server(stderr_path=tmp_path / "conf.log") as conf:
        yaml = f"dashboard:\n  roots: [{tmp_path}]\nservers:\n  - name: conf\n    url: {conf.url}\n"
        async with run_gateway(yaml, frontend=holder) as gateway:
            await gateway.wait_connected("conf")
            view = holder.view
            assert view is not None
            human = Human()

            listed = await view.start_request("tools/list", {}).answer
            assert "conf__test_elicitation" in {tool["name"] for tool in listed["result"]["tools"]}
            pong = await view.start_request("ping", {}).answer
            assert pong["result"] == {}

            progress_params = {
                "name": "conf__test_tool_with_progress",
                "arguments": {},
                "_meta": {"progressToken": "p1"},
            }
            answer = await view.start_request("tools/call", progress_params, human).answer
            assert "error" not in answer
            steps = [n["params"]["progress"] for n in human.notes if n["method"] == "notifications/progress"]
            assert steps == [0, 50, 100] and {n["params"]["progressToken"] for n in human.notes} == {"p1"}

            elicited = await view.start_request(
                "tools/call", {"name": "conf__test_elicitation", "arguments": {"message": "who?"}}, human
            ).answer
            assert "ada@example.com" in text_of(elicited)
            sampled = await view.start_request(
                "tools/call", {"name": "conf__test_sampling", "arguments": {"prompt": "hi"}}, human
            ).answer
            assert "human says hi" in text_of(sampled)
            assert [method for method, _ in human.questions] == ["elicitation/create", "sampling/createMessage"]
            assert human.questions[0][1]["message"] == "who?"

            roots = await view.start_request("tools/call", {"name": "conf__test_list_roots", "arguments": {}}).answer
            assert json.loads(text_of(roots)) == [{"uri": tmp_path.as_uri(), "name": tmp_path.name}]

            nobody = await view.start_request(
                "tools/call", {"name": "conf__test_elicitation", "arguments": {"message": "x"}}
            ).answer  # no handler: the upstream is told nobody can answer, it does not hang
            assert "nobody at the dashboard" in json.dumps(nobody)

            slow = view.start_request(
                "tools/call",
                {"name": "conf__test_slow", "arguments": {"seconds": 5}, "_meta": {"progressToken": 1}},
                human,
            )
            await _until(lambda: any(n["params"].get("progressToken") == 1 for n in human.notes))
            await slow.cancel("enough")
            cancelled = await asyncio.wait_for(slow.answer, 5)
            assert cancelled["error"]["code"] == -32800
            record = json.loads(
                text_of(
                    await view.start_request("tools/call", {"name": "conf__test_cancellations", "arguments": {}}).answer
                )
            )
            assert len(record) == 1

            await _resource_updates_reach_the_dashboard(view)
            await _a_client_session_keeps_its_own_capabilities(gateway.url)

            calls = [(c.tool, c.source, c.client) for c in view.snapshot().calls]
            assert ("conf__test_sampling", "dashboard", "dashboard") in calls
            assert all(s.client_name != "dashboard" for s in view.snapshot().sessions)  # never listed as a client


async def _resource_updates_reach_the_dashboard(view: GatewayView) -> None:
    updates: list[dict[str, Any]] = []
    view.on_notification(updates.append)
    resources = (await view.start_request("resources/list", {}).answer)["result"]["resources"]
    uri = resources[0]["uri"]
    assert (await view.start_request("resources/subscribe", {"uri": uri}).answer)["result"] == {}
    await view.start_request(
        "tools/call", {"name": "conf__test_notify_resource_updated", "arguments": {"uri": uri}}
    ).answer
    await _until(lambda: any(u.get("method") == "notifications/resources/updated" for u in updates))
    assert updates[-1]["params"]["uri"] == uri


async def _a_client_session_keeps_its_own_capabilities(url: str) -> None:
    """A client that declared no elicitation is refused, while the dashboard's session can be asked."""
    async with Client(url, mode="legacy") as client:
        result = await client.call_tool("conf__test_elicitation", {"message": "x"})
    assert result.is_error and "did not declare the 'elicitation' capability" in result.content[0].text  # type: ignore[union-attr]


async def _until(condition: Any, timeout: float = 10) -> None:
    """Poll (bounded) for what arrives through callbacks the test does not own."""
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)
