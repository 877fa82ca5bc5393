"""The runner: binds the socket, runs uvicorn, the gateway and an optional frontend in one event loop.

Start order: bind (a busy port fails here, before anything else) -> gateway (upstreams connect in the
background; `required` ones are awaited) -> uvicorn -> frontend. Stop order: refuse new sessions -> uvicorn
drains (bounded) -> frontend exits -> upstreams closed and children ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import uvicorn

from mcpstead import gcpolicy
from mcpstead.aio import BackgroundTasks, cancel_and_wait
from mcpstead.capture import CaptureFile
from mcpstead.config import GatewayConfig
from mcpstead.downstream.app import create_app
from mcpstead.downstream.serving import CoalescingHttpToolsProtocol, cut_off_slow_readers
from mcpstead.errors import StartupError
from mcpstead.exposure import refused
from mcpstead.gateway import Gateway
from mcpstead.logs import LogRing
from mcpstead.reload import watch_config
from mcpstead.state import GatewayView

log = logging.getLogger("mcpstead.runner")
REQUIRED_UPSTREAMS_TIMEOUT = 30.0
UPSTREAM_CLOSE_SECONDS = 3
CAPTURE_FLUSH_SECONDS = 0.5


class Frontend(Protocol):
    async def run(self, view: GatewayView, stop: asyncio.Event) -> None: ...


def bind(host: str, port: int) -> socket.socket:
    """The listening socket. `::` (every IPv6 address) takes IPv4 too where the system allows, as `0.0.0.0`
    users expect (a container's published port arrives over IPv4)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    address = host.strip("[]")
    everywhere = family == socket.AF_INET6 and address == "::" and socket.has_dualstack_ipv6()
    try:
        sock = socket.create_server((address, port), family=family, backlog=1024, dualstack_ipv6=everywhere)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise StartupError(f"cannot listen on {host}:{port}: {reason}") from None
    sock.setblocking(False)
    return sock


def listen_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/mcp"


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed (measured faster for this workload, design.md §8), else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def run(
    config: GatewayConfig,
    frontend: Frontend | None = None,
    *,
    watch: bool = False,
    log_ring: LogRing | None = None,
    capture: Path | None = None,
    allow_unauthenticated: bool = False,
) -> int:
    """Run until SIGINT/SIGTERM (or the frontend quits). Returns the process exit code. This owns the
    process, so it also sets how the garbage collector runs in it (gcpolicy)."""
    if (why := refused(config, allow_unauthenticated)) is not None:  # before the port is even bound
        raise StartupError(why)
    sock = bind(config.host, config.port)
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(
            serve(
                config,
                sock,
                frontend,
                on_ready=lambda _url: gcpolicy.settle_soon(),
                watch=watch,
                log_ring=log_ring,
                capture=capture,
                allow_unauthenticated=allow_unauthenticated,
            )
        )


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handling: the runner owns signals and the stop order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(
    config: GatewayConfig,
    sock: socket.socket,
    frontend: Frontend | None = None,
    on_ready: Callable[[str], None] | None = None,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
    watch: bool = False,
    log_ring: LogRing | None = None,
    capture: Path | None = None,
    allow_unauthenticated: bool = False,
) -> int:
    """Serve on `sock` until `stop` is set (SIGINT/SIGTERM set it when `handle_signals`; SIGHUP reloads a
    headless gateway and stops one with a dashboard, whose terminal hung up).


    `watch` reloads the config when its file is saved; `capture` appends every message to that file;
    `allow_unauthenticated` lets an exposed config (exposure.py) run, with a warning.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    url = listen_url(sock)
    background = BackgroundTasks()
    signals: tuple[signal.Signals, ...] = ()
    stopping: _Stopping | None = None
    try:
        if (why := refused(config, allow_unauthenticated)) is not None:
            raise StartupError(why)
        async with (
            Gateway(config, listen_url=url, log_ring=log_ring, allow_unauthenticated=allow_unauthenticated) as gateway,
            _capturing(gateway, capture),
        ):
            if frontend is not None:
                gateway.keep_traffic()
            if handle_signals:
                signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
                loop.add_signal_handler(signal.SIGINT, stop.set)
                loop.add_signal_handler(signal.SIGTERM, stop.set)
                if frontend is None:
                    loop.add_signal_handler(signal.SIGHUP, lambda: background.spawn(gateway.reload()))
                else:  # with a dashboard, SIGHUP means its terminal went away
                    loop.add_signal_handler(signal.SIGHUP, stop.set)

            missing = await gateway.wait_required(REQUIRED_UPSTREAMS_TIMEOUT)
            if missing:
                raise StartupError(
                    "; ".join(
                        f"required upstream '{s.name}' is not up ({s.status}): {s.last_error or 'no answer yet'}"
                        for s in missing
                    )
                )
            grace = config.mcp.session.shutdown_grace_seconds
            server = _EmbeddedServer(
                uvicorn.Config(
                    create_app(gateway),
                    http=CoalescingHttpToolsProtocol.with_limits(
                        config.limits.header_read_seconds, config.limits.body_read_seconds
                    ),
                    lifespan="off",
                    ws="none",  # MCP has no WebSocket transport; see _unsupported_upgrade_warning
                    log_config=None,
                    access_log=False,
                    proxy_headers=False,  # no proxy in front of a local gateway; saves work on every request
                    server_header=False,
                    timeout_graceful_shutdown=int(grace) + UPSTREAM_CLOSE_SECONDS + 1,
                )
            )
            server_task = asyncio.create_task(server.serve(sockets=[sock]), name="uvicorn")
            background.spawn(cut_off_slow_readers(server.server_state.connections, gateway.metrics.limit_hit))
            if watch:
                background.spawn(watch_config(gateway.config.path, gateway.reload, stop))
            log.info("mcpstead listening on %s", url)
            for text in gateway.warnings():
                log.warning("%s", text)
            if on_ready is not None:
                on_ready(url)
            frontend_task = asyncio.create_task(frontend.run(gateway, stop), name="frontend") if frontend else None
            stop_task = asyncio.create_task(stop.wait())
            watched: set[asyncio.Future[Any]] = {stop_task, server_task}
            if frontend_task is not None:
                watched.add(frontend_task)
            await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
            stop.set()
            stopping = _Stopping(
                time.monotonic(),
                sum(len(session.in_flight) for session in gateway.sessions),
                len(gateway.sessions),
                len(gateway.supervisors),
            )
            await _stop_serving(gateway, server, server_task, grace)
            if frontend_task is not None:
                await _finish(frontend_task, 5.0)
            await cancel_and_wait(stop_task)
            await background.cancel_all()
            if server_task.done() and not server_task.cancelled() and server_task.exception() is not None:
                log.error("the HTTP server stopped: %s", server_task.exception())
                return 1
        return 0
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        sock.close()
        if stopping is not None:
            log.info(
                "stopped in %.2fs: waited for %d request(s) in flight, ended %d session(s), closed %d upstream(s)",
                time.monotonic() - stopping.at,
                stopping.requests,
                stopping.sessions,
                stopping.upstreams,
            )


@contextlib.asynccontextmanager
async def _capturing(gateway: Gateway, path: Path | None) -> AsyncIterator[None]:
    """Append every message to `path` while the gateway runs, flushing twice a second (and at the end)."""
    if path is None:
        yield
        return
    limits = gateway.config.dashboard.capture
    capture = CaptureFile(path, limits.file_bytes, limits.file_keep)
    stop_feeding = gateway.traffic.add_sink(capture)
    log.info("capturing every message to %s", path)

    async def flush() -> None:
        while capture.failed is None:
            await asyncio.sleep(CAPTURE_FLUSH_SECONDS)
            capture.flush()
        log.error("the capture stopped: %s", capture.failed)
        stop_feeding()

    flusher = asyncio.create_task(flush(), name="capture-flush")
    try:
        yield
    finally:
        stop_feeding()
        await cancel_and_wait(flusher)
        capture.close()
        log.info("captured %d message(s) to %s", capture.lines, path)


@dataclass(frozen=True, slots=True)
class _Stopping:
    """What shutdown found to wait for, for its one summary line."""

    at: float
    requests: int
    sessions: int
    upstreams: int


async def _stop_serving(
    gateway: Gateway, server: _EmbeddedServer, server_task: asyncio.Task[None], grace: float
) -> None:
    """Stop accepting, let in-flight requests finish for `grace` seconds, then end the upstreams so the
    requests still waiting on them get an error answer, and stop the HTTP server for good."""
    gateway.accepting_sessions = False
    gateway.end_streams()
    server.should_exit = True
    await asyncio.wait({server_task}, timeout=grace)
    if not server_task.done():
        log.warning("requests still in flight after %gs; ending upstream connections", grace)
        await gateway.shutdown()
        await _finish(server_task, UPSTREAM_CLOSE_SECONDS, server)


async def _finish(
    task: asyncio.Task[object] | asyncio.Task[None], timeout: float, server: _EmbeddedServer | None = None
) -> None:
    """Wait for a task to end by itself, then force it."""
    try:
        async with asyncio.timeout(timeout):
            await asyncio.shield(task)
    except TimeoutError:
        if server is not None:
            server.force_exit = True
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    except Exception as exc:  # the task failed; say so (the caller decides the exit code)
        log.error("%s stopped with an error: %s", task.get_name(), exc)
