"""Property-based fuzzing of what upstreams send: hypothesis scripts the exact bytes of a misbehaving upstream.

Two real upstreams (tests/integration/scripted.py) write what each example scripts: an HTTP one (JSON bodies
and SSE streams, split into chunks anywhere down to single bytes, with any status and content type) and a
stdio child (lines split across writes, huge, not JSON, with wrong or duplicate ids, unsolicited answers,
requests and notifications of its own). The gateway runs in process with its real transports.

The properties, for every script: the client gets HTTP 200 and exactly one answer to its call, within the
call's timeout; that answer is the upstream's own when the script held a valid one before anything fatal,
and otherwise a JSON-RPC error naming the upstream; nothing is logged at ERROR and no task dies unhandled;
and the same upstream then answers a good call. MCPSTEAD_FUZZ_EXAMPLES sets the examples per test (CI: 40).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpstead.config_load import parse_config
from mcpstead.downstream.app import create_app
from mcpstead.gateway import Gateway
from tests.asgi.conftest import ACCEPT_BOTH, BASE_URL, initialize_request
from tests.integration.scripted import ScriptedHttpUpstream, echo_result
from tests.strategies import json_values

EXAMPLES = max(1, int(os.environ.get("MCPSTEAD_FUZZ_EXAMPLES", "100")) * 2 // 5)
CALL_TIMEOUT = 1.0
pytestmark = pytest.mark.timeout(max(90, EXAMPLES * 2))
MESSAGE_LIMIT = 64 * 1024
SCRIPTED = Path(__file__).with_name("scripted.py")


@dataclass(frozen=True)
class Outcome:
    """What the client must get: the upstream's result, its error (code), or an error from the gateway."""

    result: Any = None
    error_code: int | None = None
    from_gateway: bool = False


GATEWAY_ERROR = Outcome(from_gateway=True)
MALFORMED_ERROR = -32603
UPSTREAM_ERROR = -32000

# ---- messages an upstream may send, as JSON text with @ID@ markers (see scripted.py) -------------------

json_value = json_values(text=30, width=4)


def with_id(message: dict[str, Any], marker: str, indent: int | None = None) -> str:
    text = json.dumps({**message, "id": "__ID__"}, ensure_ascii=False, indent=indent)
    return text.replace('"__ID__"', marker)


@st.composite
def answers(draw: st.DrawFn) -> dict[str, Any]:
    """A response to the call (without its id): a result, an error, or an error of the wrong shape."""
    kind = draw(st.sampled_from(["result", "error", "malformed_error"]))
    if kind == "result":
        return {"jsonrpc": "2.0", "result": draw(st.dictionaries(st.text(max_size=8), json_value, max_size=4))}
    if kind == "error":
        code = draw(st.integers(min_value=-33000, max_value=-1) | st.integers(min_value=1, max_value=10**6))
        return {"jsonrpc": "2.0", "error": {"code": code, "message": draw(st.text(max_size=20))}}
    error = draw(st.sampled_from(["boom", 7, {"code": "x", "message": "m"}, {"message": "no code"}, [1]]))
    return {"jsonrpc": "2.0", "error": error}


BENIGN_JSON = st.sampled_from(
    [
        with_id({"jsonrpc": "2.0", "result": {"stale": True}}, "@WRONG@"),
        with_id({"jsonrpc": "2.0", "result": {"wrong": "type"}}, "@SID@"),
        '{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"hi"}}',
        '{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"nobody","progress":1}}',
        '{"jsonrpc":"2.0","method":"notifications/whatever"}',
        '{"jsonrpc":"2.0","id":"srv-1","method":"roots/list"}',
        '{"jsonrpc":"2.0","id":"srv-2","method":"sampling/createMessage","params":{"messages":[]}}',
        '{"jsonrpc":"2.0","id":"srv-3","method":"no/such/method","params":{}}',
        '{"jsonrpc":"2.0","method":7}',
        '{"jsonrpc":"2.0","id":@ID@}',
        "[1, 2, 3]",
        '"just a string"',
    ]
)
"""JSON-RPC-ish messages that are not the call's answer: the gateway must pass them on, answer or drop them."""

BROKEN_JSON = st.sampled_from(
    [
        "{not json",
        '{"jsonrpc":"2.0","id":@ID@,"result":{"n":NaN}}',
        '{"jsonrpc":"2.0","id":@ID@,"result":{"n":-Infinity}}',
        '{"jsonrpc":"2.0","id":@ID@,"result":{"t":"\\ud800"}}',
        '{"jsonrpc":"2.0","id":@ID@,"result":' + "[" * 3000 + "]" * 3000 + "}",
        '{"jsonrpc":"2.0","id":@ID@,"result":{"n":' + "9" * 5000 + "}}",
    ]
) | st.text(max_size=40).filter(lambda t: "\n" not in t and "\r" not in t)
"""Data no client could be sent (or any short text, which is mostly not JSON)."""

OUR_ID = 424242


def strict_json(text: str) -> Any:
    """The oracle's own strict JSON reading (not the gateway's): raises ValueError for anything a client
    could not be sent."""

    def refuse(name: str) -> Any:
        raise ValueError(name)

    try:
        value = json.loads(text, parse_constant=refuse)
        json.dumps(value, ensure_ascii=False).encode()
    except (RecursionError, UnicodeEncodeError) as exc:
        raise ValueError(str(exc)) from None
    return value


def judge(text: str) -> tuple[str, Outcome | None]:
    """What one upstream message means for the call: ("answer", outcome), ("broken", None) or ("other", None)."""
    try:
        message = strict_json(text.replace("@ID@", str(OUR_ID)).replace("@WRONG@", "1").replace("@SID@", '"1"'))
    except ValueError:
        return "broken", None
    if not isinstance(message, dict) or message.get("id") != OUR_ID or "method" in message:
        return "other", None
    if "error" in message and message["error"] is not None:
        error = message["error"]
        code = error.get("code") if isinstance(error, dict) else None
        if isinstance(code, int) and not isinstance(code, bool) and isinstance(error.get("message"), str):
            return "answer", Outcome(error_code=code)
        return "answer", Outcome(error_code=MALFORMED_ERROR)
    if "result" in message:
        return "answer", Outcome(result=message["result"])
    return "other", None


def encoded(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogatepass")


@st.composite
def chunked(draw: st.DrawFn, data: bytes) -> dict[str, Any]:
    """The plan's bytes and where to cut them into writes: at random points, or at every byte when short."""
    every = len(data) <= 400 and draw(st.booleans())
    cuts = "every" if every else draw(st.lists(st.integers(min_value=0, max_value=len(data)), max_size=6))
    return {"data": base64.b64encode(data).decode(), "cuts": cuts}


any_message = answers().map(lambda m: with_id(m, "@ID@")) | BENIGN_JSON | BROKEN_JSON

# ---- the HTTP upstream's scripts ---------------------------------------------------------------------


@st.composite
def http_json_scripts(draw: st.DrawFn) -> tuple[dict[str, Any], Outcome]:
    status = draw(st.sampled_from([200, 200, 200, 200, 202, 400, 404, 500, 503]))
    content_type = draw(st.sampled_from(["application/json", "application/json", "text/html", "", "text/plain"]))
    text = draw(any_message)
    body = encoded(text) if draw(st.integers(0, 9)) else draw(st.binary(max_size=60))
    verdict, outcome = judge(body.decode("utf-8", errors="replace")) if body == encoded(text) else ("broken", None)
    if status >= 300 or content_type != "application/json" or verdict != "answer":  # any 2xx may answer
        outcome = GATEWAY_ERROR
    return {"status": status, "content_type": content_type, **draw(chunked(body))}, outcome or GATEWAY_ERROR


@st.composite
def sse_events(draw: st.DrawFn) -> tuple[bytes, str, Outcome | None]:
    """One SSE event, and what it means for the call: "answer" (with the outcome), "fatal" or "other"."""
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    shape = draw(st.sampled_from(["message", "message", "multiline", "comment", "custom", "error", "keepalive"]))
    lines: list[str] = [f"id: {draw(st.integers(0, 99))}"] if draw(st.booleans()) else []
    meaning: tuple[str, Outcome | None] = ("other", None)
    if shape == "message":
        text = draw(any_message)
        lines += ["event: message"] if draw(st.booleans()) else []
        lines.append(f"data: {text}")
        verdict, outcome = judge(text)
        meaning = ("fatal", None) if verdict == "broken" and text.strip() else (verdict, outcome)
    elif shape == "multiline":  # data split over lines (JSON whitespace), which SSE joins with newlines
        message = draw(answers())
        lines += [f"data: {line}" for line in with_id(message, "@ID@", indent=1).split("\n")]
        meaning = judge(with_id(message, "@ID@"))
    elif shape == "comment":
        lines.append(f": {draw(st.text(alphabet='abc xyz', max_size=20))}")
    elif shape == "custom":
        lines += ["event: custom", f"data: {draw(st.text(alphabet='abc{}', max_size=20))}"]
    elif shape == "error":
        lines += ["event: error", "data: upstream trouble"]
        meaning = ("fatal", None)
    else:
        lines.append("data: ")
    kind, outcome = meaning
    return encoded(ending.join(lines) + ending + ending), "other" if kind == "broken" else kind, outcome


@st.composite
def http_sse_scripts(draw: st.DrawFn) -> tuple[dict[str, Any], Outcome]:
    events = draw(st.lists(sse_events(), max_size=5))
    if draw(st.booleans()):  # often a good answer last, after whatever came first
        events.append((encoded(f"data: {with_id(draw(answers()), '@ID@')}\n\n"), "", None))
        events[-1] = (events[-1][0], *judge(events[-1][0].decode()[6:].strip()))
    decisive = next(((kind, outcome) for _, kind, outcome in events if kind in ("answer", "fatal")), None)
    outcome = decisive[1] if decisive is not None and decisive[0] == "answer" else GATEWAY_ERROR
    stream = b"".join(data for data, _, _ in events)
    script = {"status": 200, "content_type": "text/event-stream", **draw(chunked(stream))}
    return script, outcome or GATEWAY_ERROR


# ---- the stdio child's scripts ---------------------------------------------------------------------------

HUGE_LINE = '{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"' + "x" * MESSAGE_LIMIT + '"}}'


@st.composite
def stdio_scripts(draw: st.DrawFn) -> tuple[dict[str, Any], Outcome, bool]:
    """Lines, the outcome, and whether a line over the limit ends the link (it is the script's last: the
    child is ended for it, so nothing after it is read)."""
    lines = [
        HUGE_LINE if huge else draw(any_message)
        for huge in draw(st.lists(st.sampled_from([False] * 6 + [True]), max_size=5))
    ]
    if HUGE_LINE in lines:
        del lines[lines.index(HUGE_LINE) + 1 :]
    elif draw(st.sampled_from([True, True, True, False])):  # mostly end with an answer, so few calls time out
        lines.append(with_id(draw(answers()), "@ID@"))
    outcome = GATEWAY_ERROR
    for text in lines:
        if text is HUGE_LINE:
            break
        verdict, judged = judge(text)
        if verdict == "answer":
            outcome = judged or GATEWAY_ERROR
            break
    data = b"".join(encoded(text) + draw(st.sampled_from([b"\n", b"\r\n"])) for text in lines)
    return draw(chunked(data)), outcome, HUGE_LINE in lines


# ---- one gateway for a whole run ------------------------------------------------------------------------

CONFIG = f"""
limits: {{upstream_message_bytes: {MESSAGE_LIMIT}}}
servers:
  - name: web
    url: "{{url}}"
    timeout_seconds: {CALL_TIMEOUT}
    reconnect: {{backoff_base_ms: 10, backoff_max_ms: 50}}
  - name: kid
    command: {json.dumps(sys.executable)}
    args: [{json.dumps(str(SCRIPTED))}]
    timeout_seconds: {CALL_TIMEOUT}
    reconnect: {{backoff_base_ms: 10, backoff_max_ms: 50}}
"""


class Gate:
    def __init__(self, runner: asyncio.Runner) -> None:
        self.runner = runner
        self.http = ScriptedHttpUpstream()
        runner.run(self.http.start())
        self._gateway = Gateway(parse_config(CONFIG.replace("{url}", self.http.url), "fuzz.yaml", {}))
        self.gateway = runner.run(self._gateway.__aenter__())
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(self.gateway)), base_url=BASE_URL)
        self.session = runner.run(self._initialize())
        self.calls = 0

    async def _initialize(self) -> str:
        await self.wait_ready("web", "kid")
        response = await self.client.post("/mcp", json=initialize_request(), headers={"accept": ACCEPT_BOTH})
        return response.headers["mcp-session-id"]

    async def wait_ready(self, *names: str) -> None:
        async with asyncio.timeout(10):
            while any(self.gateway.supervisors[n].status != "ready" for n in names):
                await self.gateway.wait_for_change(self.gateway.version, timeout=0.5)

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(10):
            while not condition():
                await self.gateway.wait_for_change(self.gateway.version, timeout=0.5)

    def call(self, upstream: str, tool: str, arguments: dict[str, Any]) -> tuple[httpx.Response, float]:
        self.calls += 1
        body = {
            "jsonrpc": "2.0",
            "id": f"call-{self.calls}",
            "method": "tools/call",
            "params": {"name": f"{upstream}__{tool}", "arguments": arguments},
        }
        headers = {"accept": ACCEPT_BOTH, "content-type": "application/json", "mcp-session-id": self.session}

        async def send() -> tuple[httpx.Response, float]:
            started = time.monotonic()
            await self.wait_ready(upstream)
            async with asyncio.timeout(CALL_TIMEOUT + 5):
                response = await self.client.post("/mcp", json=body, headers=headers)
            return response, time.monotonic() - started

        return self.runner.run(send())

    def close(self) -> None:
        self.runner.run(self.client.aclose())
        self.runner.run(self._gateway.__aexit__(None, None, None))
        self.runner.run(self.http.close())


@pytest.fixture(scope="module")
def gate() -> Iterator[Gate]:
    with asyncio.Runner() as runner:
        made = Gate(runner)
        try:
            yield made
        finally:
            made.close()


def the_answer(response: httpx.Response, call_id: str) -> dict[str, Any]:
    """The one answer to `call_id` in a JSON or SSE reply (anything else in an SSE reply is the upstream's)."""
    assert response.status_code == 200, (response.status_code, response.text[:300])
    if response.headers["content-type"].startswith("text/event-stream"):
        messages = [json.loads(line[6:]) for line in response.text.split("\n") if line.startswith("data: ")]
    else:
        messages = [response.json()]
    answers = [m for m in messages if m.get("id") == call_id and "method" not in m]
    assert len(answers) == 1, messages
    return answers[0]


def check(gate: Gate, upstream: str, response: httpx.Response, elapsed: float, outcome: Outcome | None) -> None:
    answer = the_answer(response, f"call-{gate.calls}")
    assert elapsed < CALL_TIMEOUT + 2, elapsed  # never a hang past the call's timeout
    if outcome is None:  # the script's own result or error, whichever it is; only its shape is checked
        assert ("result" in answer) != ("error" in answer), answer
    elif outcome.from_gateway:
        error = answer.get("error")
        assert error is not None and error["code"] == UPSTREAM_ERROR, answer
        assert f"'{upstream}'" in error["message"], error
    elif outcome.error_code is not None:
        assert answer["error"]["code"] == outcome.error_code, answer
        assert isinstance(answer["error"]["message"], str)
    else:
        assert answer.get("result") == outcome.result, answer
    if "error" in answer:
        assert set(answer["error"]) <= {"code", "message", "data"}, answer


def still_serves(gate: Gate, upstream: str, caplog: pytest.LogCaptureFixture) -> None:
    response, _ = gate.call(upstream, "echo", {"after": gate.calls})
    assert the_answer(response, f"call-{gate.calls}").get("result") == echo_result({"after": gate.calls - 1})
    unhandled = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.ERROR and (r.name.startswith("mcpstead") or r.name == "asyncio")
    ]
    assert not unhandled, unhandled
    caplog.clear()


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def http_script(gate: Gate, caplog: pytest.LogCaptureFixture, script: tuple[dict[str, Any], Outcome]) -> None:
    plan, outcome = script
    response, elapsed = gate.call("web", "plan", plan)
    check(gate, "web", response, elapsed, outcome)
    still_serves(gate, "web", caplog)


@FUZZ
@given(script=http_json_scripts())
def test_http_answer_bodies(
    gate: Gate, caplog: pytest.LogCaptureFixture, script: tuple[dict[str, Any], Outcome]
) -> None:
    http_script(gate, caplog, script)


@FUZZ
@given(script=http_sse_scripts())
def test_http_sse_streams_split_anywhere(
    gate: Gate, caplog: pytest.LogCaptureFixture, script: tuple[dict[str, Any], Outcome]
) -> None:
    http_script(gate, caplog, script)


@FUZZ
@given(script=stdio_scripts())
def test_stdio_lines(
    gate: Gate, caplog: pytest.LogCaptureFixture, script: tuple[dict[str, Any], Outcome, bool]
) -> None:
    plan, outcome, ends_link = script
    reconnects = gate.gateway.supervisors["kid"].reconnects
    response, elapsed = gate.call("kid", "plan", plan)
    check(gate, "kid", response, elapsed, outcome)
    if ends_link:  # the answer may have come first; the link still ends for the line after it
        gate.runner.run(gate.wait_for(lambda: gate.gateway.supervisors["kid"].reconnects > reconnects))
    still_serves(gate, "kid", caplog)
