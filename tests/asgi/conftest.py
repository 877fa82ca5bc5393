"""In-process HTTP tests: a real Gateway behind create_app(), driven through httpx's ASGI transport."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from mcpstead.config_load import parse_config
from mcpstead.downstream.app import create_app
from mcpstead.gateway import Gateway
from mcpstead.upstream.transports import Connect, connect_transport

BASE_URL = "http://127.0.0.1:8766"
ACCEPT_BOTH = "application/json, text/event-stream"
WAIT = 5.0
"""Upper bound for waiting on any gateway state change."""


def initialize_request(version: str | None = "2025-11-25", msg_id: Any = 1) -> dict[str, Any]:
    params: dict[str, Any] = {"capabilities": {}, "clientInfo": {"name": "pytest", "version": "1.0"}}
    if version is not None:
        params["protocolVersion"] = version
    return {"jsonrpc": "2.0", "id": msg_id, "method": "initialize", "params": params}


@dataclass
class Harness:
    gateway: Gateway
    client: httpx.AsyncClient
    seen: list[httpx.Response] = field(default_factory=list)
    """Every response, for tests that look for leaks."""

    async def post(
        self,
        body: Any,
        *,
        session: str | None = None,
        headers: Mapping[str, str] | None = None,
        accept: str | None = ACCEPT_BOTH,
        content_type: str | None = "application/json",
    ) -> httpx.Response:
        sent: dict[str, str] = {}
        if accept is not None:
            sent["accept"] = accept
        if content_type is not None:
            sent["content-type"] = content_type
        if session is not None:
            sent["mcp-session-id"] = session
        sent.update(headers or {})
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self._keep(await self.client.post("/mcp", content=content, headers=sent))

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self._keep(await self.client.request(method, path, **kwargs))

    async def initialize(self, version: str | None = "2025-11-25", **kwargs: Any) -> str:
        response = await self.post(initialize_request(version), **kwargs)
        assert response.status_code == 200, response.text
        return response.headers["mcp-session-id"]

    async def rpc(
        self,
        session: str,
        method: str,
        params: Any = None,
        msg_id: Any = 1,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """One request in a session; asserts a 200 JSON answer with the same id and returns it."""
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        response = await self.post(message, session=session, **kwargs)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        answer: dict[str, Any] = response.json()
        assert answer["jsonrpc"] == "2.0" and answer["id"] == msg_id
        return answer

    async def wait_until(self, condition: Callable[[], bool], timeout: float = WAIT) -> None:
        """Wait on the gateway's change signal (never a sleep) until `condition()` holds."""
        seen = self.gateway.version
        async with asyncio.timeout(timeout):
            while not condition():
                seen = await self.gateway.wait_for_change(seen, timeout=timeout)

    def _keep(self, response: httpx.Response) -> httpx.Response:
        self.seen.append(response)
        return response

    @staticmethod
    def http_error(response: httpx.Response, status: int, code: int, message: str | None = None) -> str:
        """Assert an HTTP-level error with a JSON-RPC error body without an id; return its message."""
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        assert body["jsonrpc"] == "2.0"
        assert body["id"] is None
        assert body["error"]["code"] == code
        if message is not None:
            assert body["error"]["message"] == message
        text: str = body["error"]["message"]
        return text

    @staticmethod
    def rpc_error(answer: dict[str, Any], code: int, message: str | None = None) -> str:
        assert "result" not in answer, answer
        assert answer["error"]["code"] == code, answer
        if message is not None:
            assert answer["error"]["message"] == message
        text: str = answer["error"]["message"]
        return text


StartGateway = Callable[..., AbstractAsyncContextManager[Harness]]


@asynccontextmanager
async def _start(
    yaml_text: str = "", environ: Mapping[str, str] | None = None, connect: Connect = connect_transport
) -> AsyncIterator[Harness]:
    config = parse_config(yaml_text, "test.yaml", environ or {})
    async with (
        Gateway(config, connect=connect) as gateway,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(gateway)), base_url=BASE_URL) as client,
    ):
        yield Harness(gateway, client)


@pytest.fixture
def start() -> StartGateway:
    """`async with start(yaml_text, environ) as h:` runs a gateway with that config; `connect=` makes its
    upstream connections (tests/fakes.py's `FakeUpstream.connect` for an upstream in process)."""
    return _start


@pytest.fixture
async def h() -> AsyncIterator[Harness]:
    """A gateway with the default config and no upstreams."""
    async with _start() as harness:
        yield harness
