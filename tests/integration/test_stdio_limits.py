"""A stdio child whose stdout cannot be read any further ends its link at once, saying why."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import deque
from pathlib import Path

import pytest

from mcpstead.config_load import parse_config
from mcpstead.relay import UpstreamInbound
from mcpstead.upstream import stdio
from mcpstead.upstream.base import MessageLimit
from tests.fakes import RecordingHooks

pytestmark = pytest.mark.integration

CHILD = "import sys, time; sys.stdout.write('x' * 8192 + '\\n'); sys.stdout.flush(); time.sleep(60)"


async def test_a_line_over_the_limit_closes_the_link_and_ends_the_child() -> None:
    hits: list[str] = []
    config = parse_config(
        f"servers:\n  - name: big\n    command: {sys.executable}\n    args: ['-c', {CHILD!r}]\n", "t.yaml", {}
    ).servers[0]
    inbound = UpstreamInbound("big", RecordingHooks())
    connection = stdio.StdioConnection(config, inbound, deque(), lambda: None, limit=MessageLimit(1024, hits.append))
    await connection.open()
    try:
        async with asyncio.timeout(10):
            await connection.closed.wait()
        assert connection.close_reason is not None and "stdout line longer than 1,024 bytes" in connection.close_reason
        assert hits == ["upstream_message"]
    finally:
        await connection.close()
    assert connection.exit_code is not None  # the child was ended and reaped, not left sleeping


CHATTY = "import sys, time\nfor i in range(5): print(f'line {i}', file=sys.stderr, flush=True)\ntime.sleep(60)"


async def test_the_stderr_ring_keeps_its_last_lines_and_counts_each_one_it_lets_go() -> None:
    hits: list[str] = []
    config = parse_config(
        f"servers:\n  - name: chatty\n    command: {sys.executable}\n    args: ['-c', {CHATTY!r}]\n", "t.yaml", {}
    ).servers[0]
    ring: deque[str] = deque(maxlen=3)
    written = asyncio.Event()
    connection = stdio.StdioConnection(
        config, UpstreamInbound("chatty", RecordingHooks()), ring, written.set, limit=MessageLimit(1024, hits.append)
    )
    await connection.open()
    try:
        async with asyncio.timeout(10):
            while "line 4" not in ring:
                written.clear()
                await written.wait()
        assert list(ring) == ["line 2", "line 3", "line 4"]
        assert hits == ["stderr_lines", "stderr_lines"]  # lines 0 and 1 left the ring (limits.stderr_lines)
    finally:
        await connection.close()


def test_command_mcpstead_runs_the_installed_package_whatever_the_working_directory(tmp_path: Path) -> None:
    """A folder named `mcpstead` beside the gateway (a clone, say) must not shadow the installed package."""
    (tmp_path / "mcpstead").mkdir()  # a namespace package without __version__, as a clone's root would be
    config = parse_config("servers:\n  - name: demo\n    command: mcpstead\n    args: [--version]\n", "t.yaml", {})
    done = subprocess.run(
        stdio.child_command(config.servers[0]), cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("mcpstead ")
