"""Real nginx with the shipped deploy/nginx/mcpstead.conf in front of real mcpstead instances, on loopback.

Used by tests/deploy/test_nginx.py and bench/nginx.py. Everything runs as a child process in its own process
group and is ended by `Cluster.stop()` (or `Instance.kill()` for an instance's sudden death); every wait is
bounded. nginx runs in the foreground (`daemon off`) with its pid file, logs and temp files under one
directory, so it works the same as root or not, next to a system nginx or none.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from mcpstead.config import INSTANCE_ID_ENV
from tests.ports import free_port

REPO_DIR = Path(__file__).resolve().parents[2]
SHIPPED_CONF = REPO_DIR / "deploy" / "nginx" / "mcpstead.conf"
NGINX_CANDIDATES = ("/usr/sbin/nginx", "nginx")
PLACEHOLDERS = ("LISTEN_PORT", "INSTANCE_A", "INSTANCE_B")
"""What the shipped config leaves to envsubst; each instance in it: (its id, the placeholder of its port)."""
INSTANCES = (("a", "INSTANCE_A"), ("b", "INSTANCE_B"))
START_SECONDS = 15.0
STOP_SECONDS = 5.0
DEMO_UPSTREAM = "servers:\n  - name: demo\n    command: mcpstead\n    args: [demo-server]\n"
"""The bundled stdio demo server: the same real upstream behind every instance, nothing else to run."""


def nginx_binary() -> str | None:
    for candidate in NGINX_CANDIDATES:
        found = shutil.which(candidate)
        if found is not None:
            return found
    return None


def substitute(text: str, values: Mapping[str, str]) -> str:
    """What `envsubst '${LISTEN_PORT} ${INSTANCE_A} ${INSTANCE_B}'` does: only the named `${VAR}`s are
    replaced, so nginx's own `$host`, `$http_mcp_session_id`... stay. A placeholder left unset is an error."""
    missing = [name for name in PLACEHOLDERS if name not in values]
    if missing:
        raise ValueError(f"no value for {', '.join(missing)}")
    return re.sub(r"\$\{(" + "|".join(PLACEHOLDERS) + r")\}", lambda match: values[match.group(1)], text)


def _end_group(popen: subprocess.Popen[bytes], first: signal.Signals) -> None:
    """Signal the process group, wait a bound, then SIGKILL what is left (members that outlived the leader
    too: an instance's stdio demo child)."""
    for sig in (first, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(popen.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(STOP_SECONDS)
            break
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(popen.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        popen.wait(STOP_SECONDS)


def _spawn(argv: list[str], log: Path, env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    with open(log, "wb") as sink:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=REPO_DIR,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )


def _tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


@dataclass
class Instance:
    """One `mcpstead serve` process with its own port and instance id."""

    instance_id: str
    port: int
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def health(self) -> dict[str, Any]:
        document: dict[str, Any] = httpx.get(f"{self.base}/health", timeout=5).json()
        return document

    def calls(self) -> int:
        """Tool calls this instance forwarded (to its one upstream): which instance served a call."""
        return int(self.health()["servers"][0]["calls"])

    def wait_ready(self, timeout: float = START_SECONDS) -> None:
        """Until /health says this instance's id and its upstream connected (bounded)."""
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"instance {self.instance_id} exited ({self.popen.returncode}):\n{_tail(self.log)}")
            try:
                document = self.health()
                last = document
                if document["instance_id"] == self.instance_id and all(s["connected"] for s in document["servers"]):
                    return
            except (httpx.HTTPError, ValueError) as exc:
                last = exc
            time.sleep(0.05)
        raise RuntimeError(f"instance {self.instance_id} not ready in {timeout} s; last: {last}\n{_tail(self.log)}")

    def kill(self) -> None:
        """Sudden death: SIGKILL the instance and its upstream child."""
        _end_group(self.popen, signal.SIGKILL)

    def stop(self) -> None:
        _end_group(self.popen, signal.SIGTERM)


def start_instance(
    instance_id: str, directory: Path, *, by_env: bool = False, servers: str = DEMO_UPSTREAM
) -> Instance:
    """Start `python -m mcpstead serve` on a free loopback port, its id from the config's `instance_id` or,
    with `by_env`, from $MCPSTEAD_INSTANCE_ID. Does not wait: call `wait_ready()`."""
    port = free_port()
    config = directory / f"instance-{instance_id}.yaml"
    own = "" if by_env else f"instance_id: {instance_id}\n"
    trusted = "mcp:\n  trusted_proxies: [127.0.0.1]\n"  # nginx: clients count by X-Forwarded-For
    config.write_text(f"port: {port}\n{own}{trusted}{servers}", encoding="utf-8")
    env = {INSTANCE_ID_ENV: instance_id} if by_env else {}
    log = directory / f"instance-{instance_id}.log"
    popen = _spawn([sys.executable, "-m", "mcpstead", "serve", "--config", str(config)], log, env)
    return Instance(instance_id, port, popen, log)


@dataclass
class Nginx:
    popen: subprocess.Popen[bytes]
    port: int
    directory: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def error_log(self) -> str:
        return _tail(self.directory / "error.log")

    def stop(self) -> None:
        _end_group(self.popen, signal.SIGTERM)  # nginx's fast shutdown


def main_config(directory: Path, site: Path) -> str:
    """A minimal nginx.conf whose `http { }` includes the shipped site file, as Debian's includes conf.d/;
    every path nginx writes is under `directory`."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers keep access to the private temp directory
    temp = "\n".join(
        f"    {kind}_temp_path {directory / ('temp-' + kind)};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}worker_processes 1;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        f"    access_log {directory / 'access.log'};\n"
        f"{temp}\n"
        f"    include {site};\n"
        "}\n"
    )


def nginx_argv(binary: str, directory: Path) -> list[str]:
    log = directory / "error.log"
    settings = f"daemon off; pid {directory / 'nginx.pid'}; error_log {log} notice;"
    return [binary, "-p", str(directory), "-e", str(log), "-c", str(directory / "nginx.conf"), "-g", settings]


def prepare_nginx(binary: str, directory: Path, ports: Mapping[str, int]) -> None:
    """Write the substituted shipped config and the main config into `directory`; `nginx -t` must pass."""
    directory.mkdir(parents=True, exist_ok=True)
    site = directory / "mcpstead.conf"
    site.write_text(substitute(SHIPPED_CONF.read_text(encoding="utf-8"), {k: str(v) for k, v in ports.items()}))
    (directory / "nginx.conf").write_text(main_config(directory, site), encoding="utf-8")
    checked = subprocess.run([*nginx_argv(binary, directory), "-t"], capture_output=True, timeout=15, check=False)
    if checked.returncode != 0:
        raise RuntimeError(f"nginx -t refused the config:\n{checked.stderr.decode(errors='replace')}")


def start_nginx(binary: str, directory: Path, ports: Mapping[str, int], timeout: float = START_SECONDS) -> Nginx:
    """nginx in the foreground in front of `ports` (LISTEN_PORT, INSTANCE_A, INSTANCE_B), once it listens."""
    prepare_nginx(binary, directory, ports)
    popen = _spawn(nginx_argv(binary, directory), directory / "nginx.out")
    nginx = Nginx(popen, ports["LISTEN_PORT"], directory)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise RuntimeError(f"nginx exited ({popen.returncode}):\n{nginx.error_log()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", nginx.port), timeout=1):
            return nginx
        time.sleep(0.05)
    nginx.stop()
    raise RuntimeError(f"nginx did not listen in {timeout} s:\n{nginx.error_log()}")


@dataclass
class Cluster:
    """nginx and the instances behind it (`by_id`), all ended by `stop()`."""

    directory: Path
    instances: dict[str, Instance] = field(default_factory=dict)
    nginx: Nginx | None = None

    @property
    def url(self) -> str:
        assert self.nginx is not None
        return self.nginx.url

    def stop(self) -> None:
        if self.nginx is not None:
            self.nginx.stop()
        for instance in self.instances.values():
            instance.stop()


def start_cluster(binary: str, directory: Path, count: int = 2, servers: str = DEMO_UPSTREAM) -> Cluster:
    """`count` instances (1 or 2: a, and b from $MCPSTEAD_INSTANCE_ID) behind nginx with the shipped config.
    With one instance both of the config's instance ports point at it. On failure everything started ends."""
    directory.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(directory)
    try:
        for index, (instance_id, _) in enumerate(INSTANCES[:count]):
            cluster.instances[instance_id] = start_instance(instance_id, directory, by_env=index == 1, servers=servers)
        for instance in cluster.instances.values():
            instance.wait_ready()
        ports = {"LISTEN_PORT": free_port()}
        for instance_id, placeholder in INSTANCES:
            ports[placeholder] = cluster.instances.get(instance_id, cluster.instances["a"]).port
        cluster.nginx = start_nginx(binary, directory / "nginx", ports)
    except BaseException:
        cluster.stop()
        raise
    return cluster
