"""Suite-wide setup: the pinned node packages (conformance suite, server-everything, Node 22) are installed
once with `npm ci` when missing or older than package-lock.json, so the README's test command works alone."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "package-lock.json"
INSTALLED = ROOT / "node_modules" / ".package-lock.json"
NPM_TIMEOUT_SECONDS = 600


def pytest_sessionstart(session: pytest.Session) -> None:
    if INSTALLED.is_file() and INSTALLED.stat().st_mtime >= LOCK.stat().st_mtime:
        return
    npm = shutil.which("npm")
    if npm is None:
        return  # the tests that need node say so themselves
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=ROOT,
        check=True,
        timeout=NPM_TIMEOUT_SECONDS,
        stdout=subprocess.DEVNULL,
    )
