"""The per-upstream state machine on a scripted connection (tests/fakes.py) and a fake clock: no sockets.

Real waits are bounded by tiny configured delays (backoff in milliseconds, health checks every 10 ms);
every wait on a state is on the supervisor's change callback, never a sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from mcpstead.config import ServerConfig
from mcpstead.config_load import parse_config
from mcpstead.errors import UpstreamError
from mcpstead.upstream.supervisor import UpstreamSupervisor
from tests.fakes import FakeClock, FakeUpstream, RecordingHooks, rpc_error, tool, transport_error


def near(seconds: float) -> Any:
    """Equal up to the float error of timestamps around 1.7e9 (next_retry_at is a wall-clock time)."""
    return pytest.approx(seconds, abs=1e-6)


WAIT = 2.0
"""Upper bound on waiting for any state (the machine gets there in milliseconds)."""


def server(extra: str = "", transport: str = "url: http://127.0.0.1:9/mcp") -> ServerConfig:
    """One upstream; of the 2025 era unless `extra` says otherwise (era detection has its own tests)."""
    if "protocol_version" not in extra:
        extra += '\nprotocol_version: "2025-11-25"'
    lines = ["servers:", "  - name: a", f"    {transport}", *(f"    {line}" for line in extra.splitlines() if line)]
    return parse_config("\n".join(lines) + "\n", "gw.yaml", {}).servers[0]


class Run:
    """A supervisor on a FakeUpstream, with every status it passed through and a way to wait for a state."""

    def __init__(self, config: ServerConfig, upstream: FakeUpstream, rng: Callable[[], float]) -> None:
        self.upstream = upstream
        self.clock = FakeClock()
        self.statuses: list[str] = []
        self.backoffs: list[tuple[float, float | None]] = []
        """(stats.current_backoff, next_retry_at - now) each time the supervisor entered backoff."""
        self.tools_changes = 0
        self._changed = asyncio.Event()
        self.supervisor = UpstreamSupervisor(
            config,
            clock=self.clock,
            on_change=self._on_change,
            on_lists_changed=self._on_tools_changed,
            hooks=RecordingHooks(on_list_changed=lambda upstream, kind: self.supervisor.check_soon()),
            connect=upstream.connect,
            rng=rng,
        )

    def _on_change(self) -> None:
        status = self.supervisor.status
        if not self.statuses or self.statuses[-1] != status:
            self.statuses.append(status)
            if status == "backoff":
                retry = self.supervisor.next_retry_at
                self.backoffs.append(
                    (self.supervisor.stats.current_backoff, None if retry is None else retry - self.clock.wall())
                )
        self._changed.set()

    def _on_tools_changed(self) -> None:
        self.tools_changes += 1
        self._changed.set()

    async def until(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT):
            while not condition():
                self._changed.clear()
                self.upstream.changed.clear()
                changed = asyncio.ensure_future(self._changed.wait())
                requested = asyncio.ensure_future(self.upstream.changed.wait())
                try:
                    await asyncio.wait({changed, requested}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    changed.cancel()
                    requested.cancel()

    async def until_status(self, status: str) -> None:
        await self.until(lambda: self.supervisor.status == status)


@asynccontextmanager
async def running(
    config: ServerConfig | None = None, upstream: FakeUpstream | None = None, rng: Callable[[], float] = lambda: 0.0
) -> AsyncIterator[Run]:
    run = Run(config or server(), upstream or FakeUpstream(), rng)
    run.supervisor.start()
    try:
        yield run
    finally:
        await run.supervisor.stop()


def count(items: Iterator[Any] | list[Any], value: Any) -> int:
    return list(items).count(value)


async def test_connecting_then_ready_with_the_tools_listed() -> None:
    async with running() as run:
        await run.until_status("ready")
        supervisor = run.supervisor
        assert run.statuses == ["connecting", "ready"]
        assert supervisor.raw_tools == (tool("echo"),)
        assert supervisor.identity is not None and supervisor.identity.server_name == "fake"
        assert supervisor.transport == "streamable-http"
        assert run.upstream.methods() == ["initialize", "tools/list"]
        assert run.upstream.notifications == [("notifications/initialized", None)]
        assert run.tools_changes == 1
        assert supervisor.last_seen == run.clock.wall()
        assert supervisor.stats.initialize == {"success": 1, "error": 0}
        assert supervisor.stats.tools_refresh == {"success": 1, "error": 0}


async def test_a_failing_connect_backs_off_by_the_expected_delay_then_connects() -> None:
    upstream = FakeUpstream()
    upstream.fail_opens(transport_error("a"), transport_error("a"))
    config = server("reconnect: {backoff_base_ms: 10, backoff_max_ms: 1000}")
    async with running(config, upstream) as run:
        await run.until_status("ready")
        assert run.statuses == ["connecting", "backoff", "connecting", "backoff", "connecting", "ready"]
        assert run.backoffs == [(0.01, near(0.01)), (0.02, near(0.02))]  # base * 2^(n-1), no jitter
        supervisor = run.supervisor
        assert len(upstream.connections) == 3
        assert supervisor.reconnects == 2
        assert supervisor.stats.reconnect_attempts == {"success": 1, "error": 2}
        assert supervisor.last_error is None and supervisor.next_retry_at is None
        assert supervisor.stats.current_backoff == 0.0


async def test_jitter_shortens_the_delay() -> None:
    upstream = FakeUpstream()
    upstream.fail_opens(transport_error("a"))
    config = server("reconnect: {backoff_base_ms: 10, backoff_max_ms: 1000}")
    async with running(config, upstream, rng=lambda: 0.5) as run:
        await run.until_status("ready")
        assert run.backoffs == [(near(0.009), near(0.009))]  # 10% off: half of the 20% jitter


async def test_the_error_of_a_failed_connect_is_shown_while_backing_off() -> None:
    upstream = FakeUpstream()
    upstream.fail_opens(transport_error("a", "refused the connection"))
    config = server("reconnect: {backoff_base_ms: 1000, backoff_max_ms: 1000}")
    async with running(config, upstream) as run:
        await run.until_status("backoff")
        assert run.supervisor.last_error == "upstream 'a' refused the connection"
        assert run.supervisor.view().status == "backoff"
        assert run.supervisor.next_retry_at == near(run.clock.wall() + 1.0)
        run.supervisor.reconnect()  # cuts the backoff short
        await run.until_status("ready")


async def test_max_attempts_fails_then_reconnect_starts_again() -> None:
    upstream = FakeUpstream()
    upstream.fail_opens(transport_error("a"), transport_error("a"))
    config = server("reconnect: {max_attempts: 2, backoff_base_ms: 1, backoff_max_ms: 1}")
    async with running(config, upstream) as run:
        await run.until_status("failed")
        assert run.statuses == ["connecting", "backoff", "connecting", "failed"]
        assert run.supervisor.next_retry_at is None
        await asyncio.sleep(0.02)  # failed means no more attempts on its own
        assert len(upstream.connections) == 2 and run.supervisor.status == "failed"

        run.supervisor.reconnect()
        await run.until_status("ready")
        assert run.statuses[-2:] == ["connecting", "ready"]
        assert len(upstream.connections) == 3


async def test_a_soft_config_update_restarts_a_failed_upstream() -> None:
    upstream = FakeUpstream()
    upstream.fail_opens(transport_error("a"))
    async with running(server("reconnect: {max_attempts: 1}"), upstream) as run:
        await run.until_status("failed")
        run.supervisor.update_config(server("reconnect: {max_attempts: 3}"))
        await run.until_status("ready")


async def test_a_connection_closing_while_ready_backs_off_and_comes_back() -> None:
    config = server("reconnect: {backoff_base_ms: 5, backoff_max_ms: 5}")
    async with running(config) as run:
        await run.until_status("ready")
        first = run.upstream.current
        first.drop("child exited")
        await run.until_status("backoff")
        assert run.supervisor.last_error == "upstream 'a' child exited"
        assert run.supervisor.raw_tools == ()  # its tools leave the merged list while it is down
        assert run.backoffs == [(0.005, near(0.005))]  # the first failure: the base delay
        await run.until_status("ready")
        assert run.upstream.current is not first
        assert run.supervisor.raw_tools == (tool("echo"),)
        assert run.supervisor.reconnects == 1
        assert run.tools_changes == 3  # listed, cleared, listed again


async def test_tools_list_changed_refreshes_the_tools() -> None:
    upstream = FakeUpstream()
    async with running(upstream=upstream) as run:
        await run.until_status("ready")
        upstream.tools = [tool("echo"), tool("add")]
        upstream.current.send_notification("notifications/tools/list_changed")
        await run.until(lambda: len(run.supervisor.raw_tools) == 2)
        assert upstream.methods() == ["initialize", "tools/list", "tools/list"]
        assert run.tools_changes == 2
        assert run.supervisor.status == "ready"


async def test_other_notifications_change_nothing() -> None:
    upstream = FakeUpstream()
    async with running(upstream=upstream) as run:
        await run.until_status("ready")
        upstream.current.send_notification("notifications/message", {"level": "info", "data": "hi"})
        await asyncio.sleep(0.01)
        assert upstream.methods() == ["initialize", "tools/list"]


async def test_a_health_check_pings_every_interval() -> None:
    upstream = FakeUpstream()
    async with running(server("health_check_seconds: 0.01"), upstream) as run:
        await run.until(lambda: upstream.methods().count("ping") >= 2)
        assert run.supervisor.stats.health_checks["success"] >= 1
        assert run.supervisor.status == "ready"


async def test_ping_falls_back_to_tools_list_when_the_upstream_has_no_ping() -> None:
    upstream = FakeUpstream(answers={"ping": rpc_error("a")})  # -32601
    async with running(server("health_check_seconds: 0.01"), upstream) as run:
        await run.until(lambda: upstream.methods().count("tools/list") >= 3)
        assert upstream.methods().count("ping") == 1  # the fallback is remembered
        assert run.supervisor.status == "ready"
        assert run.supervisor.stats.health_checks["failure"] == 0


async def test_a_failing_ping_backs_off() -> None:
    upstream = FakeUpstream(answers={"ping": rpc_error("a", code=-32603, message="Internal error")})
    config = server("health_check_seconds: 0.01\nreconnect: {backoff_base_ms: 1000, backoff_max_ms: 1000}")
    async with running(config, upstream) as run:
        await run.until_status("backoff")
        assert run.supervisor.stats.health_checks["failure"] == 1
        assert run.supervisor.last_error == "upstream 'a' JSON-RPC error: Internal error"


async def test_update_config_applies_soft_settings_without_reconnecting() -> None:
    upstream = FakeUpstream()
    async with running(upstream=upstream) as run:
        await run.until_status("ready")
        updated = server("timeout_seconds: 7")
        run.supervisor.update_config(updated)
        assert run.supervisor.config is updated
        # the next check (asked for at once) already uses the new timeout, on the same connection
        await run.until(lambda: upstream.requests[-1].timeout == 7)
        assert len(upstream.connections) == 1
        assert run.supervisor.status == "ready"


async def test_a_call_goes_to_the_connection_with_the_configured_timeout() -> None:
    upstream = FakeUpstream(answers={"tools/call": {"content": [], "isError": False}})
    async with running(server("timeout_seconds: 3"), upstream) as run:
        await run.until_status("ready")
        result = await run.supervisor.request("tools/call", {"name": "echo", "arguments": {}})
        assert result == {"content": [], "isError": False}
        assert (upstream.requests[-1].method, upstream.requests[-1].timeout) == ("tools/call", 3)


async def test_a_call_failing_in_transport_triggers_a_check_at_once() -> None:
    upstream = FakeUpstream(answers={"tools/call": transport_error("a", "reset")})
    async with running(upstream=upstream) as run:
        await run.until_status("ready")
        try:
            await run.supervisor.request("tools/call", {"name": "echo"})
        except UpstreamError as exc:
            assert str(exc) == "upstream 'a' reset"
        else:
            raise AssertionError("the call should have failed")
        await run.until(lambda: upstream.methods()[-1] == "tools/list")


async def test_protocol_auto_falls_back_to_sse_on_405() -> None:
    upstream = FakeUpstream()
    upstream.fail_opens(UpstreamError("a", "upstream 'a' answered HTTP 405", status=405))
    async with running(upstream=upstream) as run:
        await run.until_status("ready")
        assert upstream.transports == ["streamable-http", "sse"]
        assert run.supervisor.transport == "sse"
        assert run.statuses == ["connecting", "ready"]


async def test_stop_closes_the_connection() -> None:
    upstream = FakeUpstream()
    async with running(upstream=upstream) as run:
        await run.until_status("ready")
        connection = upstream.current
        await run.supervisor.stop()
        assert connection.closed.is_set() and connection.close_calls == 1
        assert run.supervisor.status == "stopped"


async def test_a_call_during_a_long_backoff_brings_the_retry_forward_rate_limited() -> None:
    upstream = FakeUpstream()
    upstream.fail_opens(transport_error("a"), transport_error("a"))
    config = server("reconnect: {backoff_base_ms: 600000, backoff_max_ms: 600000}")  # ten minutes
    async with running(config, upstream) as run:
        await run.until_status("backoff")
        run.supervisor.retry_soon()  # a call arrived: try now
        await run.until(lambda: len(upstream.connections) == 2)
        await run.until_status("backoff")
        run.supervisor.retry_soon()  # within a second of the last one: no new attempt is asked for
        run.clock.advance(0.5)
        run.supervisor.retry_soon()
        assert not run.supervisor._restart.is_set()
        assert len(upstream.connections) == 2 and run.supervisor.status == "backoff"
        run.clock.advance(1.0)
        run.supervisor.retry_soon()
        await run.until_status("ready")
        assert len(upstream.connections) == 3


# -- protocol_version: auto (brief §12.4, §12.5) -------------------------------------------------------

AUTO = 'protocol_version: "auto"'


def discover_result(*versions: str) -> dict[str, Any]:
    return {
        "supportedVersions": list(versions),
        "capabilities": {"tools": {}},
        "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "m", "version": "2"}},
        "resultType": "complete",
    }


def eras(upstream: FakeUpstream) -> list[str]:
    return [connection.hooks.era for connection in upstream.connections]


async def test_auto_asks_server_discover_first_and_a_2025_server_gets_the_handshake() -> None:
    upstream = FakeUpstream()  # answers server/discover with -32601, as a 2025-era server does
    async with running(server(AUTO), upstream) as run:
        await run.until_status("ready")
        assert upstream.methods() == ["server/discover", "initialize", "tools/list"]
        assert eras(upstream) == ["modern", "legacy"]  # over HTTP a connection of the era found
        assert run.supervisor.era == "legacy"
        assert run.supervisor.identity is not None and run.supervisor.identity.protocol_version == "2025-11-25"


async def test_auto_speaks_2026_to_a_server_serving_only_that_era() -> None:
    upstream = FakeUpstream(answers={"server/discover": discover_result("2026-07-28"), "initialize": rpc_error("a")})
    async with running(server(AUTO), upstream) as run:
        await run.until_status("ready")
        assert upstream.methods() == ["server/discover", "initialize", "tools/list"]
        assert eras(upstream) == ["modern", "legacy"]
        assert [request.connection for request in upstream.requests] == [1, 2, 1]  # the probing link kept
        assert upstream.connections[1].closed.is_set()
        assert run.supervisor.era == "modern"
        assert run.supervisor.identity is not None and run.supervisor.identity.server_name == "m"


async def test_auto_keeps_a_2025_session_with_a_dual_era_server() -> None:
    upstream = FakeUpstream(answers={"server/discover": discover_result("2026-07-28")})  # and initialize
    async with running(server(AUTO), upstream) as run:
        await run.until_status("ready")
        assert upstream.methods() == ["server/discover", "initialize", "tools/list"]
        assert run.supervisor.era == "legacy"
        assert upstream.connections[0].closed.is_set()  # the probing link is closed


async def test_auto_takes_an_unanswered_discover_as_the_2025_era(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mcpstead.upstream.supervisor.DISCOVER_PROBE_SECONDS", 0.05)
    upstream = FakeUpstream(hold={"server/discover": asyncio.Event()})
    async with running(server(AUTO), upstream) as run:
        await run.until_status("ready")
        assert upstream.methods() == ["server/discover", "initialize", "tools/list"]
        assert run.supervisor.era == "legacy"


async def test_auto_stops_at_a_2026_error_answering_discover() -> None:
    refused = rpc_error("a", code=-32022, message="Unsupported protocol version")
    refused.error["data"] = {"supported": ["2027-01-01"], "requested": "2026-07-28"}
    upstream = FakeUpstream(answers={"server/discover": refused})
    config = server(AUTO + "\nreconnect: {backoff_base_ms: 1000, backoff_max_ms: 1000}")
    async with running(config, upstream) as run:
        await run.until_status("backoff")
        assert upstream.methods() == ["server/discover"]  # no handshake a modern server would refuse
        assert "Unsupported protocol version" in (run.supervisor.last_error or "")


async def test_auto_switches_to_2026_when_the_handshake_is_refused_that_way() -> None:
    """A modern-only server slow to answer discover (a child still starting) refuses initialize next."""
    upstream = FakeUpstream(answers={"initialize": rpc_error("a"), "server/discover": rpc_error("a", code=-32603)})
    state = {"calls": 0}

    def discover(params: Any) -> Any:
        state["calls"] += 1
        return rpc_error("a", code=-32603) if state["calls"] == 1 else discover_result("2026-07-28")

    upstream.answers["server/discover"] = discover
    async with running(server(AUTO), upstream) as run:
        await run.until_status("ready")
        assert upstream.methods() == ["server/discover", "initialize", "server/discover", "tools/list"]
        assert run.supervisor.era == "modern"


async def test_the_era_found_is_remembered_across_a_reconnect() -> None:
    upstream = FakeUpstream()
    async with running(server(AUTO), upstream) as run:
        await run.until_status("ready")
        run.supervisor.reconnect()
        await run.until(lambda: upstream.methods().count("initialize") == 2)
        await run.until_status("ready")
        assert upstream.methods().count("server/discover") == 1
