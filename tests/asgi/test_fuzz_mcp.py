"""Property-based fuzzing of POST /mcp: bodies and headers from hypothesis, against a real gateway in process.

The properties, for every input: never a 500; the status is one the transport documents; an HTTP error has a
JSON-RPC error body without an id; a 200 carries JSON-RPC answers; nothing is logged at ERROR; and the
gateway still answers a good request afterwards. CI runs a bounded number of examples; set
MCPSTEAD_FUZZ_EXAMPLES (e.g. 5000) for a longer run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpstead.config_load import parse_config
from mcpstead.downstream.app import create_app
from mcpstead.gateway import Gateway
from tests.asgi.conftest import ACCEPT_BOTH, BASE_URL, initialize_request
from tests.fakes import FakeUpstream, tool
from tests.strategies import json_values

EXAMPLES = int(os.environ.get("MCPSTEAD_FUZZ_EXAMPLES", "100"))
pytestmark = pytest.mark.timeout(max(60, EXAMPLES // 4))  # about 40 examples a second here
DOCUMENTED = {200, 202, 400, 404, 406, 413, 415}
CONFIG = "servers:\n  - name: fake\n    url: http://127.0.0.1:9/mcp\n"
METHODS = [
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "prompts/get",
    "resources/read",
    "resources/subscribe",
    "completion/complete",
    "logging/setLevel",
    "tasks/get",
    "notifications/cancelled",
    "notifications/initialized",
]

json_value = json_values(text=50, width=5)
shaped = st.fixed_dictionaries(
    {},
    optional={
        "jsonrpc": st.sampled_from(["2.0", "1.0", 2]) | json_value,
        "id": st.integers() | st.text(max_size=20) | json_value,
        "method": st.sampled_from(METHODS) | json_value,
        "params": st.fixed_dictionaries(
            {},
            optional={
                "name": st.sampled_from(["fake__echo", "echo"]) | json_value,
                "uri": json_value,
                "ref": json_value,
                "level": json_value,
                "cursor": json_value,
                "arguments": json_value,
                "_meta": json_value,
                "requestId": json_value,
            },
        )
        | json_value,
        "result": json_value,
        "error": json_value,
    },
)


def encoded(value: Any) -> bytes:
    return json.dumps(value).encode()


bodies = st.one_of(
    st.binary(max_size=200),
    json_value.map(encoded),
    shaped.map(encoded),
    st.lists(shaped, max_size=4).map(encoded),
    st.integers(min_value=0, max_value=6000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(min_value=0, max_value=6000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.text(max_size=100).map(lambda t: b'{"jsonrpc":"2.0","id":1,"id":"x","method":"ping","x":' + encoded(t) + b"}"),
    st.sampled_from(
        [
            b'{"jsonrpc":"2.0","id":"\\ud800","method":"ping"}',
            b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"n":NaN}}',
            b'\xef\xbb\xbf{"jsonrpc":"2.0","id":1,"method":"ping"}',
            b'{"jsonrpc":"2.0","id":1,"method":"ping\x00"}',
            b'{"jsonrpc":"2.0","id":1e400,"method":"ping"}',
            b'{"jsonrpc":"2.0","id":' + b"9" * 5000 + b',"method":"ping"}',
        ]
    ),
)
header_value = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=300) | st.text(
    alphabet="abc;=,/ *", min_size=5000, max_size=9000
)
header_names = st.sampled_from(
    ["content-type", "accept", "mcp-protocol-version", "mcp-session-id", "mcp-method", "mcp-name", "authorization"]
)


class Gate:
    """One gateway for a whole fuzz run (hypothesis calls the check once per example, in this loop)."""

    def __init__(self, runner: asyncio.Runner) -> None:
        self.runner = runner
        self.upstream = FakeUpstream(tools=[tool("echo")])
        self._gateway = Gateway(parse_config(CONFIG, "fuzz.yaml", {}), connect=self.upstream.connect)
        self.gateway = runner.run(self._gateway.__aenter__())
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(self.gateway)), base_url=BASE_URL)
        self.session = self.runner.run(self._initialize())

    async def _initialize(self) -> str:
        async with asyncio.timeout(5):
            while self.gateway.supervisors["fake"].status != "ready":
                await self.gateway.wait_for_change(self.gateway.version, timeout=1)
        response = await self.client.post("/mcp", json=initialize_request(), headers={"accept": ACCEPT_BOTH})
        return response.headers["mcp-session-id"]

    def post(self, body: bytes, headers: dict[str, str] | list[tuple[str, str]]) -> httpx.Response:
        pairs = headers.items() if isinstance(headers, dict) else headers
        raw = [(name.encode(), value.encode("latin-1")) for name, value in pairs]  # any byte a header may carry

        async def send() -> httpx.Response:
            async with asyncio.timeout(10):  # never a hang: every fuzzed call ends within the bound
                return await self.client.post("/mcp", content=body, headers=raw)

        return self.runner.run(send())

    def close(self) -> None:
        self.runner.run(self.client.aclose())
        self.runner.run(self._gateway.__aexit__(None, None, None))


@pytest.fixture
def gate() -> Iterator[Gate]:
    with asyncio.Runner() as runner:
        made = Gate(runner)
        try:
            yield made
        finally:
            made.close()


def check_answer(response: httpx.Response) -> None:
    assert response.status_code in DOCUMENTED, (response.status_code, response.text[:300])
    if response.status_code == 202:
        assert response.content == b""
        return
    content_type = response.headers.get("content-type", "")
    if response.status_code >= 400:
        assert content_type == "application/json", content_type
        body = response.json()
        # legacy errors carry no id; modern ones (2026-07-28) the request's id when it had a usable one
        assert body["jsonrpc"] == "2.0" and isinstance(body["error"]["code"], int)
        assert body["id"] is None or isinstance(body["id"], (str, int)), body
        return
    if content_type.startswith("text/event-stream"):
        messages = [json.loads(line[6:]) for line in response.text.split("\n") if line.startswith("data: ")]
    else:
        loaded = response.json()
        messages = loaded if isinstance(loaded, list) else [loaded]
    for message in messages:
        assert message["jsonrpc"] == "2.0"
        assert ("result" in message) != ("error" in message) or "method" in message, message


def still_serves(gate: Gate) -> None:
    ping = {"jsonrpc": "2.0", "id": "after", "method": "ping"}
    headers = {"accept": ACCEPT_BOTH, "content-type": "application/json", "mcp-session-id": gate.session}
    response = gate.post(encoded(ping), headers)
    assert response.status_code == 200 and response.json() == {"jsonrpc": "2.0", "id": "after", "result": {}}


def no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("mcpstead")]
    assert not errors, [r.getMessage() for r in errors]


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(body=bodies, with_session=st.booleans())
def test_any_body(gate: Gate, caplog: pytest.LogCaptureFixture, body: bytes, with_session: bool) -> None:
    headers = {"accept": ACCEPT_BOTH, "content-type": "application/json"}
    if with_session:
        headers["mcp-session-id"] = gate.session
    check_answer(gate.post(body, headers))
    still_serves(gate)
    no_errors_logged(caplog)


@FUZZ
@given(garbled=st.dictionaries(header_names, header_value, min_size=1, max_size=4), method=st.sampled_from(METHODS))
def test_any_headers(gate: Gate, caplog: pytest.LogCaptureFixture, garbled: dict[str, str], method: str) -> None:
    headers = {"accept": ACCEPT_BOTH, "content-type": "application/json", "mcp-session-id": gate.session, **garbled}
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": {"name": "fake__echo", "arguments": {}}}
    check_answer(gate.post(encoded(body), headers))
    still_serves(gate)
    no_errors_logged(caplog)


@FUZZ
@given(repeated=st.lists(st.tuples(header_names, header_value), min_size=2, max_size=6))
def test_repeated_headers(gate: Gate, caplog: pytest.LogCaptureFixture, repeated: list[tuple[str, str]]) -> None:
    headers = [("accept", ACCEPT_BOTH), ("content-type", "application/json"), *repeated]
    body = encoded({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    check_answer(gate.post(body, headers))
    still_serves(gate)
    no_errors_logged(caplog)
