"""The headless gateway never loads the dashboard, nor the HTTP libraries only legacy SSE upstreams and the
bridge use (aiohttp, httpx: ~10 MiB and ~80 ms of start): checked on a real headless run with a stdio
upstream, in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from mcpstead.config_load import parse_config
    from mcpstead.runner import bind, serve

    async def main():
        config = parse_config("port: 0\\nservers:\\n  - name: demo\\n    command: mcpstead\\n    args: [demo-server]\\n", "t.yaml")
        stop = asyncio.Event()
        code = await serve(config, bind("127.0.0.1", 0), on_ready=lambda url: stop.set(), stop=stop, handle_signals=False)
        assert code == 0, code

    asyncio.run(main())
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in {"textual", "tui", "aiohttp", "httpx"})
    print("LOADED:" + ",".join(loaded))
    """
)


@pytest.mark.timeout(60)
def test_headless_run_never_imports_textual_tui_or_the_legacy_http_clients() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=50)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "LOADED:"
