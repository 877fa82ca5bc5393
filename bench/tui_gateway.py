"""mcpstead with its dashboard live on Textual's headless driver, as `mcpstead dev` runs it minus the terminal.

Run as its own process: `python -m bench.tui_gateway CONFIG [--capture FILE]`. Logging goes to the in-memory ring, as in
`mcpstead/cli.py` `_run` for dev mode; the app renders every frame but writes nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mcpstead.config_load import load_config
from mcpstead.logs import LogRing, setup_logging
from mcpstead.runner import run
from tui.frontend import TuiFrontend


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config")
    parser.add_argument("--capture", type=Path, default=None, help="also capture every message to this file")
    args = parser.parse_args()
    config = load_config(args.config)
    setup_logging(config.logging.level, ring=LogRing())
    return run(config, TuiFrontend(headless=True), capture=args.capture)


if __name__ == "__main__":
    raise SystemExit(main())
