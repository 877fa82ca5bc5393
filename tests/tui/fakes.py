"""An in-memory GatewayView and builders for the dashboard tests.

This fakes the read-model seam only (what `tui/` may see of the core), as the design intends for TUI
unit tests; the real Gateway is exercised by the integration suite.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from mcpstead.state import (
    CallOutcome,
    CallSource,
    CallView,
    ClientHandler,
    GatewaySnapshot,
    LogLineView,
    OfferedView,
    ReloadView,
    RunningRequest,
    SessionView,
    ToolView,
    TrafficRecord,
    TransportKind,
    UpstreamStatus,
    UpstreamView,
)

T0 = 1_700_000_000.0
"""A fixed wall-clock instant (2023-11-14 22:13:20 UTC) that every test time is relative to."""


class FakeClock:
    """A settable clock to pass as `clock=`; `advance()` moves it forward."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeView:
    """A GatewayView held in memory: `publish()` replaces the snapshot and wakes waiters, like the core.

    Commands behave like the core's: a tools/call sent with `start_request` records a call with source
    "dashboard" once answered, `end_session` removes the session, `reload` returns `reload_result` (or raises `reload_error`), and `log()` adds
    a line that `log_lines()` hands out by sequence number.
    """

    def __init__(
        self,
        snapshot: GatewaySnapshot,
        *,
        clock: FakeClock | None = None,
    ) -> None:
        self._version = snapshot.version
        self._snapshot = snapshot
        self._changed = asyncio.Event()
        self._clock = clock or FakeClock()
        self.reconnects: list[str] = []
        self.reconnect_error: Exception | None = None
        self.reload_result = ReloadView(at=T0, ok=True)
        self.reload_error: Exception | None = None
        self.reloads = 0
        self.ended: list[str] = []
        self.lines: list[LogLineView] = []
        self.responders: dict[str, Responder] = {}
        """method -> what answers the dashboard's `start_request` for it (default: an empty result)."""
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.cancelled: list[tuple[str, str]] = []
        """(request id, reason) of every cancellation the dashboard sent."""
        self.traffic: list[TrafficRecord] = []
        self.traffic_reads = 0
        self.log_reads = 0
        """How often the dashboard read traffic and log lines (each pass of its loop reads the logs)."""
        self.notification_listener: Callable[[dict[str, Any]], None] | None = None
        self._request_ids = 0

    @property
    def version(self) -> int:
        return self._version

    def snapshot(self) -> GatewaySnapshot:
        return self._snapshot

    def publish(self, snapshot: GatewaySnapshot) -> None:
        """Make `snapshot` current under a new version and wake everyone waiting for a change."""
        self._version += 1
        self._snapshot = dataclasses.replace(snapshot, version=self._version)
        # A fresh event per version: waiters hold the old one, so none can miss a set/clear race.
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait_for_change(self, seen: int, timeout: float | None = None) -> int:
        if self._version != seen:
            return self._version
        changed = self._changed
        try:
            async with asyncio.timeout(timeout):
                await changed.wait()
        except TimeoutError:
            pass
        return self._version

    def _record_tool_call(self, params: Mapping[str, Any], body: Mapping[str, Any]) -> None:
        """The call record the core leaves for a dashboard tools/call."""
        result, error = body.get("result"), body.get("error")
        tool_error = isinstance(result, dict) and result.get("isError") is True
        record = call(
            max((c.seq for c in self._snapshot.calls), default=0) + 1,
            str(params.get("name")),
            started_at=self._clock(),
            source="dashboard",
            client="dashboard",
            outcome="error" if error else "tool_error" if tool_error else "ok",
            arguments=params.get("arguments"),
            result=result,
            error=str(error["message"]) if isinstance(error, dict) else None,
        )
        self.publish(dataclasses.replace(self._snapshot, calls=(record, *self._snapshot.calls)))

    async def reconnect(self, upstream: str) -> None:
        self.reconnects.append(upstream)
        if self.reconnect_error is not None:
            raise self.reconnect_error

    async def reload(self) -> ReloadView:
        self.reloads += 1
        if self.reload_error is not None:
            raise self.reload_error
        self.publish(dataclasses.replace(self._snapshot, last_reload=self.reload_result))
        return self.reload_result

    async def end_session(self, session_id: str) -> bool:
        self.ended.append(session_id)
        sessions = self._snapshot.sessions
        if all(s.session_id != session_id for s in sessions):
            return False
        remaining = tuple(s for s in sessions if s.session_id != session_id)
        self.publish(dataclasses.replace(self._snapshot, sessions=remaining))
        return True

    def log(self, level: str, message: str, logger: str = "mcpstead.gateway") -> None:
        """Add one gateway log line."""
        seq = len(self.lines) + 1
        self.lines.append(LogLineView(seq, self._clock(), level, logger, message))

    def log_lines(self, after_seq: int = 0) -> tuple[LogLineView, ...]:
        self.log_reads += 1
        return tuple(line for line in self.lines if line.seq > after_seq)

    def traffic_since(self, after_seq: int = 0) -> tuple[TrafficRecord, ...]:
        self.traffic_reads += 1
        return tuple(record for record in self.traffic if record.seq > after_seq)

    def start_request(
        self, method: str, params: Mapping[str, Any], handler: ClientHandler | None = None
    ) -> RunningRequest:
        """Like the core: the responder for `method` runs as the request's task and may ask `handler`."""
        self._request_ids += 1
        request_id = f"dashboard-{self._request_ids}"
        sent = dict(params)
        self.requests.append((method, sent))
        responder = self.responders.get(method)

        async def answer() -> dict[str, Any]:
            body = await responder(sent, handler) if responder is not None else {"result": {}}
            if method == "tools/call":
                self._record_tool_call(sent, body)
            return {"jsonrpc": "2.0", "id": request_id, **body}

        task = asyncio.get_running_loop().create_task(answer())

        async def cancel(reason: str) -> None:
            self.cancelled.append((request_id, reason))
            task.cancel()

        return RunningRequest(request_id, method, sent, task, cancel)

    def on_notification(self, listener: Callable[[dict[str, Any]], None]) -> None:
        self.notification_listener = listener


Responder = Callable[[dict[str, Any], ClientHandler | None], Awaitable[dict[str, Any]]]
"""Answers one dashboard request in FakeView: (params, handler) -> `{"result": ...}` or `{"error": ...}`."""


def tool(upstream: str, name: str, description: str = "", input_schema: Mapping[str, Any] | None = None) -> ToolView:
    schema = dict(input_schema) if input_schema is not None else {"type": "object"}
    return ToolView(
        qualified_name=f"{upstream}__{name}",
        upstream=upstream,
        name=name,
        description=description,
        definition={"name": name, "description": description, "inputSchema": schema},
    )


def upstream(
    name: str,
    *,
    status: UpstreamStatus = "ready",
    transport: TransportKind = "streamable-http",
    tools: tuple[ToolView, ...] = (),
    last_seen: float | None = T0 - 3,
    reconnects: int = 0,
    last_error: str | None = None,
    next_retry_at: float | None = None,
    calls: int = 0,
    errors: int = 0,
    stderr_tail: tuple[str, ...] = (),
    era: str | None = "legacy",
) -> UpstreamView:
    return UpstreamView(
        name=name,
        transport=transport,
        target="http://127.0.0.1:9000/mcp" if transport != "stdio" else "python -m server",
        status=status,
        required=False,
        tools=tools,
        last_seen=last_seen,
        reconnects=reconnects,
        last_error=last_error,
        next_retry_at=next_retry_at,
        pid=None,
        exit_code=None,
        calls=calls,
        errors=errors,
        stderr_tail=stderr_tail,
        stderr_seq=len(stderr_tail),
        session_resets={},
        era=era,
    )


def call(
    seq: int,
    tool_name: str,
    *,
    started_at: float = T0,
    client: str = "claude-code",
    outcome: CallOutcome = "ok",
    total_ms: float = 12.5,
    upstream_ms: float | None = 10.25,
    source: CallSource = "client",
    arguments: Any = None,
    result: Any = None,
    error: str | None = None,
) -> CallView:
    return CallView(
        seq=seq,
        started_at=started_at,
        session_id="s-1" if source == "client" else None,
        client=client,
        source=source,
        tool=tool_name,
        upstream=tool_name.partition("__")[0],
        arguments={} if arguments is None else arguments,
        outcome=outcome,
        result=result,
        error=error if error is not None or outcome != "error" else "boom",
        total_ms=total_ms,
        upstream_ms=upstream_ms,
    )


def session(
    session_id: str,
    client_name: str = "claude-code",
    client_version: str = "1.0.3",
    *,
    protocol_version: str = "2025-06-18",
    created_at: float = T0 - 600,
    last_activity: float = T0 - 5,
    calls: int = 3,
    era: str = "legacy",
) -> SessionView:
    return SessionView(
        session_id=session_id,
        client_name=client_name,
        client_version=client_version,
        protocol_version=protocol_version,
        created_at=created_at,
        last_activity=last_activity,
        calls=calls,
        era=era,
    )


def snapshot(
    upstreams: tuple[UpstreamView, ...] = (),
    calls: tuple[CallView, ...] = (),
    *,
    sessions: tuple[SessionView, ...] = (),
    version: int = 1,
    started_at: float = T0 - 3723,
    last_reload: ReloadView | None = None,
    client_seen: bool | None = None,
) -> GatewaySnapshot:
    """`client_seen` defaults to what the scene implies: a session, or a call a client made."""
    if client_seen is None:
        client_seen = bool(sessions) or any(c.source == "client" for c in calls)
    return GatewaySnapshot(
        version=version,
        listen_url="http://127.0.0.1:8080/mcp",
        auth_mode="bearer",
        config_path="sample_configs/two_upstreams.yaml",
        started_at=started_at,
        upstreams=upstreams,
        sessions=sessions,
        calls=calls,
        last_reload=last_reload,
        client_seen=client_seen,
    )


def demo_tools() -> tuple[ToolView, ...]:
    """Tools with the demo server's own schemas (strings, numbers, an enum, defaults, isError)."""
    return (
        tool(
            "demo",
            "add",
            "Add two numbers; returns the sum as text and as structured content {sum}.",
            {
                "type": "object",
                "properties": {
                    "a": {"type": "number", "description": "First addend."},
                    "b": {"type": "number", "description": "Second addend."},
                },
                "required": ["a", "b"],
            },
        ),
        tool(
            "demo",
            "weather",
            "Made-up but deterministic weather for a city, as structured content.",
            {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "City name."},
                    "units": {
                        "type": "string",
                        "description": "Temperature units.",
                        "enum": ["metric", "imperial"],
                        "default": "metric",
                    },
                },
                "required": ["city"],
            },
        ),
        tool(
            "demo",
            "sleep",
            "Sleep, sending notifications/progress after each step.",
            {
                "type": "object",
                "properties": {
                    "seconds": {"type": "number", "minimum": 0, "maximum": 60},
                    "steps": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 5},
                    "verbose": {"type": "boolean", "description": "Log each step."},
                    "tags": {"type": "array", "items": {"type": "string"}, "description": "Labels."},
                },
                "required": ["seconds"],
            },
        ),
    )


def demo(calls: tuple[CallView, ...] = (), **kwargs: Any) -> GatewaySnapshot:
    """One ready stdio upstream, "demo", with the demo server's schemas."""
    return snapshot((upstream("demo", transport="stdio", tools=demo_tools()),), calls, **kwargs)


def two_upstreams(calls: tuple[CallView, ...] = (), sessions: tuple[SessionView, ...] = ()) -> GatewaySnapshot:
    """The usual scene: one healthy upstream with tools, one in backoff after a failure."""
    return snapshot(
        (
            upstream(
                "github",
                tools=(
                    tool("github", "search_issues", "Search issues and pull requests by query."),
                    tool("github", "get_file", "Read one file from a repository at a ref."),
                    tool("github", "create_issue", "Open a new issue."),
                ),
                calls=42,
                errors=1,
                era="modern",
            ),
            upstream(
                "files",
                status="backoff",
                transport="stdio",
                tools=(tool("files", "read_text", "Read a text file [utf-8]."),),
                last_seen=T0 - 125,
                reconnects=3,
                last_error="process exited with code 1: ModuleNotFoundError: No module named 'fsserver'",
                next_retry_at=T0 + 8,
                era=None,  # not known while it cannot connect
            ),
        ),
        calls,
        sessions=sessions,
    )


def offered(kind: str, upstream_name: str, key: str, **definition: Any) -> OfferedView:
    """A prompt ("prompt", name), resource ("resource", uri) or template ("template", uriTemplate)."""
    field = {"prompt": "name", "resource": "uri", "template": "uriTemplate"}[kind]
    return OfferedView(kind, upstream_name, key, {field: key, **definition})  # type: ignore[arg-type]
