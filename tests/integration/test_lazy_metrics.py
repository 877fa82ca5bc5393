"""prometheus-client is loaded at the first scrape of /metrics, not at start (mcpstead/exposition.py says
why: 1.4 MiB of an idle gateway's memory). Run in a process of its own: what is imported is process-wide."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

OBSERVER = """
import asyncio, json, sys, urllib.request
from mcpstead.config_load import load_config
from mcpstead.runner import run

class Observer:
    '''A frontend that looks at what is imported while the gateway serves, before and after a scrape.'''

    async def run(self, view, stop):
        url = view.snapshot().listen_url.removesuffix("/mcp") + "/metrics"
        idle = "prometheus_client" in sys.modules
        loop = asyncio.get_running_loop()
        fetch = lambda: urllib.request.urlopen(url, timeout=10).read().decode()
        text = await loop.run_in_executor(None, fetch)
        again = await loop.run_in_executor(None, fetch)
        scraped = "prometheus_client" in sys.modules
        print(json.dumps({"idle": idle, "scraped": scraped, "text": text, "again": again}), flush=True)
        stop.set()

sys.exit(run(load_config(sys.argv[1]), Observer()))
"""


def test_prometheus_client_is_loaded_at_the_first_scrape_and_metrics_are_whole_from_it(tmp_path: Path) -> None:
    config = tmp_path / "gw.yaml"
    config.write_text("port: 0\nservers: []\n")
    done = subprocess.run([sys.executable, "-c", OBSERVER, str(config)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["idle"] is False
    assert seen["scraped"] is True
    for text in (seen["text"], seen["again"]):
        assert "mcpstead_build_info{" in text
        assert "mcpstead_downstream_sessions_active 0.0" in text
        assert "mcpstead_process_resident_memory_bytes" in text
