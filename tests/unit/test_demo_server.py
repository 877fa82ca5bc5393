"""The stdlib demo server, driven as a subprocess over raw newline-delimited JSON-RPC."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
WAIT = 5.0  # upper bound for any single wait; the server answers in milliseconds

JSON = dict[str, Any]


class DemoProcess:
    """A running `python -m mcpstead.demo` with helpers to talk to it line by line."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.next_id = 0
        self.notifications: list[JSON] = []

    async def send(self, message: JSON | bytes) -> None:
        assert self.proc.stdin is not None
        data = message if isinstance(message, bytes) else json.dumps(message).encode() + b"\n"
        self.proc.stdin.write(data)
        await self.proc.stdin.drain()

    async def receive(self) -> JSON:
        assert self.proc.stdout is not None
        async with asyncio.timeout(WAIT):
            line = await self.proc.stdout.readline()
        assert line.endswith(b"\n"), f"stdout closed or partial line: {line!r}"
        message: JSON = json.loads(line)
        assert message["jsonrpc"] == "2.0"
        return message

    async def start(self, method: str, params: JSON | None = None) -> int:
        """Send a request without waiting for its response; return its id."""
        self.next_id += 1
        request: JSON = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            request["params"] = params
        await self.send(request)
        return self.next_id

    async def response(self, request_id: int | str | None) -> JSON:
        """Read until the response with this id, keeping notifications and failing on other responses."""
        while True:
            message = await self.receive()
            if "id" not in message:
                self.notifications.append(message)
                continue
            assert message["id"] == request_id, f"unexpected message {message}"
            return message

    async def request(self, method: str, params: JSON | None = None) -> JSON:
        return await self.response(await self.start(method, params))

    async def result(self, method: str, params: JSON | None = None) -> JSON:
        response = await self.request(method, params)
        assert "result" in response, response
        result: JSON = response["result"]
        return result

    async def call(self, tool: str, arguments: JSON | None = None) -> JSON:
        params: JSON = {"name": tool}
        if arguments is not None:
            params["arguments"] = arguments
        return await self.result("tools/call", params)

    async def stderr_line(self) -> str:
        assert self.proc.stderr is not None
        async with asyncio.timeout(WAIT):
            return (await self.proc.stderr.readline()).decode()

    async def exit_code(self) -> int:
        async with asyncio.timeout(WAIT):
            return await self.proc.wait()


@pytest.fixture
async def demo() -> AsyncIterator[DemoProcess]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mcpstead.demo",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env=env,
    )
    try:
        yield DemoProcess(proc)
    finally:
        if proc.returncode is None:
            proc.kill()
        async with asyncio.timeout(WAIT):
            await proc.wait()


def text_of(result: JSON) -> str:
    [block] = result["content"]
    assert block["type"] == "text"
    text: str = block["text"]
    return text


async def test_initialize_answers_a_supported_version_and_logs_to_stderr(demo: DemoProcess) -> None:
    result = await demo.result(
        "initialize",
        {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "unit-test", "version": "1"},
        },
    )
    assert result["protocolVersion"] == "2025-06-18"
    assert result["capabilities"] == {"tools": {"listChanged": False}, "logging": {}}
    assert result["serverInfo"]["name"] == "mcpstead-demo"
    assert isinstance(result["serverInfo"]["version"], str)
    assert result["instructions"]
    assert "initialized by unit-test" in await demo.stderr_line()
    await demo.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert await demo.result("ping") == {}  # the notification got no response: the next line is the ping's


async def test_initialize_falls_back_to_the_latest_version(demo: DemoProcess) -> None:
    result = await demo.result("initialize", {"protocolVersion": "1999-01-01", "capabilities": {}})
    assert result["protocolVersion"] == "2025-11-25"


async def test_requests_before_initialize_are_served(demo: DemoProcess) -> None:
    assert await demo.result("ping") == {}
    assert text_of(await demo.call("echo", {"message": "early"})) == "early"


async def test_tools_list_paginates_over_all_tools(demo: DemoProcess) -> None:
    pages: list[list[JSON]] = []
    params: JSON = {}
    while True:
        result = await demo.result("tools/list", params)
        pages.append(result["tools"])
        if "nextCursor" not in result:
            break
        assert isinstance(result["nextCursor"], str)
        params = {"cursor": result["nextCursor"]}
    assert [len(page) for page in pages] == [4, 3]
    tools = {tool["name"]: tool for page in pages for tool in page}
    assert set(tools) == {"echo", "add", "sleep", "fail", "weather", "stderr", "crash"}
    for tool in tools.values():
        assert tool["description"]
        schema = tool["inputSchema"]
        assert schema["type"] == "object"
        assert isinstance(schema["required"], list)
        assert set(schema["required"]) <= set(schema["properties"])
    assert tools["add"]["inputSchema"]["required"] == ["a", "b"]
    assert tools["weather"]["inputSchema"]["properties"]["units"]["enum"] == ["metric", "imperial"]
    assert {name for name, tool in tools.items() if "outputSchema" in tool} == {"add", "weather"}


async def test_tools_list_rejects_an_unknown_cursor(demo: DemoProcess) -> None:
    response = await demo.request("tools/list", {"cursor": "not-a-cursor"})
    assert response["error"]["code"] == -32602


async def test_echo_add_and_fail(demo: DemoProcess) -> None:
    assert text_of(await demo.call("echo", {"message": "hello ✓"})) == "hello ✓"

    added = await demo.call("add", {"a": 2, "b": 3.5})
    assert text_of(added) == "5.5"
    assert added["structuredContent"] == {"sum": 5.5}
    assert not added.get("isError")

    failed = await demo.call("fail", {"message": "boom"})
    assert failed["isError"] is True
    assert text_of(failed) == "boom"
    assert (await demo.call("fail"))["isError"] is True


async def test_weather_is_structured_and_deterministic(demo: DemoProcess) -> None:
    first = await demo.call("weather", {"city": "Lisbon"})
    assert first == await demo.call("weather", {"city": "Lisbon"})
    report = first["structuredContent"]
    assert set(report) >= {"city", "temperature", "conditions", "humidity"}
    assert report["city"] == "Lisbon"
    assert report["units"] == "metric"
    assert 0 <= report["humidity"] <= 100
    assert json.loads(text_of(first)) == report

    imperial = (await demo.call("weather", {"city": "Lisbon", "units": "imperial"}))["structuredContent"]
    assert imperial["temperature"] == pytest.approx(report["temperature"] * 9 / 5 + 32)
    assert imperial["conditions"] == report["conditions"]


async def test_stderr_tool_writes_the_line(demo: DemoProcess) -> None:
    assert text_of(await demo.call("stderr", {"line": "look at me"})) == "written"
    assert await demo.stderr_line() == "look at me\n"


@pytest.mark.parametrize(
    ("tool", "arguments", "complaint"),
    [
        ("echo", {}, "missing required argument 'message'"),
        ("add", {"a": 1, "b": "2"}, "'b' must be of type number"),
        ("add", {"a": True, "b": 2}, "'a' must be of type number"),
        ("weather", {"city": "Oslo", "units": "kelvin"}, "'units' must be one of"),
        ("sleep", {"seconds": 61}, "'seconds' must be between 0 and 60"),
        ("sleep", {"seconds": 1, "steps": 1.5}, "'steps' must be of type integer"),
        ("echo", None, "missing required argument 'message'"),
    ],
)
async def test_invalid_arguments_are_tool_errors(
    demo: DemoProcess, tool: str, arguments: JSON | None, complaint: str
) -> None:
    result = await demo.call(tool, arguments)
    assert result["isError"] is True
    assert complaint in text_of(result)


async def test_sleep_reports_progress_when_asked(demo: DemoProcess) -> None:
    params = {"name": "sleep", "arguments": {"seconds": 0.2, "steps": 4}, "_meta": {"progressToken": "tok"}}
    response = await demo.request("tools/call", params)
    assert text_of(response["result"]) == "slept 0.2 s"
    assert [n["method"] for n in demo.notifications] == ["notifications/progress"] * 4
    assert [n["params"]["progress"] for n in demo.notifications] == [1, 2, 3, 4]
    assert {n["params"]["total"] for n in demo.notifications} == {4}
    assert {n["params"]["progressToken"] for n in demo.notifications} == {"tok"}
    assert all(n["params"]["message"] for n in demo.notifications)


async def test_sleep_without_a_progress_token_sends_no_progress(demo: DemoProcess) -> None:
    assert text_of(await demo.call("sleep", {"seconds": 0.05, "steps": 2})) == "slept 0.05 s"
    assert demo.notifications == []


async def test_sleep_runs_concurrently_and_can_be_cancelled(demo: DemoProcess) -> None:
    sleeping = await demo.start("tools/call", {"name": "sleep", "arguments": {"seconds": 30}})
    assert await demo.result("ping") == {}  # answered while the sleep is in flight
    await demo.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": sleeping}})
    # response() fails on any other id, so the sleep's response would be caught arriving here.
    assert await demo.result("ping") == {}
    assert text_of(await demo.call("echo", {"message": "still alive"})) == "still alive"
    assert "cancelled" in await demo.stderr_line()


async def test_unknown_tool_and_method_are_errors(demo: DemoProcess) -> None:
    unknown_tool = await demo.request("tools/call", {"name": "nope", "arguments": {}})
    assert unknown_tool["error"]["code"] == -32602
    assert unknown_tool["error"]["message"] == "Unknown tool: nope"

    unknown_method = await demo.request("resources/list")
    assert unknown_method["error"] == {"code": -32601, "message": "Method not found: resources/list"}


async def test_invalid_json_is_a_parse_error(demo: DemoProcess) -> None:
    await demo.send(b"{this is not json\n")
    parse_error = await demo.response(None)
    assert parse_error["error"]["code"] == -32700
    await demo.send(b"[1, 2]\n")
    assert (await demo.response(None))["error"]["code"] == -32600
    assert await demo.result("ping") == {}


async def test_crash_exits_with_the_requested_code(demo: DemoProcess) -> None:
    await demo.start("tools/call", {"name": "crash", "arguments": {"code": 7}})
    assert await demo.exit_code() == 7
    assert "exiting with code 7" in await demo.stderr_line()


async def test_crash_defaults_to_exit_code_3(demo: DemoProcess) -> None:
    await demo.start("tools/call", {"name": "crash"})
    assert await demo.exit_code() == 3


async def test_eof_exits_zero_even_with_a_call_in_flight(demo: DemoProcess) -> None:
    await demo.start("tools/call", {"name": "sleep", "arguments": {"seconds": 30}})
    assert await demo.result("ping") == {}
    assert demo.proc.stdin is not None
    demo.proc.stdin.close()
    assert await demo.exit_code() == 0
    assert demo.proc.stdout is not None
    assert await demo.proc.stdout.read() == b""  # the cancelled sleep never answered
