"""A real Prometheus for the deployment tests, and the PromQL the shipped dashboard and alert rules hold."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "mcpstead.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
SCRAPE_CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
PROMETHEUS = shutil.which("prometheus") or ("/usr/bin/prometheus" if Path("/usr/bin/prometheus").exists() else None)
PROMTOOL = shutil.which("promtool") or ("/usr/bin/promtool" if Path("/usr/bin/promtool").exists() else None)
GRAFANA_VARIABLES = {
    "$__rate_interval": "1m",
    "${__rate_interval}": "1m",
    "$__interval": "5s",
    "${__interval}": "5s",
    "$__range": "1m",
    "${__range}": "1m",
    "${server}": ".*",
    "$server": ".*",
}
"""What Grafana would put in place of its variables; a window of 1m covers the whole of a test's samples."""
START_SECONDS = 20.0
STOP_SECONDS = 10.0


@dataclass(frozen=True)
class Expression:
    where: str
    """The panel title or the alert name, for messages."""
    promql: str
    """As written in the file."""

    @property
    def query(self) -> str:
        """The PromQL Prometheus is asked, with Grafana's variables substituted."""
        text = self.promql
        for variable in sorted(GRAFANA_VARIABLES, key=len, reverse=True):
            text = text.replace(variable, GRAFANA_VARIABLES[variable])
        leftover = re.findall(r"\$\{?\w+", text)
        assert not leftover, f"{self.where}: no substitute for {leftover} in {self.promql!r}"
        return text


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))  # a collapsed row holds its panels


def dashboard() -> dict[str, Any]:
    document = json.loads(DASHBOARD.read_text())
    assert isinstance(document, dict)
    return document


def dashboard_expressions() -> list[Expression]:
    """Every targets[].expr of every panel (rows' nested panels included)."""
    found = []
    for panel in _panels(dashboard()["panels"]):
        for target in panel.get("targets", []):
            if "expr" in target:
                found.append(Expression(f"panel {panel['title']!r} {target.get('refId', '')}", target["expr"]))
    return found


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def alert_expressions() -> list[Expression]:
    return [Expression(f"alert {rule['alert']}", rule["expr"]) for rule in alert_rules()]


async def eventually(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.2) -> Any:
    """Call the coroutine function `check` until it returns something truthy; fail after `timeout` s with
    the last value it returned."""
    last: Any = None
    try:
        async with asyncio.timeout(timeout):
            while True:
                last = await check()
                if last:
                    return last
                await asyncio.sleep(interval)
    except TimeoutError:
        raise AssertionError(f"{what}: not within {timeout} s; last: {last!r}") from None


@dataclass
class Prometheus:
    base: str
    http: httpx.AsyncClient
    process: subprocess.Popen[bytes]
    log: Path

    async def get(self, path: str, **params: str) -> Any:
        if self.process.poll() is not None:
            raise AssertionError(f"prometheus exited with {self.process.returncode}:\n{self.log.read_text()}")
        response = await self.http.get(f"{self.base}{path}", params=params, timeout=10)
        body = response.json()
        assert response.status_code == 200 and body["status"] == "success", (path, params, body)
        return body["data"]

    async def query(self, promql: str) -> dict[str, Any]:
        """An instant query; its `data` ({resultType, result}). A PromQL error fails the test with it."""
        response = await self.http.get(f"{self.base}/api/v1/query", params={"query": promql}, timeout=10)
        body = response.json()
        assert body.get("status") == "success", f"{promql!r}: {body}"
        data: dict[str, Any] = body["data"]
        return data

    async def values(self, promql: str) -> dict[str, float]:
        """An instant vector query as {labels rendered: value}."""
        data = await self.query(promql)
        assert data["resultType"] == "vector", data
        return {
            ",".join(f"{k}={v}" for k, v in sorted(sample["metric"].items())): float(sample["value"][1])
            for sample in data["result"]
        }


def _spawn(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    """Start a process with its output in `log` (it returns at once: nothing here blocks the loop)."""
    with log.open("wb") as output:
        return subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT, cwd=log.parent)


@contextlib.asynccontextmanager
async def run_prometheus(tmp_path: Path, config: dict[str, Any]) -> AsyncIterator[Prometheus]:
    """/usr/bin/prometheus on a free loopback port with `config`, its data in `tmp_path`; stopped on exit."""
    assert PROMETHEUS is not None
    directory = tmp_path / "prometheus"
    directory.mkdir()
    config_file = directory / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config))
    port = free_port()
    log = directory / "prometheus.log"
    process = _spawn(
        [
            PROMETHEUS,
            f"--config.file={config_file}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        log,
    )
    try:
        async with httpx.AsyncClient() as http:
            prometheus = Prometheus(f"http://127.0.0.1:{port}", http, process, log)

            async def ready() -> bool:
                if process.poll() is not None:
                    raise AssertionError(f"prometheus exited with {process.returncode}:\n{log.read_text()}")
                with contextlib.suppress(httpx.HTTPError):
                    return (await http.get(f"{prometheus.base}/-/ready", timeout=2)).status_code == 200
                return False

            await eventually("prometheus ready", ready, START_SECONDS)
            yield prometheus
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                await asyncio.to_thread(process.wait, STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait, STOP_SECONDS)


def run_promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60, cwd=cwd)
