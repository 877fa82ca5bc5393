"""Starting and stopping the processes under test: upstreams, mcpstead (headless, dashboard), FastMCP's proxy.

Every process runs in its own process group (and dies with this one, via PR_SET_PDEATHSIG); `stop_all()` runs
from finally blocks, atexit and SIGTERM, so nothing is left behind even when a run fails half-way.
"""

from __future__ import annotations

import atexit
import compileall
import contextlib
import ctypes
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
VENV_BIN = Path(sys.executable).parent
SERVER_EVERYTHING = BENCH_DIR / "node_modules/@modelcontextprotocol/server-everything/dist/index.js"
STOP_GRACE_SECONDS = 3.0

UPSTREAM_KINDS = ("sdk", "sdk-sse", "node")
TARGET_KINDS = ("direct", "mcpstead", "mcpstead-modern", "mcpstead-tui", "mcpstead-tui-capture", "fastmcp")
"""mcpstead-modern: headless mcpstead called by 2026-07-28 clients (no session, an envelope per request),
in front of the same 2025-era upstream session. mcpstead-tui-capture: the dashboard on, and every message
captured to a file (`--capture`), to compare with mcpstead-tui in the same run."""
ECHO_PREFIX = {"sdk": "", "sdk-sse": "", "node": "Echo: "}
"""What each upstream's echo tool puts before the message."""


@dataclass
class Proc:
    """A process this run started, with its log file and when it was started (monotonic)."""

    name: str
    popen: subprocess.Popen[bytes]
    started: float
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


@dataclass
class Target:
    """An endpoint to measure: its URL, the tool name there, and the process whose CPU/RSS count."""

    upstream_kind: str
    kind: str
    url: str
    tool: str
    expect_prefix: str
    measured: Proc
    """The gateway (or, for `direct`, the upstream itself)."""
    upstream: Proc
    extra: dict[str, str] = field(default_factory=dict)


_live: list[Proc] = []


def die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM it when the benchmark process dies, however it dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def spawn(name: str, argv: list[str], log_dir: Path, env: dict[str, str] | None = None, cwd: Path = REPO_DIR) -> Proc:
    """Start a process in a new process group; stdout is discarded, stderr goes to `<log_dir>/<name>.log`."""
    log_path = log_dir / f"{name}.log"
    with open(log_path, "wb") as log:
        started = time.monotonic()
        popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
    proc = Proc(name, popen, started, log_path)
    _live.append(proc)
    return proc


def stop(proc: Proc) -> None:
    """SIGTERM the process group, then SIGKILL it after a grace period."""
    if proc in _live:
        _live.remove(proc)
    for sig, wait in ((signal.SIGTERM, STOP_GRACE_SECONDS), (signal.SIGKILL, STOP_GRACE_SECONDS)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.popen.wait(wait)
            break
    # Members of the group that outlived the leader.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def stop_all() -> None:
    for proc in reversed(list(_live)):
        stop(proc)


def install_cleanup() -> None:
    """Stop every started process at exit and on SIGTERM/SIGHUP (SIGINT raises KeyboardInterrupt already)."""
    atexit.register(stop_all)

    def on_signal(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def node_missing() -> str | None:
    """Why the node upstream cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not SERVER_EVERYTHING.exists():
        return "server-everything is not installed: run `npm ci --prefix bench`"
    return None


def start_upstream(kind: str, log_dir: Path) -> tuple[Proc, str]:
    """Start an upstream with an `echo` tool on a free loopback port; return it and its URL."""
    port = free_port()
    if kind in ("sdk", "sdk-sse"):  # the same server, answering in JSON or in SSE: the two paths side by side
        argv = [
            sys.executable,
            "-m",
            "bench.upstream_sdk",
            "--port",
            str(port),
            *(["--sse"] if kind == "sdk-sse" else []),
        ]
        proc = spawn(f"upstream-{kind}", argv, log_dir)
    else:
        argv = ["node", "--require", str(BENCH_DIR / "node_localhost.cjs"), str(SERVER_EVERYTHING), "streamableHttp"]
        proc = spawn("upstream-node", argv, log_dir, env={"PORT": str(port)})
    return proc, f"http://127.0.0.1:{port}/mcp"


def write_gateway_config(path: Path, port: int, upstream_kind: str, upstream_url: str) -> None:
    path.write_text(
        f"port: {port}\nservers:\n  - name: {upstream_kind}\n    url: {upstream_url}\n    protocol: streamable\n",
        encoding="utf-8",
    )


def _source_env(src: Path | None) -> tuple[dict[str, str], Path]:
    """Environment and cwd that make `import mcpstead` / `import tui` load from `src` (a source tree copy),
    with its bytecode compiled first: where PYTHONDONTWRITEBYTECODE is set (this machine sets it), every
    start would otherwise compile the gateway's ~150 modules again, ~0.1 s that a user's second run never
    pays (compileall writes only what is out of date)."""
    tree = REPO_DIR if src is None else src
    compileall.compile_dir(tree / "mcpstead", quiet=1)
    compileall.compile_dir(tree / "tui", quiet=1)
    if src is None:
        return {}, REPO_DIR
    return {"PYTHONPATH": os.pathsep.join([str(src), str(REPO_DIR)])}, src


def mcpstead_headless(config: Path, log_dir: Path, src: Path | None) -> Proc:
    env, cwd = _source_env(src)
    return spawn("mcpstead", [str(VENV_BIN / "mcpstead"), "serve", "-c", str(config)], log_dir, env, cwd)


def _mcpstead_tui(config: Path, log_dir: Path, src: Path | None, capture: Path | None = None) -> Proc:
    env, cwd = _source_env(src)
    # A realistic dashboard size for the headless driver (it reads the terminal size from these).
    env |= {"COLUMNS": "160", "LINES": "48", "TERM": "xterm-256color"}
    argv = [sys.executable, "-m", "bench.tui_gateway", str(config)]
    if capture is not None:
        argv += ["--capture", str(capture)]
    name = "mcpstead-tui-capture" if capture is not None else "mcpstead-tui"
    return spawn(name, argv, log_dir, env, cwd)


def start_target(
    kind: str, upstream_kind: str, upstream: Proc, upstream_url: str, log_dir: Path, src: Path | None = None
) -> Target:
    """Start the process for one target kind in front of a running upstream (nothing to start for `direct`).

    `src`, when given, is a copy of the source tree (with mcpstead/ and tui/) to run instead of this checkout.
    """
    prefix = ECHO_PREFIX[upstream_kind]
    if kind == "direct":
        return Target(upstream_kind, kind, upstream_url, "echo", prefix, upstream, upstream)
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    if kind == "fastmcp":
        argv = [sys.executable, "-m", "bench.proxy_fastmcp", "--port", str(port), "--upstream", upstream_url]
        proc = spawn("fastmcp", argv, log_dir, env={"FASTMCP_CHECK_FOR_UPDATES": "off"})
        return Target(upstream_kind, kind, url, "echo", prefix, proc, upstream)
    config = log_dir / f"{kind}-{upstream_kind}.yaml"
    write_gateway_config(config, port, upstream_kind, upstream_url)
    if kind in ("mcpstead", "mcpstead-modern"):
        proc = mcpstead_headless(config, log_dir, src)
    else:
        proc = _mcpstead_tui(config, log_dir, src, log_dir / "capture.jsonl" if kind.endswith("-capture") else None)
    extra = {"config": str(config), "client": "modern" if kind == "mcpstead-modern" else "legacy"}
    return Target(upstream_kind, kind, url, f"{upstream_kind}__echo", prefix, proc, upstream, extra)


def source_fingerprint(src: Path | None) -> str:
    """A short hash of the gateway's source files (mcpstead/, tui/), to tell which code was measured."""
    root = src or REPO_DIR
    digest = hashlib.sha256()
    for path in sorted([*root.glob("mcpstead/**/*.py"), *root.glob("tui/**/*.py"), *root.glob("tui/**/*.tcss")]):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def snapshot(dest: Path) -> Path:
    """Copy the checkout's gateway packages (mcpstead/, tui/) into `dest`; return it, for use as `--src`."""
    for package in ("mcpstead", "tui"):
        shutil.copytree(REPO_DIR / package, dest / package, ignore=shutil.ignore_patterns("__pycache__"))
    return dest
