"""`mcpstead client-config CLIENT`: the snippet or command that points one MCP client at this gateway.

Each client's documented format is rendered here from one `Target` (the URL a client uses, whether bearer
auth is on, how to start mcpstead), and so is the README's "Use it from your client" section
(`python -m mcpstead.client_config --readme`), so the two cannot drift apart. The token itself is never
read: each snippet names it through the client's own variables, or (Claude Desktop, which has none) holds
a placeholder to replace.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import sysconfig
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mcpstead.bridge.endpoint import ListenSettings, client_url, read_listen_settings
from mcpstead.config import BEARER_TOKEN_ENV, GatewayConfig
from mcpstead.errors import ConfigError

Form = Literal["file", "command"]
FORMS: tuple[Form, ...] = ("file", "command")
EXIT_UNUSABLE = 2
"""The exit code when no snippet can be made (the CLI's config-error code)."""

SERVER_NAME = "mcpstead"
"""The name every client lists the gateway under."""
VSCODE_TOKEN_INPUT = "mcpstead-token"
DESKTOP_TOKEN_PLACEHOLDER = "replace-with-your-MCPSTEAD_BEARER_TOKEN"
"""Claude Desktop expands no variables, so its `env` holds this until the user pastes the token."""
README_BEGIN = "<!-- client-config:begin (generated: python -m mcpstead.client_config --readme) -->"
README_END = "<!-- client-config:end -->"
README_MCPSTEAD = "/path/to/mcpstead"
"""The README cannot know where mcpstead is installed; the command fills in the real path."""


@dataclass(frozen=True, slots=True)
class Target:
    """What every snippet is made from."""

    url: str
    bearer: bool
    mcpstead: tuple[str, ...]
    """The command that starts mcpstead, absolute: Claude Desktop does not have the user's PATH."""


@dataclass(frozen=True, slots=True)
class Snippet:
    form: Form
    where: str
    """Where it goes, one line (the CLI's stderr hint, the README's lead-in)."""
    text: str
    """Exactly what goes to stdout, ending in a newline."""
    language: str
    """The README's code fence: sh, json or python."""


@dataclass(frozen=True, slots=True)
class Client:
    name: str
    title: str
    render: Callable[[Target], tuple[Snippet, ...]]
    """Its snippets for a target; the first is what `client-config` prints without `--form`."""


def mcpstead_command() -> tuple[str, ...]:
    """How a client without the user's PATH starts this mcpstead: the console script installed beside this
    interpreter, else this interpreter with `-m mcpstead`."""
    scripts = Path(sysconfig.get_path("scripts"))
    for name in ("mcpstead", "mcpstead.exe"):
        if (scripts / name).is_file():
            return (str(scripts / name),)
    return (sys.executable, "-m", "mcpstead")


def target_of(settings: ListenSettings, mcpstead: tuple[str, ...] | None = None) -> Target:
    return Target(
        url=client_url(settings.host, settings.port),
        bearer=settings.bearer,
        mcpstead=mcpstead or mcpstead_command(),
    )


def _json(value: Any) -> str:
    return json.dumps(value, indent=2) + "\n"


def _headers(target: Target, token_reference: str) -> dict[str, Any]:
    """`{"headers": ...}` carrying the bearer token by reference when auth is on, else nothing."""
    return {"headers": {"Authorization": f"Bearer {token_reference}"}} if target.bearer else {}


def _claude_code(target: Target) -> tuple[Snippet, ...]:
    command = f"claude mcp add --transport http {SERVER_NAME} {shlex.quote(target.url)}"
    if target.bearer:  # --header takes several values: after the name and URL, or it swallows them
        command += f' --header "Authorization: Bearer ${BEARER_TOKEN_ENV}"'
    shell = f" where {BEARER_TOKEN_ENV} is set (the shell fills in the token)" if target.bearer else ""
    expands = f" (Claude Code fills in ${{{BEARER_TOKEN_ENV}}} from its environment)" if target.bearer else ""
    entry = {"type": "http", "url": target.url, **_headers(target, f"${{{BEARER_TOKEN_ENV}}}")}
    return (
        Snippet(
            "command",
            f"Run it in a shell{shell}; `--scope user` after `add` makes it available in every project",
            command + "\n",
            "sh",
        ),
        Snippet(
            "file",
            f"Save it as `.mcp.json` at your project's root (the project scope, shared through git){expands}",
            _json({"mcpServers": {SERVER_NAME: entry}}),
            "json",
        ),
    )


def _claude_desktop(target: Target) -> tuple[Snippet, ...]:
    entry: dict[str, Any] = {"command": target.mcpstead[0], "args": [*target.mcpstead[1:], "connect", target.url]}
    if target.bearer:
        entry["env"] = {BEARER_TOKEN_ENV: DESKTOP_TOKEN_PLACEHOLDER}
    token = "; replace the placeholder with the token (Claude Desktop expands no variables)" if target.bearer else ""
    where = (
        "Claude Desktop speaks only stdio, so `mcpstead connect` bridges it to the gateway: merge this into "
        "`claude_desktop_config.json` (macOS: `~/Library/Application Support/Claude/`, Windows: "
        f"`%APPDATA%\\Claude\\`, Linux: `~/.config/Claude/`) and restart Claude Desktop{token}"
    )
    return (Snippet("file", where, _json({"mcpServers": {SERVER_NAME: entry}}), "json"),)


def _vscode(target: Target) -> tuple[Snippet, ...]:
    server = {"type": "http", "url": target.url, **_headers(target, f"${{input:{VSCODE_TOKEN_INPUT}}}")}
    inputs: dict[str, Any] = {}
    if target.bearer:
        prompt = {
            "type": "promptString",
            "id": VSCODE_TOKEN_INPUT,
            "description": f"mcpstead bearer token ({BEARER_TOKEN_ENV})",
            "password": True,
        }
        inputs = {"inputs": [prompt]}
    added = json.dumps({"name": SERVER_NAME, **server, **inputs}, separators=(",", ":"))
    asks = "; VS Code asks for the token once and keeps it in its secret storage" if target.bearer else ""
    return (
        Snippet(
            "file",
            f"Save it as `.vscode/mcp.json` in your workspace (or use MCP: Open User Configuration){asks}",
            _json({**inputs, "servers": {SERVER_NAME: server}}),
            "json",
        ),
        Snippet(
            "command",
            f"Run it in a shell: VS Code adds the server to your user profile{asks}",
            f"code --add-mcp {shlex.quote(added)}\n",
            "sh",
        ),
    )


def _cursor(target: Target) -> tuple[Snippet, ...]:
    entry = {"url": target.url, **_headers(target, f"${{env:{BEARER_TOKEN_ENV}}}")}
    expands = f"; Cursor fills in ${{env:{BEARER_TOKEN_ENV}}} from its environment" if target.bearer else ""
    where = f"Save it as `.cursor/mcp.json` in your project (`~/.cursor/mcp.json` for every project){expands}"
    return (Snippet("file", where, _json({"mcpServers": {SERVER_NAME: entry}}), "json"),)


def _python(target: Target) -> tuple[Snippet, ...]:
    if target.bearer:
        imports = (
            "import asyncio\nimport os\n\nfrom mcp import Client\n"
            "from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client\n"
        )
        settings = f'HEADERS = {{"Authorization": f"Bearer {{os.environ[{BEARER_TOKEN_ENV!r}]}}"}}\n'
        connect = (
            "    async with (\n"
            "        create_mcp_http_client(headers=HEADERS) as http,\n"
            "        Client(streamable_http_client(URL, http_client=http)) as client,\n"
            "    ):\n"
        )
    else:
        imports, settings = "import asyncio\n\nfrom mcp import Client\n", ""
        connect = "    async with Client(URL) as client:\n"
    text = (
        f'"""List the tools mcpstead offers at {target.url}, with the official MCP Python SDK."""\n\n'
        f"{imports}\nURL = {json.dumps(target.url)}\n{settings}\n\n"
        f"async def main() -> None:\n{connect}"
        "        cursor: str | None = None\n"
        "        while True:\n"
        "            page = await client.list_tools(cursor=cursor)\n"
        "            for tool in page.tools:\n"
        "                print(tool.name)\n"
        "            cursor = page.next_cursor\n"
        "            if cursor is None:\n"
        "                break\n\n\n"
        "asyncio.run(main())\n"
    )
    token = f" with {BEARER_TOKEN_ENV} set" if target.bearer else ""
    where = (
        f"Save it as `list_tools.py` and run `python list_tools.py`{token}; it needs the official SDK "
        "(`pip install mcp`, written for 2.3)"
    )
    return (Snippet("file", where, text, "python"),)


CLIENTS = (
    Client("claude-code", "Claude Code", _claude_code),
    Client("claude-desktop", "Claude Desktop", _claude_desktop),
    Client("vscode", "VS Code", _vscode),
    Client("cursor", "Cursor", _cursor),
    Client("python", "Python (the official MCP SDK)", _python),
)
CLIENT_NAMES = tuple(client.name for client in CLIENTS)
_BY_NAME = {client.name: client for client in CLIENTS}


def snippets(client: str, target: Target) -> tuple[Snippet, ...]:
    return _BY_NAME[client].render(target)


def print_snippet(path: Path, explicit: bool, client: str, form: Form | None) -> int:
    """The CLI command: the snippet alone on stdout (so it can go straight into a file), where it goes on
    stderr. Only the config's host, port and auth mode are read, so a config whose upstreams need variables
    this shell does not have still gives its snippet."""
    try:
        target = target_of(read_listen_settings(path, explicit))
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"mcpstead: {problem}", file=sys.stderr)
        return EXIT_UNUSABLE
    offered = snippets(client, target)
    chosen = next((snippet for snippet in offered if form in (None, snippet.form)), None)
    if chosen is None:
        forms = ", ".join(snippet.form for snippet in offered)
        print(f"mcpstead: {client} has no {form} form (it has: {forms})", file=sys.stderr)
        return EXIT_UNUSABLE
    others = "".join(f"; or --form {snippet.form}" for snippet in offered if snippet is not chosen)
    print(f"mcpstead: {chosen.where}{others}", file=sys.stderr)
    sys.stdout.write(chosen.text)
    return 0


def readme_section() -> str:
    """The README's "Use it from your client" section, markers included, for the default config."""
    defaults = GatewayConfig()
    target = target_of(ListenSettings(defaults.host, defaults.port, False, Path("config.yaml")), (README_MCPSTEAD,))
    names = ", ".join(f"`{name}`" for name in CLIENT_NAMES)
    lines = [
        README_BEGIN,
        "## Use it from your client",
        "",
        "`mcpstead client-config CLIENT [-c PATH] [--form file|command]` prints what points a client",
        f"({names}) at the gateway the config describes:",
        "the snippet alone on stdout, so it can go straight into a file, and where it goes on stderr. The URL",
        "comes from `host` and `port` (a wildcard bind is reached on loopback). With `mcp.auth.mode: bearer` the",
        f"`Authorization` header is added, naming the token the client's own way (`${BEARER_TOKEN_ENV}` in the",
        f"shell, `${{{BEARER_TOKEN_ENV}}}` in `.mcp.json`, a password input in VS Code, `${{env:{BEARER_TOKEN_ENV}}}`",
        "in Cursor, `os.environ` in Python, a placeholder for Claude Desktop), never the token itself. For the",
        f"default config (the command writes this mcpstead's own path where `{README_MCPSTEAD}` stands):",
        "",
    ]
    for client in CLIENTS:
        lines += [f"### {client.title}", ""]
        for index, snippet in enumerate(client.render(target)):
            where = (
                snippet.where
                if index == 0
                else f"`--form {snippet.form}`: {snippet.where[0].lower()}{snippet.where[1:]}"
            )
            lines += [f"{where}:", "", f"```{snippet.language}", *snippet.text.splitlines(), "```", ""]
    lines.append(README_END)
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mcpstead.client_config",
        description="Print the README's 'Use it from your client' section, rendered for the default config.",
    )
    parser.add_argument("--readme", action="store_true", required=True, help="print the README section")
    parser.parse_args(argv)
    sys.stdout.write(readme_section())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
