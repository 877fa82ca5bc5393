"""Reload triggers: a save of the config file calls the gateway's reload (load, validate, apply).

The apply logic lives in `Gateway.reload()` / `Gateway.apply_config()`; this module knows only a reload
callable and a path, so it never imports the gateway. SIGHUP, POST /-/reload and the dashboard call the same
`Gateway.reload()`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("mcpstead.reload")
DEBOUNCE_MS = 200


def _config_filter(config_path: str) -> tuple[str, Callable[[Any, str], bool]]:
    """The directory to watch and a filter that keeps only changes to the config file itself."""
    path = os.path.realpath(config_path)

    from watchfiles import Change

    def is_config(change: Change, changed: str) -> bool:
        return change != Change.deleted and os.path.realpath(changed) == path

    return os.path.dirname(path), is_config


async def watch_config(config_path: str, reload: Callable[[], Awaitable[object]], stop: asyncio.Event) -> None:
    """Call `reload()` when the config file is saved, atomic renames included (the directory is watched)."""
    from watchfiles import awatch  # loaded only when watching

    directory, is_config = _config_filter(config_path)
    async for _changes in awatch(
        directory, watch_filter=is_config, debounce=DEBOUNCE_MS, step=50, stop_event=stop, recursive=False
    ):
        try:
            await reload()
        except Exception:  # a bug must not end the watcher; the running config stays
            log.exception("config reload after a file change failed unexpectedly")
