"""stdio upstreams: a child process speaking newline-delimited JSON-RPC, its stderr kept in a ring."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from mcpstead import jsonrpc
from mcpstead.aio import cancel_and_wait
from mcpstead.config import ServerConfig
from mcpstead.errors import UpstreamDisconnectedError, UpstreamError
from mcpstead.relay import ServerRequestTasks, UpstreamInbound
from mcpstead.traffic import detach
from mcpstead.upstream.base import DEFAULT_LIMIT, MessageLimit, WireHook
from mcpstead.upstream.pending import OutOfBandLink

STDERR_LINES = 200
TERM_GRACE_SECONDS = 2.0


MINIMAL_ENV = (
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TERM", "TMPDIR", "TEMP", "TMP", "TZ",
    "SYSTEMROOT", "COMSPEC", "PATHEXT", "USERPROFILE", "APPDATA", "LOCALAPPDATA",
)  # fmt: skip
"""What every child gets from the gateway's environment (as Claude Desktop does): enough to find programs,
a home, a locale and a temp dir; no credentials that happen to be in the gateway's shell."""


def child_environment(config: ServerConfig, environ: Mapping[str, str]) -> dict[str, str]:
    """The child's environment: the inherited part (`inherit_env`), then the configured `env` on top."""
    if config.inherit_env == "all":
        inherited = dict(environ)
    else:
        names = set(MINIMAL_ENV) | (set(config.inherit_env) if config.inherit_env != "minimal" else set())
        inherited = {k: v for k, v in environ.items() if k in names or k.startswith("LC_")}
    return {**inherited, **config.env}


def child_command(config: ServerConfig) -> list[str]:
    """The argv to start. `command: mcpstead` means this very installation (its interpreter and its installed
    package), wherever it lives, so the demo config works from a virtualenv that is not on PATH."""
    assert config.command is not None
    if config.command == "mcpstead":
        # -P: never put the working directory on sys.path, so a folder there named `mcpstead` (a clone, say)
        # cannot shadow the installed package.
        return [sys.executable, "-P", "-m", "mcpstead", *config.args]
    return [config.command, *config.args]


class StdioConnection(OutOfBandLink):
    def __init__(
        self,
        config: ServerConfig,
        inbound: UpstreamInbound,
        stderr: deque[str],
        on_stderr: Callable[[], None],
        on_wire: WireHook = lambda direction, data: None,
        limit: MessageLimit = DEFAULT_LIMIT,
    ) -> None:
        super().__init__(config.name)
        self._limit = limit
        """One JSON-RPC message is one line; a tool result can be large (images as base64)."""
        self._config = config
        self._on_wire = on_wire
        self._name = config.name
        self._inbound = inbound
        self._answers = ServerRequestTasks(out_of_band=True)
        self._stderr = stderr
        self._on_stderr = on_stderr
        self._process: asyncio.subprocess.Process | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._write_lock = asyncio.Lock()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def exit_code(self) -> int | None:
        return self._process.returncode if self._process else None

    async def open(self) -> None:
        command = child_command(self._config)
        try:
            self._process = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=child_environment(self._config, os.environ),
                cwd=self._config.cwd,
                limit=self._limit.max_bytes,
                start_new_session=True,
            )
        except OSError as exc:
            raise UpstreamError(
                self._name,
                f"upstream '{self._name}' could not start '{self._config.command}': {exc.strerror or exc}",
            ) from None
        self._tasks = [
            asyncio.create_task(self._read_stdout(), name=f"stdio-out-{self._name}"),
            asyncio.create_task(self._read_stderr(), name=f"stdio-err-{self._name}"),
        ]

    async def _send(self, message: dict[str, Any]) -> None:
        process = self._process
        if process is None or process.stdin is None or self.closed.is_set():
            raise UpstreamDisconnectedError(self._name, self.close_reason)
        async with self._write_lock:
            try:
                line = jsonrpc.encode(message) + b"\n"
                self._on_wire("sent", line)
                process.stdin.write(line)
                await process.stdin.drain()
            except (ConnectionError, RuntimeError) as exc:
                raise UpstreamDisconnectedError(self._name, f"cannot write to the child process: {exc}") from None

    async def _read_stdout(self) -> None:
        detach()  # stdout carries everything; answers are linked by their ids
        assert self._process is not None and self._process.stdout is not None
        stdout = self._process.stdout
        try:
            while line := await stdout.readline():
                self._handle_line(line)
        except (ValueError, asyncio.LimitOverrunError) as exc:
            # The stream cannot be read past this line, so the link is over: say why, and end the child
            # (the supervisor starts a new one) instead of showing `ready` until the next call times out.
            reason = f"sent a stdout line longer than {self._limit.max_bytes:,} bytes (limits.upstream_message_bytes)"
            self._limit.hit("upstream_message")
            self._remember_stderr(f"[mcpstead] unreadable stdout line: {exc}")
            self._mark_closed(reason)
            self._terminate()
            return
        returncode = await self._process.wait()
        self._mark_closed(f"process exited with code {returncode}")

    def _terminate(self) -> None:
        process = self._process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)

    def _handle_line(self, line: bytes) -> None:
        self._on_wire("received", line)
        try:
            message = jsonrpc.parse(line)
        except ValueError:
            # Not JSON-RPC: a misbehaving server printing to stdout. Keep it where a human can see it.
            self._remember_stderr(f"[stdout, not JSON-RPC] {line.decode(errors='replace').rstrip()}")
            return
        if isinstance(message, dict):
            self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        """One message from the child: an answer to its waiter, a request or notification to the inbound."""
        if jsonrpc.is_response(message):
            self._pending.resolve(message)
        elif jsonrpc.is_request(message):
            self._answers.spawn(self._inbound, message, None, self.respond)
        elif jsonrpc.is_notification(message):
            self._inbound.deliver(message)

    async def _read_stderr(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        stderr = self._process.stderr
        with contextlib.suppress(ValueError, asyncio.LimitOverrunError):
            while line := await stderr.readline():
                self._remember_stderr(line.decode(errors="replace").rstrip())

    def _remember_stderr(self, line: str) -> None:
        if len(self._stderr) == self._stderr.maxlen:
            self._limit.hit("stderr_lines")  # the oldest line leaves the ring
        self._stderr.append(line)
        self._on_stderr()

    async def close(self) -> None:
        """Close stdin, then SIGTERM, then SIGKILL, each after a bound; reap the child; leave no task."""
        process = self._process
        if process is not None and process.returncode is None:
            if process.stdin is not None:
                with contextlib.suppress(OSError, RuntimeError):
                    process.stdin.close()
            for sig in (None, signal.SIGTERM, signal.SIGKILL):
                if sig is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, sig)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(TERM_GRACE_SECONDS):
                        await process.wait()
                    break
        self._mark_closed(self.close_reason or "closed by the gateway")
        await cancel_and_wait(*self._tasks)
        await self._answers.cancel_all()
