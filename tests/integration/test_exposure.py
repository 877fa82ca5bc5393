"""Listening beyond loopback without auth: `serve` refuses it (before binding), `--allow-unauthenticated` runs
it with a warning in the log, /health and `check`, and a reload cannot switch auth off behind the user's back."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.test_process import MCPSTEAD, wait_for_line
from tests.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
DEMO = "servers:\n  - name: demo\n    command: mcpstead\n    args: [demo-server]\n"
TOKEN = "exposure-test-token-0123456789"


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def serve(config: Path, processes: list[subprocess.Popen[str]], *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "MCPSTEAD_BEARER_TOKEN": TOKEN}
    process = subprocess.Popen(
        [*MCPSTEAD, "serve", "--config", str(config), *extra],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    processes.append(process)
    return process


def health(port: int) -> dict[str, object]:
    deadline = time.monotonic() + 15
    while True:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json()  # type: ignore[no-any-return]
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_no_auth_beyond_loopback_is_refused_before_the_port_is_bound(tmp_path: Path, processes: list) -> None:
    port = free_port()
    config = tmp_path / "gw.yaml"
    config.write_text(f"host: 0.0.0.0\nport: {port}\n" + DEMO)
    process = serve(config, processes)
    _out, err = process.communicate(timeout=20)
    assert process.returncode == 1
    assert f"refusing to listen on 0.0.0.0:{port} with mcp.auth.mode: none" in err
    assert "--allow-unauthenticated" in err and "mcp.auth.mode: bearer" in err
    with socket.socket() as probe:
        probe.bind(("0.0.0.0", port))  # nothing took the port
    checked = subprocess.run(
        [*MCPSTEAD, "check", "--config", str(config)], capture_output=True, text=True, timeout=30, check=False
    )
    assert checked.returncode == 0 and "warning: serve and dev will refuse it without --allow-unauthenticated" in (
        checked.stdout
    )


def test_loopback_without_auth_and_beyond_it_with_a_token_start_with_no_warning(
    tmp_path: Path, processes: list
) -> None:
    for host, auth in (("127.0.0.1", ""), ("0.0.0.0", "mcp:\n  auth:\n    mode: bearer\n")):
        port = free_port()
        config = tmp_path / f"{host}.yaml"
        config.write_text(f"host: {host}\nport: {port}\n{auth}" + DEMO)
        process = serve(config, processes)
        wait_for_line(process, r"listening on")
        assert health(port)["warnings"] == []


def test_allowed_it_runs_with_a_loud_warning_and_a_reload_cannot_turn_auth_off(tmp_path: Path, processes: list) -> None:
    port = free_port()
    config = tmp_path / "gw.yaml"
    config.write_text(f"host: 0.0.0.0\nport: {port}\n" + DEMO)
    process = serve(config, processes, "--allow-unauthenticated")
    line = wait_for_line(process, r"WARNING.*UNAUTHENTICATED: listening on 0\.0\.0\.0.*").group(0)
    assert "anyone who can reach it can call every upstream tool" in line
    assert health(port)["warnings"] == [
        f"UNAUTHENTICATED: listening on 0.0.0.0:{port} with mcp.auth.mode: none (--allow-unauthenticated); "
        "anyone who can reach it can call every upstream tool"
    ]
    process.kill()
    process.communicate(timeout=10)

    guarded = tmp_path / "guarded.yaml"
    port = free_port()
    guarded.write_text(f"host: 0.0.0.0\nport: {port}\nmcp:\n  auth:\n    mode: bearer\n" + DEMO)
    process = serve(guarded, processes)
    wait_for_line(process, r"listening on")
    guarded.write_text(f"host: 0.0.0.0\nport: {port}\n" + DEMO)
    answer = httpx.post(f"http://127.0.0.1:{port}/-/reload", headers={"authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert answer.status_code == 400
    assert f"{guarded}: refusing to listen on 0.0.0.0:{port} with mcp.auth.mode: none" in answer.text
    assert health(port)["warnings"] == []
    still = httpx.post(f"http://127.0.0.1:{port}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, timeout=5)
    assert still.status_code == 401  # the running config, bearer, holds


def test_allowed_a_reload_that_turns_auth_off_is_warned_about(tmp_path: Path, processes: list) -> None:
    port = free_port()
    config = tmp_path / "gw.yaml"
    config.write_text(f"host: 0.0.0.0\nport: {port}\nmcp:\n  auth:\n    mode: bearer\n" + DEMO)
    process = serve(config, processes, "--allow-unauthenticated")
    wait_for_line(process, r"listening on")
    assert health(port)["warnings"] == []
    config.write_text(f"host: 0.0.0.0\nport: {port}\n" + DEMO)
    answer = httpx.post(f"http://127.0.0.1:{port}/-/reload", headers={"authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    wait_for_line(process, r"WARNING.*UNAUTHENTICATED: listening on 0\.0\.0\.0")
    assert len(health(port)["warnings"]) == 1  # type: ignore[arg-type]
