"""`mcpstead import PATH... [--write CONFIG] [--dry-run]`: what it prints, where, and its exit codes.

stdout carries only YAML (so `mcpstead import .mcp.json > gw.yaml` works); notes, the variables to set and
errors go to stderr. Nothing is written unless `--write` is given, and nothing at all when any file fails.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mcpstead.client_import import Imported, read_client_configs
from mcpstead.config_merge import check, merge_into, render_config, server_items, write_atomically
from mcpstead.errors import ClientConfigError, ConfigError

EXIT_BAD_INPUT = 2


def _say(text: str) -> None:
    print(f"mcpstead: {text}", file=sys.stderr)


def run_import(paths: list[Path], write: Path | None, dry_run: bool) -> int:
    try:
        imported = read_client_configs(paths)
        if write is None:
            text = render_config(imported, paths)
            check(text, "the imported config")
            _report(imported)
            sys.stdout.write(text)
            return 0
        return _merge(imported, write, dry_run)
    except (ClientConfigError, ConfigError) as exc:
        for problem in exc.problems:
            _say(problem)
        _say("nothing was written")
        return EXIT_BAD_INPUT


def _merge(imported: Imported, target: Path, dry_run: bool) -> int:
    try:
        text = target.read_text(encoding="utf-8") if target.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{target}: cannot read it: {getattr(exc, 'strerror', None) or exc}"]) from None
    merge = merge_into(text, str(target), imported)
    if merge.added:
        check(merge.text, str(target))
    _report(imported)
    for clash in merge.clashes:
        _say(clash)
    added = [server for server in imported.servers if server.name in merge.added]
    if not added:
        _say(f"nothing to add to {target}")
        return 0
    if dry_run:
        sys.stdout.write(server_items(added))
        _say(f"dry run: {target} would get {', '.join(merge.added)}; nothing was written")
        return 0
    write_atomically(target, merge.text)
    _say(f"{target}: added {', '.join(merge.added)}")
    return 0


def _report(imported: Imported) -> None:
    for note in imported.notes:
        _say(note)
    if imported.variables:
        _say("set these environment variables before starting the gateway:")
        for variable in imported.variables.values():
            print(f"  {variable.name}  ({variable.origin})", file=sys.stderr)
