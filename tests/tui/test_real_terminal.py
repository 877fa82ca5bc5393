"""`mcpstead dev` in a real terminal (tmux), with real upstreams and a real SDK client: what the client does
shows in the Traffic tab on both hops, and a call from the runner that makes the upstream elicit shows the
form, whose answer reaches the upstream and comes back in the result."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from mcp import Client

from tests.conformance.suite import conformance_server
from tests.ports import free_port

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(120),
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (.ci/run installs it)"),
]
SCREEN_TIMEOUT = 20.0


class Terminal:
    """One tmux session running a command; `screen()` is what a person would see."""

    def __init__(self, name: str) -> None:
        self.name = name

    def screen(self) -> str:
        return subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True, check=True
        ).stdout

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def type(self, text: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, "-l", text], check=True)

    async def wait_for(self, *texts: str, timeout: float = SCREEN_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if all(text in screen for text in texts):
                return screen
            await asyncio.sleep(0.1)
        raise AssertionError(f"never saw {texts} on the screen:\n{screen}")


@contextmanager
def tmux(command: list[str], cwd: Path) -> Iterator[Terminal]:
    name = f"mcpstead-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "TERM": "xterm-256color"}
    shell = " ".join(_quote(part) for part in command)
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", name, "-x", "120", "-y", "36", "-c", str(cwd), shell], check=True, env=env
    )
    try:
        yield Terminal(name)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def _quote(part: str) -> str:
    return "'" + part.replace("'", "'\\''") + "'"


async def wait_connected(base: str, *names: str) -> None:
    async with httpx.AsyncClient() as http:
        deadline = time.monotonic() + SCREEN_TIMEOUT
        while time.monotonic() < deadline:
            try:
                servers = (await http.get(f"{base}/health", timeout=2)).json()["servers"]
                if all(s["connected"] for s in servers if s["name"] in names) and len(servers) == len(names):
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"upstreams {names} never connected")


async def test_a_client_session_and_a_runner_elicitation_in_a_real_terminal(tmp_path: Path) -> None:
    port = free_port()
    async with conformance_server(stderr_path=tmp_path / "conf.log") as conf:
        config = tmp_path / "config.yaml"
        config.write_text(
            f"port: {port}\nservers:\n  - name: conf\n    url: {conf.url}\n"
            f"  - name: demo\n    command: {sys.executable}\n    args: [-m, mcpstead, demo-server]\n"
        )
        command = [sys.executable, "-m", "mcpstead", "dev", "--config", str(config)]
        with tmux(command, tmp_path) as terminal:
            await terminal.wait_for("Upstreams")
            await wait_connected(f"http://127.0.0.1:{port}", "conf", "demo")
            progress: list[float] = []

            async def on_progress(done: float, total: float | None, message: str | None) -> None:
                progress.append(done)

            async with Client(f"http://127.0.0.1:{port}/mcp", mode="legacy") as client:
                await client.list_tools()
                await client.call_tool("demo__sleep", {"seconds": 0.2, "steps": 2}, progress_callback=on_progress)
            assert progress == [1, 2]

            terminal.keys("4")
            screen = await terminal.wait_for("initialize", "tools/list", "notifications/progress", "result tools/call")
            traffic = [line for line in screen.splitlines() if "→" in line]
            assert any("client→gw" in line and "tools/call" in line for line in traffic), screen
            assert any("gw→up" in line and "tools/call" in line for line in traffic), screen
            assert any("gw→client" in line and "notifications/progress" in line for line in traffic), screen
            assert any("up→gw" in line and "result tools/call" in line for line in traffic), screen

            await _elicit_from_the_runner(terminal)
            terminal.keys("q")


async def _elicit_from_the_runner(terminal: Terminal) -> None:
    terminal.keys("1")
    await terminal.wait_for("Upstreams")
    terminal.keys("/")
    await terminal.wait_for("/ Filter  ^r Reload")  # the filter has the focus (the footer says so)
    terminal.type("test_elicitation")
    await terminal.wait_for("/ test_elicitation", "(3 of 32 match)")
    terminal.keys("Enter")
    await terminal.wait_for("r Reconnect  c Call")  # the upstreams have the focus back (conf is first)
    terminal.keys("c")  # calls the tool under the cursor of the filtered list
    await terminal.wait_for("Call  conf__test_elicitation")
    # Each key waits for the text before it to show: a terminal delivers keys faster than a form takes them.
    terminal.type("who are you?")
    await terminal.wait_for("who are you?")
    terminal.keys("C-s")
    await terminal.wait_for("who are you?", "username", "email", "Accept")
    terminal.type("ada")
    await terminal.wait_for("│ ada ")
    terminal.keys("Tab")
    await asyncio.sleep(0.5)  # the focus moves to the email field (nothing on screen says so)
    terminal.type("ada@example.com")
    await terminal.wait_for("ada@example.com")
    terminal.keys("C-s")
    screen = await terminal.wait_for("User response: action=accept")  # the upstream's own result text
    shown = " ".join(screen.replace("│", " ").split())  # the result wraps inside its box
    assert 'content={"username": "ada", "email": "ada@example.com"}' in shown, screen
    assert "Accept  ctrl+s" not in screen  # the dialog has closed
