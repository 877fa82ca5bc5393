"""The installed command as a user runs it: start, serve, stop on SIGTERM, and fail clearly."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.lines import LineReader

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
MCPSTEAD = [sys.executable, "-m", "mcpstead"]


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "gw.yaml"
    path.write_text(body)
    return path


_readers: weakref.WeakKeyDictionary[subprocess.Popen[str], LineReader] = weakref.WeakKeyDictionary()


def wait_for_line(process: subprocess.Popen[str], pattern: str, timeout: float = 20) -> re.Match[str]:
    """The next stderr line matching `pattern` (bounded), e.g. to know the gateway is listening."""
    assert process.stderr is not None
    reader = _readers.setdefault(process, LineReader(process.stderr))
    return reader.wait_for(pattern, timeout)


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[str]]]:
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def start(args: list[str], started: list[subprocess.Popen[str]], **kwargs: object) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [*MCPSTEAD, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,  # type: ignore[call-overload]
    )
    started.append(process)
    return process


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def test_serves_and_exits_zero_on_sigterm_leaving_no_child(tmp_path: Path, started: list) -> None:
    config = write_config(
        tmp_path, "port: 0\nservers:\n  - name: demo\n    command: mcpstead\n    args: [demo-server]\n"
    )
    process = start(["--config", str(config)], started)
    url = wait_for_line(process, r"listening on (http://\S+/mcp)").group(1)
    base = url.removesuffix("/mcp")
    deadline = time.monotonic() + 15
    while True:
        health = httpx.get(f"{base}/health", timeout=5).json()
        if health["servers"][0]["connected"] or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert health["status"] == "ok"
    child = health["servers"][0]["pid"]
    assert isinstance(child, int) and pid_alive(child)
    process.send_signal(signal.SIGTERM)
    assert process.wait(15) == 0
    assert not pid_alive(child)


def test_env_config_and_dev_without_terminal_runs_headless(tmp_path: Path, started: list) -> None:
    config = write_config(tmp_path, "port: 0\n")
    process = start(["dev"], started, env={**os.environ, "MCPSTEAD_CONFIG": str(config)})
    wait_for_line(process, r"stdout is not a terminal; running headless")
    wait_for_line(process, r"listening on http://127\.0\.0\.1:\d+/mcp")
    process.send_signal(signal.SIGINT)
    assert process.wait(15) == 0


def test_busy_port_is_one_line_and_nonzero_exit(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        config = write_config(
            tmp_path, f"port: {port}\nservers:\n  - name: demo\n    command: mcpstead\n    args: [demo-server]\n"
        )
        result = subprocess.run([*MCPSTEAD, "-c", str(config)], capture_output=True, text=True, timeout=20)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"mcpstead: cannot listen on 127.0.0.1:{port}: Address already in use"]
    assert result.stdout == ""


def test_check_lists_upstreams_or_every_error(tmp_path: Path) -> None:
    good = write_config(
        tmp_path,
        "servers:\n  - name: a\n    url: http://127.0.0.1:9/mcp\n  - name: b\n    command: mcpstead\n    args: [demo-server]\n",
    )
    result = subprocess.run([*MCPSTEAD, "check", "-c", str(good)], capture_output=True, text=True, timeout=20)
    assert result.returncode == 0
    assert "a: streamable-http http://127.0.0.1:9/mcp" in result.stdout
    assert "b: stdio mcpstead demo-server" in result.stdout

    bad = tmp_path / "bad.yaml"
    bad.write_text("port: high\nservers:\n  - name: a__b\n    url: http://x/mcp\n  - {name: c}\n")
    result = subprocess.run([*MCPSTEAD, "check", "--config", str(bad)], capture_output=True, text=True, timeout=20)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"mcpstead: {bad}:1:7: port: expected an integer, got a string 'high'",
        f"mcpstead: {bad}:3:11: servers[0] (name: a__b).name: 'a__b' must be letters and digits, separated by single "
        "'-' or '_' (no '__', no leading or trailing separator), so '<server>__<tool>' splits unambiguously",
        f"mcpstead: {bad}:5:5: servers[1] (name: c): needs exactly one of 'url' (an HTTP upstream) or 'command' "
        "(a stdio upstream)",
    ]


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "MCPSTEAD_CONFIG"}
    env["HOME"] = str(tmp_path)
    result = subprocess.run([*MCPSTEAD, "serve"], capture_output=True, text=True, timeout=20, env=env)
    assert result.returncode == 2
    assert "cannot read the config file" in result.stderr
    assert "pass --config PATH or set MCPSTEAD_CONFIG" in result.stderr


def test_version() -> None:
    result = subprocess.run([*MCPSTEAD, "--version"], capture_output=True, text=True, timeout=20)
    assert result.returncode == 0
    assert re.fullmatch(r"mcpstead \d+\.\d+\.\d+\S*\n", result.stdout)


def test_headless_logs_a_childs_stderr_by_upstream_and_one_line_on_shutdown(tmp_path: Path, started: list) -> None:
    config = write_config(
        tmp_path, "port: 0\nservers:\n  - name: demo\n    command: mcpstead\n    args: [demo-server]\n"
    )
    process = start(["--config", str(config)], started)
    url = wait_for_line(process, r"listening on (http://\S+/mcp)").group(1)
    wait_for_line(process, r"upstream demo ready")
    headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
    init = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    with httpx.Client(timeout=10) as http:
        answer = http.post(
            url, headers=headers, json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init}
        )
        headers["mcp-session-id"] = answer.headers["mcp-session-id"]
        call = {"name": "demo__stderr", "arguments": {"line": "a traceback would be here"}}
        http.post(url, headers=headers, json={"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": call})
    wait_for_line(process, r"upstream demo stderr: a traceback would be here")
    process.send_signal(signal.SIGTERM)
    summary = wait_for_line(
        process,
        r"stopped in \d+\.\d\ds: waited for 0 request\(s\) in flight, ended 1 session\(s\), closed 1 upstream\(s\)",
    )
    assert summary is not None
    assert process.wait(15) == 0
