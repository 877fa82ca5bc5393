"""Faults injected into real upstreams: the gateway must fail fast and clearly, stay up, and recover alone."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mcpstead.config_load import parse_config
from mcpstead.errors import StartupError
from mcpstead.runner import bind, serve
from tests.integration.gateway_harness import run_gateway
from tests.integration.misbehaving import build_misbehaving_app
from tests.integration.upstreams import UpstreamProcess, serve_app, serve_sdk_upstream

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

FAST_RECOVERY = """
    health_check_seconds: 0.3
    reconnect: {backoff_base_ms: 100, backoff_max_ms: 400}
"""
DEMO = "  - name: demo\n    command: mcpstead\n    args: [demo-server]\n"


def http_upstream(name: str, url: str, extra: str = FAST_RECOVERY) -> str:
    return f"  - name: {name}\n    url: {url}\n{extra}"


@pytest.fixture
def upstream_processes() -> Iterator[list[UpstreamProcess]]:
    processes: list[UpstreamProcess] = []
    yield processes
    for process in processes:
        process.kill()


def text_of(answer: dict[str, Any]) -> str:
    return str(answer["result"]["content"][0]["text"])


async def test_killed_upstream_is_seen_down_fails_fast_and_comes_back(upstream_processes: list) -> None:
    upstream = UpstreamProcess("streamable-json")
    upstream_processes.append(upstream)
    url = upstream.start()
    async with run_gateway("servers:\n" + http_upstream("sdk", url) + DEMO) as gateway:
        await gateway.wait_connected("sdk", "demo")
        session = await gateway.session()
        assert text_of(await session.call_tool("sdk__echo", {"message": "before"})) == "echo: before"

        upstream.kill()
        # First the broken link ("Server disconnected", or the failed health check), then the reconnect
        # attempt that is refused: wait for the latter (which comes first depends on the machine's load).
        health = await gateway.wait_health(
            lambda s: not s["sdk"]["connected"] and "connection refused" in (s["sdk"]["last_error"] or ""), timeout=5
        )
        assert health["status"] == "degraded"
        assert health["servers"][1]["name"] == "sdk"

        started = time.monotonic()
        answer = await session.call_tool("sdk__echo", {"message": "while down"})
        assert time.monotonic() - started < 1.0
        assert answer["error"]["code"] == -32000
        assert answer["error"]["message"].startswith("upstream 'sdk' is disconnected")
        assert answer["error"]["data"] == {"upstream": "sdk"}
        assert text_of(await session.call_tool("demo__echo", {"message": "still here"})) == "still here"

        upstream.start()  # the same port
        await gateway.wait_connected("sdk", timeout=10)
        assert text_of(await session.call_tool("sdk__echo", {"message": "after"})) == "echo: after"


async def test_upstream_that_forgot_its_sessions_is_reinitialized_once_for_concurrent_calls(
    upstream_processes: list,
) -> None:
    upstream = UpstreamProcess("streamable-json")
    upstream_processes.append(upstream)
    url = upstream.start()
    slow_checks = "    health_check_seconds: 3600\n"
    async with run_gateway("servers:\n" + http_upstream("sdk", url, slow_checks)) as gateway:
        await gateway.wait_connected("sdk")
        session = await gateway.session()
        assert text_of(await session.call_tool("sdk__echo", {"message": "one"})) == "echo: one"
        upstream.kill()
        upstream.start()  # same port, no memory of the gateway's session
        answers = await asyncio.gather(*(session.call_tool("sdk__add", {"a": n, "b": 1}) for n in range(5)))
        assert [a["result"]["structuredContent"] for a in answers] == [{"result": n + 1} for n in range(5)]
        health = await gateway.health()
        assert health["servers"][0]["session_resets"] == {"unknown_session": 1, "expired": 0, "terminated": 0}
        assert health["servers"][0]["connected"] is True


async def test_hanging_call_times_out_while_other_calls_flow() -> None:
    async with (
        serve_sdk_upstream(json_response=True) as url,
        run_gateway("servers:\n" + http_upstream("sdk", url, "    timeout_seconds: 1\n") + DEMO) as gateway,
    ):
        await gateway.wait_connected("sdk", "demo")
        session = await gateway.session()
        started = time.monotonic()
        hanging = asyncio.create_task(session.call_tool("sdk__nap", {"seconds": 20}))
        others = await asyncio.gather(*(session.call_tool("sdk__echo", {"message": str(n)}) for n in range(3)))
        assert [text_of(a) for a in others] == ["echo: 0", "echo: 1", "echo: 2"]
        assert time.monotonic() - started < 1.0
        answer = await hanging
        elapsed = time.monotonic() - started
        assert 0.9 < elapsed < 3.0
        assert answer["error"] == {
            "code": -32000,
            "message": "upstream 'sdk' timed out after 1s",
            "data": {"upstream": "sdk"},
        }
        assert text_of(await session.call_tool("demo__echo", {"message": "fine"})) == "fine"
        assert (await gateway.health())["servers"][1]["connected"] is True


@pytest.mark.parametrize(
    ("tool", "expected"),
    [
        ("garbage", "upstream 'bad' response body is not valid JSON"),
        ("html", "upstream 'bad' answered with content type 'text/html', expected JSON or SSE"),
        ("http500", "upstream 'bad' HTTP 500: internal kaboom"),
        ("cut_sse", "upstream 'bad' SSE stream ended before the response"),
        ("wrong_id", "upstream 'bad' answered with the wrong id"),
    ],
)
async def test_bad_answers_are_clear_errors(tool: str, expected: str) -> None:
    async with (
        serve_app(build_misbehaving_app()) as url,
        run_gateway("servers:\n" + http_upstream("bad", url) + DEMO) as gateway,
    ):
        await gateway.wait_connected("bad", "demo")
        session = await gateway.session()
        answer = await session.call_tool(f"bad__{tool}")
        assert answer["error"] == {"code": -32000, "message": expected, "data": {"upstream": "bad"}}
        assert text_of(await session.call_tool("demo__echo", {"message": "alive"})) == "alive"


async def test_max_attempts_marks_the_upstream_failed_until_reconnect() -> None:
    config = "servers:\n  - name: gone\n    url: http://127.0.0.1:1/mcp\n    reconnect: {max_attempts: 2, backoff_base_ms: 50, backoff_max_ms: 50}\n"
    async with run_gateway(config) as gateway:
        health = await gateway.wait_health(lambda s: s["gone"]["state"] == "failed", timeout=5)
        server = health["servers"][0]
        assert server["reconnects"] == 2
        assert server["next_retry_in_seconds"] is None
        assert "connection refused" in server["last_error"]


async def test_required_upstream_that_never_comes_up_stops_start_up() -> None:
    config = parse_config(
        "port: 0\nservers:\n  - name: vital\n    url: http://127.0.0.1:1/mcp\n    required: true\n"
        "    reconnect: {max_attempts: 1}\n",
        "t.yaml",
    )
    started = time.monotonic()
    with pytest.raises(StartupError) as caught:
        await serve(config, bind("127.0.0.1", 0), handle_signals=False)
    assert time.monotonic() - started < 5
    assert str(caught.value).startswith("required upstream 'vital' is not up (failed): upstream 'vital' request failed")


@pytest.mark.parametrize("kind", ["sse", "streamable-sse", "streamable-json"])
async def test_auto_detects_the_transport(kind: str, upstream_processes: list) -> None:
    upstream = UpstreamProcess(kind)
    upstream_processes.append(upstream)
    url = upstream.start()
    async with run_gateway("servers:\n" + http_upstream("up", url, "    protocol: auto\n")) as gateway:
        health = await gateway.wait_connected("up")
        assert health["servers"][0]["transport"] == ("sse" if kind == "sse" else "streamable-http")
        session = await gateway.session()
        answer = await session.call_tool("up__add", {"a": 20, "b": 22})
        assert answer["result"]["structuredContent"] == {"result": 42}


async def test_crashed_stdio_child_is_restarted_and_its_stderr_shown() -> None:
    config = "servers:\n" + DEMO + "    reconnect: {backoff_base_ms: 300, backoff_max_ms: 300}\n"
    async with run_gateway(config) as gateway:
        health = await gateway.wait_connected("demo")
        first_pid = health["servers"][0]["pid"]
        session = await gateway.session()
        answer = await session.call_tool("demo__crash", {"code": 7})
        assert answer["error"]["code"] == -32000
        assert "process exited with code 7" in answer["error"]["message"]
        down = await gateway.wait_health(lambda s: s["demo"]["state"] == "backoff", timeout=5)
        server = down["servers"][0]
        assert server["exit_code"] == 7
        assert any("crash" in line for line in server["stderr_tail"])
        back = await gateway.wait_connected("demo", timeout=10)
        assert back["servers"][0]["pid"] != first_pid
        assert text_of(await session.call_tool("demo__echo", {"message": "reborn"})) == "reborn"


async def test_a_timed_out_stdio_call_is_cancelled_upstream() -> None:
    config = "servers:\n" + DEMO + "    timeout_seconds: 0.5\n"
    async with run_gateway(config) as gateway:
        await gateway.wait_connected("demo")
        session = await gateway.session()
        answer = await session.call_tool("demo__sleep", {"seconds": 30})
        assert answer["error"]["message"] == "upstream 'demo' timed out after 0.5s"
        health = await gateway.wait_health(
            lambda s: any("cancelled by the client" in line for line in s["demo"]["stderr_tail"]), timeout=5
        )
        assert health["servers"][0]["connected"] is True


@pytest.mark.parametrize("tool", ["huge_json", "endless_sse"])
async def test_an_answer_over_the_message_limit_is_refused_as_it_arrives(tool: str) -> None:
    limits = "limits: {upstream_message_bytes: 1048576}\n"
    async with (
        serve_app(build_misbehaving_app()) as url,
        run_gateway(limits + "servers:\n" + http_upstream("bad", url) + DEMO) as gateway,
    ):
        await gateway.wait_connected("bad", "demo")
        session = await gateway.session()
        answer = await session.call_tool(f"bad__{tool}", timeout=20)
        assert answer["error"] == {
            "code": -32000,
            "message": "upstream 'bad' answer is larger than 1,048,576 bytes (limits.upstream_message_bytes)",
            "data": {"upstream": "bad"},
        }
        assert text_of(await session.call_tool("demo__echo", {"message": "alive"})) == "alive"
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(f"{gateway.base}/metrics", timeout=5)).text
        assert 'mcpstead_limit_hits_total{limit="upstream_message"} 1.0' in metrics
