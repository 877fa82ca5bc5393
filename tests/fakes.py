"""Test doubles for the core: a scripted upstream Connection and a settable Clock.

`FakeUpstream` is what a test scripts: the answers (or failures) per method, failures for the next opens,
and it records every request it got. Pass `FakeUpstream.connect` as a supervisor's (or gateway's) `connect=`
factory; every connect makes a new `FakeConnection` on the same script.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mcpstead.config import ServerConfig
from mcpstead.errors import UpstreamDisconnectedError, UpstreamError, UpstreamRpcError, UpstreamTimeoutError
from mcpstead.jsonrpc import METHOD_NOT_FOUND
from mcpstead.relay import InFlightCall
from mcpstead.sessions import DownstreamSession
from mcpstead.state import TransportKind
from mcpstead.upstream.transports import ConnectionHooks

Answer = Any | Exception | Callable[[dict[str, Any] | None], Any]
"""A result, an exception to raise, or a function of the params returning either."""

T0 = 1_700_000_000.0


class FakeClock:
    """A Clock (mcpstead/clock.py) that moves only when told: `advance(seconds)` moves wall and monotonic."""

    def __init__(self, wall: float = T0, monotonic: float = 1000.0) -> None:
        self._wall = wall
        self._monotonic = monotonic

    def wall(self) -> float:
        return self._wall

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, seconds: float) -> None:
        self._wall += seconds
        self._monotonic += seconds


def tool(name: str, description: str = "") -> dict[str, Any]:
    return {"name": name, "description": description, "inputSchema": {"type": "object"}}


def initialize_result(name: str = "fake", version: str = "1.0") -> dict[str, Any]:
    return {
        "protocolVersion": "2025-11-25",
        "capabilities": {"tools": {"listChanged": True}},
        "serverInfo": {"name": name, "version": version},
    }


@dataclass
class Request:
    """One request a FakeConnection got."""

    connection: int
    """Which connection (1 for the first connect, 2 for the next, ...)."""
    method: str
    params: dict[str, Any] | None
    timeout: float


@dataclass
class FakeUpstream:
    """The script every FakeConnection of one upstream follows, and the record of what they were asked."""

    tools: list[dict[str, Any]] = field(default_factory=lambda: [tool("echo")])
    answers: dict[str, Answer] = field(default_factory=dict)
    """Per method, beyond the defaults (initialize, tools/list from `tools`, ping -> {})."""
    open_failures: deque[Exception] = field(default_factory=deque)
    """Each connect pops one and fails its open() with it, until the deque is empty."""
    requests: list[Request] = field(default_factory=list)
    notifications: list[tuple[str, dict[str, Any] | None]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    """Answers the gateway sent to requests of the upstream's own."""
    connections: list[FakeConnection] = field(default_factory=list)
    transports: list[TransportKind] = field(default_factory=list)
    hold: dict[str, asyncio.Event] = field(default_factory=dict)
    """Per method: requests wait for the event before they are answered (to keep a call in flight)."""
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    """Set whenever a request arrives or a connection is made (tests clear it and wait)."""
    on_answer: Callable[[str, InFlightCall | None], None] | None = None
    """Called as each request is answered, with its call (a test makes the upstream do more then)."""

    def connect(self, config: ServerConfig, transport: TransportKind, hooks: ConnectionHooks) -> FakeConnection:
        connection = FakeConnection(self, config.name, len(self.connections) + 1, hooks)
        self.connections.append(connection)
        self.transports.append(transport)
        self.changed.set()
        return connection

    @property
    def current(self) -> FakeConnection:
        return self.connections[-1]

    def methods(self) -> list[str]:
        return [request.method for request in self.requests]

    def fail_opens(self, *errors: Exception) -> None:
        self.open_failures.extend(errors)

    def answer(self, method: str, params: dict[str, Any] | None) -> Any:
        if method in self.answers:
            scripted = self.answers[method]
            if callable(scripted) and not isinstance(scripted, Exception):
                scripted = scripted(params)
            if isinstance(scripted, Exception):
                raise scripted
            return scripted
        if method == "initialize":
            return initialize_result()
        if method == "server/discover":
            raise rpc_error("fake")  # what a 2025-era server answers
        if method == "tools/list":
            return {"tools": list(self.tools)}
        if method == "ping":
            return {}
        return {"content": [{"type": "text", "text": f"{method} answered"}]}


class FakeConnection:
    """A Connection (mcpstead/upstream/base.py) that answers from its FakeUpstream's script, in process."""

    def __init__(self, upstream: FakeUpstream, name: str, number: int, hooks: ConnectionHooks) -> None:
        self.upstream = upstream
        self.name = name
        self.number = number
        self.hooks = hooks
        self.closed = asyncio.Event()
        self.close_reason: str | None = None
        self.opened = False
        self.close_calls = 0

    async def open(self) -> None:
        if self.upstream.open_failures:
            raise self.upstream.open_failures.popleft()
        self.opened = True

    async def request(
        self, method: str, params: dict[str, Any] | None, timeout: float, call: InFlightCall | None = None
    ) -> Any:
        self.upstream.requests.append(Request(self.number, method, params, timeout))
        self.upstream.changed.set()
        if self.closed.is_set():
            raise UpstreamDisconnectedError(self.name, self.close_reason)
        held = self.upstream.hold.get(method)
        if held is not None:
            try:
                async with asyncio.timeout(timeout):  # as the real transports bound every request
                    await held.wait()
            except TimeoutError:
                raise UpstreamTimeoutError(self.name, timeout) from None
        answer = self.upstream.answer(method, params)
        if self.upstream.on_answer is not None:
            self.upstream.on_answer(method, call)
        return answer

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        self.upstream.notifications.append((method, params))

    async def respond(self, message: dict[str, Any]) -> None:
        self.upstream.responses.append(message)

    def initialized(self) -> None:
        pass

    async def close(self) -> None:
        self.close_calls += 1
        if not self.closed.is_set():
            self.close_reason = self.close_reason or "closed by the gateway"
            self.closed.set()

    # -- what the upstream does on its own -------------------------------------------------------------

    def drop(self, reason: str = "stream ended") -> None:
        """The link went away (a child exited, a stream ended)."""
        self.close_reason = reason
        self.closed.set()

    def send_notification(self, method: str, params: dict[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.hooks.inbound.deliver(message)


def rpc_error(name: str, code: int = METHOD_NOT_FOUND, message: str = "Method not found") -> UpstreamRpcError:
    return UpstreamRpcError(name, {"code": code, "message": message})


def transport_error(name: str, message: str = "connection refused") -> UpstreamError:
    return UpstreamError(name, f"upstream '{name}' {message}", reason="upstream_disconnected")


@dataclass
class RecordingHooks:
    """InboundHooks (mcpstead/relay.py) that record what reached them; list changes call `on_list_changed`."""

    on_list_changed: Callable[[str, str], None] = lambda upstream, kind: None
    untied_messages: list[dict[str, Any]] = field(default_factory=list)

    def list_changed(self, upstream: str, kind: str) -> None:
        self.on_list_changed(upstream, kind)

    def resource_updated(self, upstream: str, owner: DownstreamSession | None, message: dict[str, Any]) -> None:
        self.untied_messages.append(message)

    def untied(self, upstream: str, owner: DownstreamSession | None, message: dict[str, Any]) -> None:
        self.untied_messages.append(message)

    async def untied_request(
        self, upstream: str, owner: DownstreamSession | None, message: dict[str, Any]
    ) -> dict[str, Any] | None:
        self.untied_messages.append(message)
        return None
