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
    CallView,
    GatewaySnapshot,
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
    """A GatewayView held in memory: `publish()` replaces the snapshot and wakes waiters, like the core."""

    def __init__(self, snapshot: GatewaySnapshot, *, tool_result: ToolRunResult | None = None) -> None:
        self._version = snapshot.version
        self._snapshot = snapshot
        self._changed = asyncio.Event()
        self.tool_result = tool_result or ToolRunResult(result={"content": []}, error=None)
        self.reconnects: list[str] = []
        self.tool_calls: list[tuple[str, Mapping[str, Any]]] = []
        self.reconnect_error: Exception | None = None

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
        return self.tool_result

    async def reconnect(self, upstream: str) -> None:
        self.reconnects.append(upstream)
        if self.reconnect_error is not None:
            raise self.reconnect_error


def tool(upstream: str, name: str, description: str = "") -> ToolView:
    return ToolView(
        qualified_name=f"{upstream}__{name}",
        upstream=upstream,
        name=name,
        description=description,
        definition={"name": name, "description": description, "inputSchema": {"type": "object"}},
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
        stderr_tail=(),
        session_resets={},
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
) -> CallView:
    return CallView(
        seq=seq,
        started_at=started_at,
        session_id="s-1",
        client=client,
        source="client",
        tool=tool_name,
        upstream=tool_name.partition("__")[0],
        arguments={},
        outcome=outcome,
        result=None,
        error=None if outcome == "ok" else "boom",
        total_ms=total_ms,
        upstream_ms=upstream_ms,
    )


def snapshot(
    upstreams: tuple[UpstreamView, ...] = (),
    calls: tuple[CallView, ...] = (),
    *,
    version: int = 1,
    started_at: float = T0 - 3723,
) -> GatewaySnapshot:
    return GatewaySnapshot(
        version=version,
        listen_url="http://127.0.0.1:8080/mcp",
        auth_mode="bearer",
        config_path="sample_configs/two_upstreams.yaml",
        started_at=started_at,
        upstreams=upstreams,
        sessions=(),
        calls=calls,
    )


def two_upstreams(calls: tuple[CallView, ...] = ()) -> GatewaySnapshot:
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
            ),
        ),
        calls,
    )
