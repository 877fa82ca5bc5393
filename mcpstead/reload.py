"""Config reload: one path for file saves, SIGHUP, POST /-/reload and the dashboard.

Validate fully, diff, then apply. A bad file changes nothing. Upstreams whose connection settings changed
are restarted; soft settings apply in place; untouched upstreams (and all sessions) are left alone.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mcpstead.config import load_config
from mcpstead.config_diff import diff_configs, effective_config
from mcpstead.errors import ConfigError
from mcpstead.state import ReloadView

if TYPE_CHECKING:
    from mcpstead.gateway import Gateway

log = logging.getLogger("mcpstead.reload")
DEBOUNCE_MS = 200


async def reload_gateway(gateway: Gateway) -> ReloadView:
    async with gateway.reload_lock:
        now = gateway.clock.wall()
        try:
            new = load_config(gateway.config.path)
        except ConfigError as exc:
            outcome = ReloadView(at=now, ok=False, errors=tuple(exc.problems))
            log.error("config reload failed; keeping the running config: %s", " | ".join(exc.problems))
            gateway.metrics.config_reload(ok=False)
            gateway.last_reload = outcome
            gateway.bump()
            return outcome

        diff = diff_configs(gateway.config, new)
        for setting in diff.ignored:
            log.warning("config reload ignored a change to %s; restart required", setting)
        gateway.config = effective_config(gateway.config, new)
        stopping = [gateway.supervisors.pop(name) for name in (*diff.removed, *diff.restarted)]
        await asyncio.gather(*(supervisor.stop() for supervisor in stopping), return_exceptions=True)
        for name in diff.removed:
            gateway.metrics.forget_upstream(name)
        for name in (*diff.restarted, *diff.added):
            gateway.add_upstream(name)
        for name in diff.updated:
            server = gateway.config.server(name)
            assert server is not None
            gateway.supervisors[name].update_config(server)
        for name in diff.unchanged:
            if gateway.supervisors[name].status == "failed":
                gateway.supervisors[name].reconnect()
        gateway.tools_changed()

        outcome = ReloadView(
            at=now,
            ok=True,
            added=diff.added,
            removed=diff.removed,
            restarted=diff.restarted,
            updated=diff.updated,
            unchanged=diff.unchanged,
            ignored=diff.ignored,
        )
        log.info(
            "config reloaded added=%d removed=%d restarted=%d updated=%d unchanged=%d",
            len(diff.added),
            len(diff.removed),
            len(diff.restarted),
            len(diff.updated),
            len(diff.unchanged),
        )
        gateway.metrics.config_reload(ok=True)
        gateway.last_reload = outcome
        gateway.bump()
        return outcome


def _config_filter(config_path: str) -> tuple[str, Callable[[Any, str], bool]]:
    """The directory to watch and a filter that keeps only changes to the config file itself."""
    path = os.path.realpath(config_path)

    from watchfiles import Change

    def is_config(change: Change, changed: str) -> bool:
        return change != Change.deleted and os.path.realpath(changed) == path

    return os.path.dirname(path), is_config


async def watch_config(gateway: Gateway, stop: asyncio.Event) -> None:
    """Reload when the config file is saved, atomic renames included (the directory is watched)."""
    from watchfiles import awatch  # loaded only when watching

    directory, is_config = _config_filter(gateway.config.path)
    async for _changes in awatch(
        directory, watch_filter=is_config, debounce=DEBOUNCE_MS, step=50, stop_event=stop, recursive=False
    ):
        try:
            await reload_gateway(gateway)
        except Exception:  # a bug must not end the watcher; the running config stays
            log.exception("config reload after a file change failed unexpectedly")
