"""The gateway's process settles its garbage collector once serving (mcpstead/gcpolicy.py): start-up's
objects frozen, the young threshold raised. Run in a process of its own: the policy is process-wide."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mcpstead import gcpolicy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

OBSERVER = """
import asyncio, gc, json, sys
from mcpstead.config_load import load_config
from mcpstead.runner import run

class Observer:
    '''A frontend that only looks at the collector, before and after the gateway settles it.'''

    async def run(self, view, stop):
        before = [gc.get_threshold()[0], gc.get_freeze_count()]
        await asyncio.sleep(float(sys.argv[2]))
        after = [gc.get_threshold()[0], gc.get_freeze_count()]
        print(json.dumps({"before": before, "after": after}), flush=True)
        stop.set()

sys.exit(run(load_config(sys.argv[1]), Observer()))
"""


def test_run_freezes_start_up_and_raises_the_young_threshold_once_serving(tmp_path: Path) -> None:
    config = tmp_path / "gw.yaml"
    config.write_text("port: 0\nservers: []\n")
    wait = gcpolicy.SETTLE_AFTER_SECONDS + 1.0
    done = subprocess.run(
        [sys.executable, "-c", OBSERVER, str(config), str(wait)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["before"] == [700, 0]  # CPython's defaults until serving has settled
    threshold, frozen = seen["after"]
    assert threshold == gcpolicy.YOUNG_THRESHOLD
    assert frozen > 10_000  # modules, classes and functions of the whole gateway
