"""`mcpstead client-config`: every client's output against that client's documented format, with auth off and
on, through the real CLI; the URL rules; the README section."""

from __future__ import annotations

import argparse
import json
import re
import shlex
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from mcpstead.cli import main
from mcpstead.client_config import CLIENT_NAMES, README_BEGIN, README_END, Target, readme_section, snippets
from mcpstead.client_config import main as client_config_main
from mcpstead.config import BEARER_TOKEN_ENV

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "never-printed-0123456789abcdef"
URL = "http://127.0.0.1:8766/mcp"
FORMS = [(client, form) for client in CLIENT_NAMES for form in ("file", "command")]

STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
HTTP_URL = {"type": "string", "pattern": "^http://"}


# The documented shapes, restricted to the keys those documents define, so nothing invented slips through.
def mcp_servers_file(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    """The `{"mcpServers": {NAME: entry}}` document Claude Code, Claude Desktop and Cursor share, with
    entries of exactly the documented keys."""
    entry = {"type": "object", "required": required, "additionalProperties": False, "properties": properties}
    return {
        "type": "object",
        "required": ["mcpServers"],
        "additionalProperties": False,
        "properties": {"mcpServers": {"type": "object", "additionalProperties": entry}},
    }


CLAUDE_CODE_MCP_JSON = mcp_servers_file(  # code.claude.com/docs/en/mcp: project scope, .mcp.json
    ["type", "url"], {"type": {"enum": ["http"]}, "url": HTTP_URL, "headers": STRING_MAP}
)
CLAUDE_DESKTOP_CONFIG = mcp_servers_file(  # modelcontextprotocol.io, "Connect to local MCP servers"
    ["command", "args"],
    {"command": {"type": "string"}, "args": {"type": "array", "items": {"type": "string"}}, "env": STRING_MAP},
)
VSCODE_HTTP_SERVER = {  # code.visualstudio.com/docs/copilot/reference/mcp-configuration: HTTP servers
    "type": "object",
    "required": ["type", "url"],
    "properties": {"type": {"enum": ["http"]}, "url": HTTP_URL, "headers": STRING_MAP},
}
VSCODE_INPUTS = {  # the same page: input variables
    "type": "array",
    "items": {
        "type": "object",
        "required": ["type", "id", "description"],
        "additionalProperties": False,
        "properties": {
            "type": {"enum": ["promptString"]},
            "id": {"type": "string"},
            "description": {"type": "string"},
            "password": {"type": "boolean"},
        },
    },
}
VSCODE_MCP_JSON = {
    "type": "object",
    "required": ["servers"],
    "additionalProperties": False,
    "properties": {
        "servers": {"type": "object", "additionalProperties": {**VSCODE_HTTP_SERVER, "additionalProperties": False}},
        "inputs": VSCODE_INPUTS,
    },
}
VSCODE_ADD_MCP = {  # `code --add-mcp JSON`: a server's configuration plus its name and inputs (McpManagementCli)
    **VSCODE_HTTP_SERVER,
    "required": ["name", "type", "url"],
    "additionalProperties": False,
    "properties": {**VSCODE_HTTP_SERVER["properties"], "name": {"type": "string"}, "inputs": VSCODE_INPUTS},
}
CURSOR_MCP_JSON = mcp_servers_file(  # cursor.com/docs/mcp: remote servers in mcp.json
    ["url"], {"url": HTTP_URL, "headers": STRING_MAP}
)


def claude_parser() -> argparse.ArgumentParser:
    """`claude mcp add` as documented: options, then the name and the URL; `--header` takes one or more
    values, so anything after it that is not an option is a header too."""
    parser = argparse.ArgumentParser(prog="claude", exit_on_error=False)
    add = parser.add_subparsers(dest="group", required=True).add_parser("mcp").add_subparsers(dest="verb")
    command = add.add_parser("add", exit_on_error=False)
    command.add_argument("-t", "--transport", choices=["stdio", "sse", "http"], default="stdio")
    command.add_argument("-s", "--scope", choices=["local", "user", "project"], default="local")
    command.add_argument("-e", "--env", action="append", default=[])
    command.add_argument("-H", "--header", nargs="+", action="extend", default=[])
    command.add_argument("name")
    command.add_argument("command_or_url")
    return parser


def parse_claude(line: str) -> argparse.Namespace:
    words = shlex.split(line)
    assert words[0] == "claude"
    return claude_parser().parse_args(words[1:])


def code_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="code", exit_on_error=False)
    parser.add_argument("--add-mcp", action="append", required=True, metavar="JSON")
    return parser


def run_cli(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str, str]:
    code = main(["client-config", *args, "-c", str(config)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(params=[False, True], ids=["auth-none", "auth-bearer"])
def bearer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    monkeypatch.setenv(BEARER_TOKEN_ENV, TOKEN)
    return bool(request.param)


@pytest.fixture
def config(tmp_path: Path, bearer: bool) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text("mcp:\n  auth:\n    mode: bearer\n" if bearer else "servers: []\n")
    return path


def token_reference(headers: dict[str, str] | None) -> str | None:
    """What the Authorization header holds after `Bearer `, or None without one."""
    if headers is None:
        return None
    assert list(headers) == ["Authorization"]
    value = headers["Authorization"]
    assert value.startswith("Bearer ")
    return value.removeprefix("Bearer ")


@pytest.mark.parametrize(("client", "form"), FORMS)
def test_no_output_holds_the_token_and_stdout_is_only_the_snippet(
    capsys: pytest.CaptureFixture[str], config: Path, client: str, form: str
) -> None:
    code, out, err = run_cli(capsys, config, client, "--form", form)
    assert TOKEN not in out and TOKEN not in err
    if code == 0:
        assert err.count("\n") == 1 and err.startswith("mcpstead: ")  # where it goes: one line, on stderr
        assert out.endswith("\n") and not out.startswith("mcpstead:")
    else:
        assert (code, out) == (2, "")
        assert f"{client} has no {form} form" in err


def test_each_client_has_its_documented_forms() -> None:
    target = Target(URL, False, ("/usr/bin/mcpstead",))
    forms = {client: [snippet.form for snippet in snippets(client, target)] for client in CLIENT_NAMES}
    assert forms == {
        "claude-code": ["command", "file"],
        "claude-desktop": ["file"],
        "vscode": ["file", "command"],
        "cursor": ["file"],
        "python": ["file"],
    }


def test_claude_code_command(capsys: pytest.CaptureFixture[str], config: Path, bearer: bool) -> None:
    code, out, _ = run_cli(capsys, config, "claude-code")
    assert code == 0 and out.count("\n") == 1
    args = parse_claude(out)
    assert (args.group, args.verb, args.transport, args.name, args.command_or_url) == (
        "mcp",
        "add",
        "http",
        "mcpstead",
        URL,
    )
    # The shell, not the snippet, fills the token in: double quotes keep the variable expandable.
    assert args.header == ([f"Authorization: Bearer ${BEARER_TOKEN_ENV}"] if bearer else [])
    assert ('"Authorization: Bearer $MCPSTEAD_BEARER_TOKEN"' in out) is bearer


def test_the_claude_model_rejects_a_header_before_the_name() -> None:
    """So the test above proves the order: the variadic --header swallows what follows it."""
    assert parse_claude(f"claude mcp add --transport http mcpstead {URL} --header 'Authorization: Bearer x'").header
    with pytest.raises(SystemExit):  # the name and the URL went into --header: "the following arguments are required"
        parse_claude(f"claude mcp add --transport http --header 'Authorization: Bearer x' mcpstead {URL}")


@pytest.mark.parametrize(
    ("client", "form", "where", "schema", "reference"),
    [
        ("claude-code", "file", ".mcp.json", CLAUDE_CODE_MCP_JSON, "${MCPSTEAD_BEARER_TOKEN}"),
        ("cursor", "file", ".cursor/mcp.json", CURSOR_MCP_JSON, "${env:MCPSTEAD_BEARER_TOKEN}"),
    ],
)
def test_mcp_servers_json_files(
    capsys: pytest.CaptureFixture[str],
    config: Path,
    bearer: bool,
    client: str,
    form: str,
    where: str,
    schema: dict[str, Any],
    reference: str,
) -> None:
    code, out, err = run_cli(capsys, config, client, "--form", form)
    assert code == 0 and where in err
    document = json.loads(out)
    jsonschema.validate(document, schema)
    entry = document["mcpServers"]["mcpstead"]
    assert entry["url"] == URL
    assert token_reference(entry.get("headers")) == (reference if bearer else None)


def test_claude_desktop_runs_connect_by_absolute_path(
    capsys: pytest.CaptureFixture[str], config: Path, bearer: bool
) -> None:
    code, out, err = run_cli(capsys, config, "claude-desktop")
    assert code == 0
    assert all(place in err for place in ("macOS", "Windows", "Linux", "claude_desktop_config.json"))
    document = json.loads(out)
    jsonschema.validate(document, CLAUDE_DESKTOP_CONFIG)
    entry = document["mcpServers"]["mcpstead"]
    command = Path(entry["command"])
    assert command.is_absolute() and command.is_file()  # Claude Desktop does not have the user's PATH
    assert entry["args"][-2:] == ["connect", URL]
    if bearer:
        assert list(entry["env"]) == [BEARER_TOKEN_ENV]
        assert "placeholder" in err
    else:
        assert "env" not in entry


def vscode_token_reference(server: dict[str, Any], inputs: list[dict[str, Any]] | None) -> str | None:
    """The token's reference in a VS Code server, checked against the declared inputs: a password input."""
    reference = token_reference(server.get("headers"))
    if reference is None:
        assert inputs is None
        return None
    match = re.fullmatch(r"\$\{input:([^}]+)\}", reference)
    assert match is not None, reference
    assert inputs is not None and [entry["id"] for entry in inputs] == [match[1]]
    assert inputs[0]["password"] is True
    return reference


def test_vscode_mcp_json(capsys: pytest.CaptureFixture[str], config: Path, bearer: bool) -> None:
    code, out, err = run_cli(capsys, config, "vscode")
    assert code == 0 and ".vscode/mcp.json" in err
    document = json.loads(out)
    jsonschema.validate(document, VSCODE_MCP_JSON)
    server = document["servers"]["mcpstead"]
    assert server["url"] == URL
    assert (vscode_token_reference(server, document.get("inputs")) is not None) is bearer


def test_vscode_add_mcp_command(capsys: pytest.CaptureFixture[str], config: Path, bearer: bool) -> None:
    code, out, _ = run_cli(capsys, config, "vscode", "--form", "command")
    assert code == 0 and out.count("\n") == 1
    (added,) = code_parser().parse_args(shlex.split(out)[1:]).add_mcp
    assert shlex.split(out)[0] == "code"
    definition = json.loads(added)
    jsonschema.validate(definition, VSCODE_ADD_MCP)
    assert (definition["name"], definition["url"]) == ("mcpstead", URL)
    assert (vscode_token_reference(definition, definition.get("inputs")) is not None) is bearer


def test_python_snippet_compiles_and_reads_the_token_from_the_environment(
    capsys: pytest.CaptureFixture[str], config: Path, bearer: bool
) -> None:
    code, out, _ = run_cli(capsys, config, "python")
    assert code == 0
    compile(out, "list_tools.py", "exec")
    assert f'URL = "{URL}"' in out
    assert (f"os.environ['{BEARER_TOKEN_ENV}']" in out) is bearer


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("0.0.0.0", "http://127.0.0.1:9100/mcp"),
        ("::", "http://127.0.0.1:9100/mcp"),
        ("::1", "http://[::1]:9100/mcp"),
        ("localhost", "http://localhost:9100/mcp"),
    ],
)
def test_the_url_comes_from_host_and_port(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, host: str, url: str
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"host: '{host}'\nport: 9100\n")
    code, out, _ = run_cli(capsys, path, "claude-code")
    assert code == 0
    assert parse_claude(out).command_or_url == url  # brackets quoted for the shell


def test_port_zero_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("port: 0\n")
    code, out, err = run_cli(capsys, path, "cursor")
    assert (code, out) == (2, "")
    assert err.startswith(f"mcpstead: {path}: port: 0 ") and "set a fixed port" in err


def test_an_unknown_client_is_a_usage_error_listing_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["client-config", "emacs"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'emacs'" in err
    assert all(f"'{name}'" in err for name in CLIENT_NAMES)


def test_the_readme_section_is_the_rendering(capsys: pytest.CaptureFixture[str]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = readme.index(README_BEGIN), readme.index(README_END) + len(README_END) + 1
    assert readme[start:end] == readme_section()
    assert client_config_main(["--readme"]) == 0
    assert capsys.readouterr().out == readme_section()
