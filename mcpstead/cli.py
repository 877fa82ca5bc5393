"""The command line, and the composition root: the only module that may import the dashboard (deferred)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from mcpstead import __version__
from mcpstead.capture import read_capture
from mcpstead.client_config import CLIENT_NAMES, FORMS, print_snippet
from mcpstead.config import GatewayConfig
from mcpstead.config_load import CONFIG_ENV, load_config, resolve_config_path
from mcpstead.config_schema import config_schema_text
from mcpstead.errors import CaptureError, ConfigError, StartupError
from mcpstead.exposure import ALLOW_FLAG, is_exposed, refusal
from mcpstead.logs import LogRing, setup_logging

EXIT_CONFIG = 2


def _add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c",
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help=f"config file (default: ${CONFIG_ENV}, else ~/.config/mcpstead/config.yaml)",
    )


def _add_capture_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--capture",
        metavar="FILE.jsonl",
        type=Path,
        default=None,
        help="append every JSON-RPC message on both hops to this file (rotated by size: dashboard.capture)",
    )


def _add_exposure_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        ALLOW_FLAG,
        action="store_true",
        help="listen beyond loopback with mcp.auth.mode: none (refused without it; warned about with it)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcpstead",
        description="One MCP endpoint in front of many upstream MCP servers, with a live dashboard.",
    )
    parser.add_argument("--version", action="version", version=f"mcpstead {__version__}")
    _add_config_option(parser)
    parser.add_argument("--log-format", choices=["plain", "json"], default="plain", help="log line format on stderr")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the gateway headless (the default command)")
    _add_config_option(serve)
    serve.add_argument("--log-format", choices=["plain", "json"], default=argparse.SUPPRESS)
    serve.add_argument("--watch", action="store_true", help="reload the config when its file is saved")
    _add_capture_option(serve)
    _add_exposure_option(serve)

    dev = commands.add_parser("dev", help="run the gateway with the live dashboard in this terminal")
    _add_config_option(dev)
    dev.add_argument("--headless", action="store_true", help="no dashboard: log to stderr instead")
    dev.add_argument("--no-watch", action="store_true", help="do not reload the config when its file is saved")
    dev.add_argument("--log-format", choices=["plain", "json"], default=argparse.SUPPRESS)
    _add_capture_option(dev)
    _add_exposure_option(dev)

    view = commands.add_parser("view", help="open capture files (--capture) in the traffic view, without a gateway")
    view.add_argument("files", nargs="+", metavar="FILE.jsonl", type=Path, help="capture files, oldest first")

    check = commands.add_parser("check", help="validate the config and list the upstreams it would start")
    _add_config_option(check)

    setup = commands.add_parser("client-config", help="print the snippet or command that points a client here")
    _add_config_option(setup)
    setup.add_argument("client", choices=CLIENT_NAMES, help="the MCP client to point at this gateway")
    setup.add_argument(
        "--form",
        choices=FORMS,
        default=None,
        help="a file's content or a shell command (default: the client's usual one)",
    )

    connect = commands.add_parser(
        "connect", help="a stdio MCP server relaying to a running gateway, for clients that speak only stdio"
    )
    _add_config_option(connect)
    connect.add_argument(
        "url",
        nargs="?",
        default=None,
        help="the gateway's /mcp URL (default: $MCPSTEAD_URL, else the config's host:port)",
    )
    connect.add_argument(
        "--retry-seconds",
        type=float,
        default=30.0,
        metavar="S",
        help="how long to keep trying a gateway that is not there (restarting) before giving up (default 30)",
    )

    commands.add_parser("schema", help="print the config file's JSON Schema, for completion and checks in editors")
    imports = commands.add_parser(
        "import", help="turn MCP client config files (Claude, Cursor, VS Code) into mcpstead servers"
    )
    imports.add_argument("paths", nargs="+", metavar="PATH", type=Path, help="client config files (JSON or JSONC)")
    imports.add_argument(
        "--write", metavar="CONFIG", type=Path, default=None, help="merge into this mcpstead config (servers kept)"
    )
    imports.add_argument(
        "--dry-run", action="store_true", help="with --write: show what would be added, change nothing"
    )

    commands.add_parser("demo-server", help="a small MCP server on stdio, used by the demo config")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = args.command or "serve"
    if command == "demo-server":
        from mcpstead import demo

        return demo.main()
    if command == "schema":
        sys.stdout.write(config_schema_text())
        return 0
    if command == "view":
        return _view(args.files)
    if command == "connect":
        return _connect(args)
    if command == "import":
        from mcpstead.import_command import run_import

        return run_import(args.paths, args.write, args.dry_run)

    path = resolve_config_path(getattr(args, "config", None))
    if command == "client-config":
        return print_snippet(path, bool(getattr(args, "config", None)), args.client, args.form)
    try:
        config = load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"mcpstead: {problem}", file=sys.stderr)
        if not path.exists() and not getattr(args, "config", None) and not os.environ.get(CONFIG_ENV):
            print(f"mcpstead: pass --config PATH or set {CONFIG_ENV}", file=sys.stderr)
        return EXIT_CONFIG

    if command == "check":
        return _check(config)
    headless = command == "serve" or args.headless
    if not headless and not sys.stdout.isatty():
        print("mcpstead: stdout is not a terminal; running headless", file=sys.stderr)
        headless = True
    watch = getattr(args, "watch", False) if command == "serve" else not args.no_watch
    allow = bool(getattr(args, "allow_unauthenticated", False))
    return _run(config, headless, args.log_format, watch, getattr(args, "capture", None), allow)


def _check(config: GatewayConfig) -> int:
    print(f"{config.path}: ok")
    print(f"listen: http://{config.host}:{config.port}/mcp (auth: {config.mcp.auth.mode})")
    if config.instance_id is not None:
        print(f"instance_id: {config.instance_id} (session ids start with '{config.instance_id}.')")
    if is_exposed(config):
        print(f"warning: serve and dev will refuse it without {ALLOW_FLAG}: {refusal(config)}")
    if not config.servers:
        print("upstreams: none")
    for server in config.servers:
        flags = [
            *(["required"] if server.required else []),
            *(["names unprefixed"] if not server.prefix else []),
            *([f"per-client sessions (max {server.max_sessions})"] if server.session == "per_client" else []),
            *(
                f"{kind} filtered"
                for kind, name_filter in (
                    ("tools", server.tools),
                    ("prompts", server.prompts),
                    ("resources", server.resources),
                )
                if name_filter.include or name_filter.exclude
            ),
        ]
        shown = f" ({', '.join(flags)})" if flags else ""
        print(f"  {server.name}: {server.transport} {server.target}{shown}")
    return 0


def _connect(args: argparse.Namespace) -> int:
    from mcpstead.bridge.connect import run_connect
    from mcpstead.bridge.endpoint import resolve_endpoint

    explicit = getattr(args, "config", None)
    try:
        endpoint = resolve_endpoint(args.url, resolve_config_path(explicit), bool(explicit), os.environ)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"mcpstead connect: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    return run_connect(endpoint, args.retry_seconds)


def _view(paths: list[Path]) -> int:
    try:
        records = read_capture(paths)
    except CaptureError as exc:
        print(f"mcpstead: {exc}", file=sys.stderr)
        return 1
    if not sys.stdout.isatty():
        print("mcpstead: view needs a terminal", file=sys.stderr)
        return 1
    from tui.capture_viewer import CaptureViewer

    CaptureViewer(records, title=", ".join(str(path) for path in paths)).run()
    return 0


def _run(config: GatewayConfig, headless: bool, log_format: str, watch: bool, capture: Path | None, allow: bool) -> int:
    from mcpstead.runner import run

    ring = None
    if headless:
        setup_logging(config.logging.level, log_format)
        frontend = None
    else:
        ring = LogRing()
        setup_logging(config.logging.level, ring=ring)
        from tui.frontend import TuiFrontend

        frontend = TuiFrontend()
    try:
        return run(config, frontend, watch=watch, log_ring=ring, capture=capture, allow_unauthenticated=allow)
    except (StartupError, CaptureError) as exc:
        print(f"mcpstead: {exc}", file=sys.stderr)
        return 1
