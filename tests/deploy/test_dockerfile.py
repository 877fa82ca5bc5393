"""The Dockerfile and compose.yaml, tested without a container engine (none runs here).

The Dockerfile is read by `dockerfile-parse` (PyPI): its stages, user, HEALTHCHECK, ENTRYPOINT and EXPOSE are
checked, the builder stage's wheel is built from exactly the files it copies, and the image's ENTRYPOINT runs
as a real process against the image's own config (on a loopback port) and answers the image's own
HEALTHCHECK command. compose.yaml is checked against the files it mounts and the Prometheus target.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.deploy.docker_files import (
    CONFIG_IN_IMAGE,
    CONTAINER_CONFIG,
    DOCKERFILE,
    ROOT,
    Stage,
    compose,
    container_config,
    copies,
    exec_form,
    healthcheck,
    ignored,
    stages,
)
from tests.ports import free_port

TOKEN = "dockerfile-test-token-0123456789"
START_SECONDS = 30.0
STOP_SECONDS = 15.0
NO_INDEX = r"No matching distribution found for (setuptools|wheel)|Failed to establish a new connection"
PROMETHEUS_PORT = 9090
"""Where the prom/prometheus image listens (compose.yaml does not change it)."""
OFFICIAL_SLIM = re.compile(r"^python:3\.1[1-9]-slim(-[a-z]+)?$")


@pytest.fixture(scope="module")
def runtime() -> Stage:
    return stages()[-1]


def test_both_stages_are_the_slim_official_python_image_and_the_wheel_is_built_in_the_builder() -> None:
    builder, *_, runtime = stages()
    assert len(stages()) >= 2
    assert OFFICIAL_SLIM.match(builder.base) and OFFICIAL_SLIM.match(runtime.base), (builder.base, runtime.base)
    assert builder.alias is not None
    assert any(re.search(r"pip wheel|-m build\b", run) for run in builder.all("RUN")), builder.all("RUN")
    # The runtime stage installs only wheels from the builder, offline, and copies no source tree.
    installs = [run for run in runtime.all("RUN") if "pip install" in run]
    assert len(installs) == 1 and "--no-index" in installs[0] and "mcpstead" in installs[0], installs
    assert f"from={builder.alias}" in installs[0]
    assert [sources for _, sources, _ in copies(runtime)] == [["deploy/config.yaml"]]


def test_the_runtime_user_is_not_root_and_is_created_in_the_image(runtime: Stage) -> None:
    user = runtime.last("USER")
    assert user is not None, "no USER: the container would run as root"
    name = user.split(":")[0]
    assert name not in {"root", "0"} and user.split(":")[-1] not in {"root", "0"}, user
    assert any(re.search(rf"useradd\b.*\b{re.escape(name)}\b", run) for run in runtime.all("RUN"))
    later = runtime.instructions[[i.name for i in runtime.instructions].index("USER") :]
    assert not any(i.name == "RUN" for i in later), "everything after USER runs as that user: no RUN after it"


def test_the_entrypoint_is_mcpstead_serve_on_the_config_in_etc(runtime: Stage) -> None:
    entrypoint = exec_form(runtime.last("ENTRYPOINT") or "null")
    command = exec_form(runtime.last("CMD") or "[]")
    argv = entrypoint + command
    assert entrypoint[:2] == ["mcpstead", "serve"], entrypoint
    assert argv[argv.index("--config") + 1] == CONFIG_IN_IMAGE
    assert ([], ["deploy/config.yaml"], CONFIG_IN_IMAGE) in copies(runtime)


def test_the_exposed_port_is_the_container_configs_port(runtime: Stage) -> None:
    config = container_config()
    assert config["host"] == "0.0.0.0"
    assert config["mcp"]["auth"]["mode"] == "bearer"  # off loopback, never without auth
    assert runtime.all("EXPOSE") == [str(config["port"])]


def test_the_healthcheck_asks_health_with_the_standard_library(runtime: Stage) -> None:
    options, command = healthcheck(runtime)
    assert command[:2] == ["python", "-c"], command
    assert "urllib.request" in command[2] and "curl" not in command[2]
    assert f"http://127.0.0.1:{container_config()['port']}/health" in command[2]
    assert "ProxyHandler({})" in command[2] and "MCPSTEAD_HEALTH_URL" in command[2]
    assert {"interval", "timeout", "retries"} <= set(options)


def test_the_build_context_holds_what_the_dockerfile_copies_and_nothing_else() -> None:
    for stage in stages():
        for flags, sources, _ in copies(stage):
            if any(flag.startswith("--from=") for flag in flags):
                continue
            for source in sources:
                assert (ROOT / source).exists(), source
                assert not ignored(source), f".dockerignore keeps {source} out, so COPY {source} would fail"
    for kept_out in (".venv/bin/python", "node_modules/x", "tests/conftest.py", ".git/HEAD", "mcpstead/__pycache__/x"):
        assert ignored(kept_out), kept_out


def test_the_builder_stages_files_build_a_wheel_with_the_mcpstead_command(tmp_path: Path) -> None:
    """What `pip wheel .` makes of exactly the files the builder stage copies (its dependencies aside; the build
    backend is fetched into an isolated build environment, as in `docker build`), checked for the console script
    the ENTRYPOINT runs and the dashboard's stylesheets."""
    builder = stages()[0]
    context = tmp_path / "src"
    context.mkdir()
    for _, sources, destination in copies(builder):
        for source in sources:
            target = context / (Path(destination) / Path(source).name if destination.endswith("/") else destination)
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(ROOT / source, target)
    wheels = tmp_path / "wheels"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(wheels), "."],
        cwd=context,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0 and re.search(NO_INDEX, result.stdout + result.stderr):
        pytest.skip(f"pip could not fetch the build backend (setuptools, wheel) from an index: {result.stderr[-300:]}")
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = wheels.glob("mcpstead-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert re.search(r"^mcpstead = mcpstead\.cli:main$", entry_points, re.MULTILINE), entry_points
    assert "mcpstead/demo.py" in names and any(n.startswith("tui/") and n.endswith(".tcss") for n in names)


# -- the entrypoint, run -----------------------------------------------------------------------------------


def installed_mcpstead() -> str:
    beside_python = Path(sys.executable).parent / "mcpstead"
    found = str(beside_python) if beside_python.exists() else shutil.which("mcpstead")
    if found is None:
        pytest.fail("no mcpstead executable: install the project (pip install -e .) before running this test")
    return found


def on_this_machine(argv: list[str]) -> list[str]:
    """An image's command with its program found here: `mcpstead` is the installed one, `python` this one."""
    programs = {"mcpstead": installed_mcpstead(), "python": sys.executable, "python3": sys.executable}
    assert argv and argv[0] in programs, f"the image runs {argv[:1]}, which this test does not know"
    return [programs[argv[0]], *argv[1:]]


def image_environment(stage: Stage) -> dict[str, str]:
    """The runtime stage's ENV, as the container would have it."""
    environment: dict[str, str] = {}
    for value in stage.all("ENV"):
        for word in shlex.split(value):
            key, _, val = word.partition("=")
            environment[key] = val
    return environment


@contextlib.contextmanager
def running(argv: list[str], environment: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        process = subprocess.Popen(argv, env=environment, stdout=output, stderr=subprocess.STDOUT, cwd=log.parent)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # what `docker stop` sends
            try:
                process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_SECONDS)


def wait_for_health(process: subprocess.Popen[bytes], url: str, log: Path, status: str | None = None) -> None:
    """Until /health answers 200 (and, with `status`, says so), within START_SECONDS."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the entrypoint exited with {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            answer = httpx.get(url, timeout=2)
            if answer.status_code == 200 and (status is None or answer.json()["status"] == status):
                return
        time.sleep(0.1)
    pytest.fail(f"/health did not answer (status {status}) within {START_SECONDS} s:\n{log.read_text()}")


def test_the_entrypoint_serves_the_image_config_and_answers_the_healthcheck(runtime: Stage, tmp_path: Path) -> None:
    config = container_config()
    image_port = int(config["port"])
    port = free_port()
    # Only loopback traffic is allowed on this machine: the image's config, on 127.0.0.1 and a free port.
    config_copy = tmp_path / "config.yaml"
    config_copy.write_text(yaml.safe_dump({**config, "host": "127.0.0.1", "port": port}))

    argv = on_this_machine(exec_form(runtime.last("ENTRYPOINT") or "null") + exec_form(runtime.last("CMD") or "[]"))
    argv = [str(config_copy) if word == CONFIG_IN_IMAGE else word for word in argv]
    assert str(config_copy) in argv
    environment = {
        **os.environ,
        **image_environment(runtime),
        "MCPSTEAD_BEARER_TOKEN": TOKEN,
        "HOME": str(tmp_path),
    }
    environment.pop("MCPSTEAD_CONFIG", None)

    _, check = healthcheck(runtime)
    probe = [word.replace(f":{image_port}/health", f":{port}/health") for word in on_this_machine(check)]
    assert f":{port}/health" in probe[-1]

    log = tmp_path / "mcpstead.log"
    with running(argv, environment, log) as process:
        wait_for_health(process, f"http://127.0.0.1:{port}/health", log)
        proxied = {**os.environ, "http_proxy": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
        answer = subprocess.run(probe, capture_output=True, text=True, timeout=30, env=proxied)
        assert answer.returncode == 0, answer.stderr  # a proxy the container was given is not asked
        moved = {**os.environ, "MCPSTEAD_HEALTH_URL": f"http://127.0.0.1:{port}/health"}
        answer = subprocess.run(on_this_machine(check), capture_output=True, text=True, timeout=30, env=moved)
        assert answer.returncode == 0, answer.stderr  # another port, named by the variable
        wait_for_health(process, f"http://127.0.0.1:{port}/health", log, status="ok")  # the demo upstream is up
        health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).json()
        assert [s["name"] for s in health["servers"]] == ["demo"], health
        # Bearer auth is on: /mcp without the token is refused, with it the gateway answers.
        initialize = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            },
        }
        headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
        url = f"http://127.0.0.1:{port}/mcp"
        assert httpx.post(url, json=initialize, headers=headers, timeout=5).status_code == 401
        authorized = {**headers, "authorization": f"Bearer {TOKEN}"}
        assert httpx.post(url, json=initialize, headers=authorized, timeout=5).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(STOP_SECONDS) == 0, log.read_text()
    # With the gateway gone the same check fails, so a dead container is reported unhealthy.
    assert subprocess.run(probe, capture_output=True, timeout=30).returncode != 0


def test_the_entrypoint_refuses_to_start_without_the_bearer_token(runtime: Stage, tmp_path: Path) -> None:
    config_copy = tmp_path / "config.yaml"
    config_copy.write_text(yaml.safe_dump({**container_config(), "host": "127.0.0.1", "port": free_port()}))
    argv = on_this_machine(exec_form(runtime.last("ENTRYPOINT") or "null"))
    argv = [str(config_copy) if word == CONFIG_IN_IMAGE else word for word in argv]
    environment = {key: value for key, value in os.environ.items() if key != "MCPSTEAD_BEARER_TOKEN"}
    result = subprocess.run(argv, env=environment, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "MCPSTEAD_BEARER_TOKEN" in result.stderr


# -- compose.yaml ------------------------------------------------------------------------------------------


def host_path(volume: str) -> Path | None:
    source = volume.split(":")[0]
    return ROOT / source if source.startswith(".") else None  # a named volume otherwise


def test_compose_has_mcpstead_built_here_with_the_token_from_the_environment_and_its_port() -> None:
    services = compose()["services"]
    assert set(services) >= {"mcpstead", "prometheus", "grafana"}
    mcpstead = services["mcpstead"]
    assert mcpstead["build"] == "." and DOCKERFILE.exists()
    # Passed from the shell that runs compose (${...}), never written in the file.
    assert mcpstead["environment"]["MCPSTEAD_BEARER_TOKEN"].startswith("${MCPSTEAD_BEARER_TOKEN:?")
    port = container_config()["port"]
    assert [str(p).rsplit(":", 1)[-1] for p in mcpstead["ports"]] == [str(port)]  # [ip:]host:container


def test_compose_mounts_only_files_of_this_repo() -> None:
    services = compose()["services"]
    named = set(compose().get("volumes") or {})
    for name, service in services.items():
        for volume in service.get("volumes", []):
            path = host_path(volume)
            if path is None:
                assert volume.split(":")[0] in named, f"{name}: {volume}"
            else:
                assert path.exists(), f"{name} mounts {volume}, and {path} does not exist"


def test_prometheus_in_compose_scrapes_the_mcpstead_service_with_the_shipped_rules() -> None:
    services = compose()["services"]
    prometheus = services["prometheus"]
    assert prometheus["image"].startswith("prom/prometheus:")
    mounts = {volume.split(":")[1]: host_path(volume) for volume in prometheus["volumes"]}
    config_flag = next(arg for arg in prometheus["command"] if arg.startswith("--config.file="))
    config_in_container = Path(config_flag.split("=", 1)[1])
    config_dir = mounts[str(config_in_container.parent)]
    assert config_dir == ROOT / "deploy" / "prometheus"
    scrape = yaml.safe_load((config_dir / config_in_container.name).read_text())
    (job,) = [job for job in scrape["scrape_configs"] if job["job_name"] == "mcpstead"]
    (target,) = [target for group in job["static_configs"] for target in group["targets"]]
    service, port = target.split(":")
    assert service in services and service == "mcpstead"
    assert int(port) == container_config()["port"]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    for rules in scrape["rule_files"]:
        assert (config_dir / rules).exists(), rules


def test_grafana_in_compose_is_provisioned_with_the_datasource_and_the_dashboard() -> None:
    services = compose()["services"]
    grafana = services["grafana"]
    assert grafana["image"].startswith("grafana/grafana:")
    mounts = {volume.split(":")[1]: host_path(volume) for volume in grafana["volumes"]}
    provisioning = mounts["/etc/grafana/provisioning"]
    assert provisioning == ROOT / "deploy" / "grafana" / "provisioning"
    datasources = [
        source
        for file in sorted((provisioning / "datasources").glob("*.y*ml"))
        for source in yaml.safe_load(file.read_text())["datasources"]
    ]
    (prometheus,) = [source for source in datasources if source["type"] == "prometheus"]
    assert prometheus["url"] == f"http://prometheus:{PROMETHEUS_PORT}"
    assert [str(p).rsplit(":", 1)[-1] for p in services["prometheus"]["ports"]] == [str(PROMETHEUS_PORT)]
    for unauthenticated in ("prometheus", "grafana"):  # published on loopback only
        assert all(str(p).startswith("127.0.0.1:") for p in services[unauthenticated]["ports"]), unauthenticated
    assert ":?" in services["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"]  # no default password
    providers = [
        provider
        for file in sorted((provisioning / "dashboards").glob("*.y*ml"))
        for provider in yaml.safe_load(file.read_text())["providers"]
    ]
    (provider,) = providers
    dashboards_dir = provider["options"]["path"]
    dashboard_mounts = {
        container: source for container, source in mounts.items() if container.startswith(dashboards_dir + "/")
    }
    assert set(dashboard_mounts.values()) == {ROOT / "deploy" / "grafana" / "mcpstead.json"}
    # The dashboard's datasource variable defaults to the provisioned datasource.
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "mcpstead.json").read_text())
    (variable,) = [v for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
    assert variable["current"]["value"] == prometheus["uid"]


def test_the_container_config_is_a_valid_mcpstead_config_with_the_schema_modeline() -> None:
    first = CONTAINER_CONFIG.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../docs/config.schema.json"
    assert (CONTAINER_CONFIG.parent / "../docs/config.schema.json").resolve().exists()
    result = subprocess.run(
        [installed_mcpstead(), "check", "--config", str(CONTAINER_CONFIG)],
        env={**os.environ, "MCPSTEAD_BEARER_TOKEN": TOKEN},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "auth: bearer" in result.stdout
