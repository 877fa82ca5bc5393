"""An in-memory GatewayView and builders for the dashboard tests.

This fakes the read-model seam only (what `tui/` may see of the core), as the design intends for TUI
unit tests; the real Gateway is exercised by the integration suite.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from typing import Any

from mcpstead.state import (
    CallOutcome,
    CallSource,
    CallView,
    GatewaySnapshot,
    LogLineView,
    ReloadView,
    SessionView,
    ToolRunResult,
    ToolView,
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

    Commands behave like the core's: `call_tool` records a call with source "dashboard", `end_session`
    removes the session, `reload` returns `reload_result` (or raises `reload_error`), and `log()` adds
    a line that `log_lines()` hands out by sequence number.
    """

    def __init__(
        self,
        snapshot: GatewaySnapshot,
        *,
        tool_result: ToolRunResult | None = None,
        clock: FakeClock | None = None,
    ) -> None:
        self._version = snapshot.version
        self._snapshot = snapshot
        self._changed = asyncio.Event()
        self._clock = clock or FakeClock()
        self.tool_result = tool_result or ToolRunResult(result={"content": []}, error=None)
        self.tool_gate: asyncio.Event | None = None
        """When set by a test, call_tool waits for it (a call that is still running)."""
        self.reconnects: list[str] = []
        self.tool_calls: list[tuple[str, Mapping[str, Any]]] = []
        self.reconnect_error: Exception | None = None
        self.reload_result = ReloadView(at=T0, ok=True)
        self.reload_error: Exception | None = None
        self.reloads = 0
        self.ended: list[str] = []
        self.lines: list[LogLineView] = []

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

    async def call_tool(self, qualified_name: str, arguments: Mapping[str, Any]) -> ToolRunResult:
        self.tool_calls.append((qualified_name, arguments))
        if self.tool_gate is not None:
            await self.tool_gate.wait()  # a test holds the call open
        outcome = self.tool_result
        seq = max((c.seq for c in self._snapshot.calls), default=0) + 1
        tool_error = isinstance(outcome.result, dict) and outcome.result.get("isError") is True
        record = call(
            seq,
            qualified_name,
            started_at=self._clock(),
            source="dashboard",
            client="dashboard",
            outcome="error" if outcome.error else "tool_error" if tool_error else "ok",
            arguments=dict(arguments),
            result=outcome.result,
            error=outcome.error,
        )
        self.publish(dataclasses.replace(self._snapshot, calls=(record, *self._snapshot.calls)))
        return outcome

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
        return tuple(line for line in self.lines if line.seq > after_seq)


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
) -> GatewaySnapshot:
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
