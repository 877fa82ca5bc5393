"""`mcpstead import`: each client's format from tests/fixtures/clients, secrets, names, disabled entries,
merging into a config, and bad input (every problem named by file and key, nothing written)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mcpstead.client_import import looks_secret, read_client_configs, sanitise_name, without_comments
from mcpstead.config_load import parse_config
from mcpstead.config_merge import merge_into
from mcpstead.errors import ClientConfigError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "clients"
ROOT = FIXTURES.parents[2]
GOOD = [
    FIXTURES / "claude_desktop_config.json",
    FIXTURES / "claude_code.mcp.json",
    FIXTURES / "project" / ".cursor" / "mcp.json",
    FIXTURES / "project" / ".vscode" / "mcp.json",
    FIXTURES / "vscode_settings.json",
]
SECRETS = [
    "ghp_FAKE1234567890abcdefghijklmnopqrstuv",
    "hunter2-FAKE-pass",
    "BSA-fake-0123456789abcdefABCDEF",
    "sntrys_FAKEeyJpYXQiOjE3MDAwMDAwMDAuMTIzNDU2",
    "patFAKE0123456789.abcdef0123456789abcdef",
    "cursor-FAKE-9f8e7d6c5b4a39281706",
]


def mcpstead(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcpstead", *args], cwd=cwd, capture_output=True, text=True, timeout=30, check=False
    )


def entries(*paths: Path) -> dict[str, dict[str, object]]:
    return {server.name: server.entry for server in read_client_configs(list(paths)).servers}


def test_claude_desktop_stdio_servers_with_secrets_as_references() -> None:
    servers = entries(GOOD[0])
    assert servers["github"] == {
        "name": "github",
        "command": "npx",
        "args": ["-y", "@modelcontextprotocol/server-github"],
        "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${GITHUB_PERSONAL_ACCESS_TOKEN}"},
    }
    assert servers["postgres"]["args"][-1] == "postgresql://ada:${POSTGRES_PASSWORD}@127.0.0.1/shop"  # type: ignore[index]
    assert "brave-search" in servers  # 'brave.search' sanitised


def test_claude_code_types_and_its_own_references_kept() -> None:
    servers = entries(GOOD[1])
    assert servers["api-server"] == {
        "name": "api-server",
        "url": "${API_BASE_URL:-https://api.example.com}/mcp",
        "protocol": "streamable",
        "headers": {"Authorization": "Bearer ${API_KEY}"},
    }
    assert servers["sentry"]["headers"] == {"Authorization": "Bearer ${SENTRY_TOKEN}"}
    assert servers["linear"]["protocol"] == "sse"
    assert servers["airtable"]["env"] == {"AIRTABLE_API_KEY": "${AIRTABLE_API_KEY}"}


def test_cursor_workspace_folder_env_interpolation_and_disabled() -> None:
    imported = read_client_configs([GOOD[2]])
    by_name = {server.name: server for server in imported.servers}
    project = GOOD[2].resolve().parents[1]
    assert by_name["local-notes"].entry["args"] == [f"{project}/tools/notes_server.py"]
    assert by_name["local-notes"].entry["env"] == {
        "NOTES_DIR": f"{project}/notes",
        "OPENAI_API_KEY": "${OPENAI_API_KEY}",
    }
    assert by_name["remote-docs"].entry["headers"] == {"X-Api-Key": "${REMOTE_DOCS_X_API_KEY}"}
    assert by_name["old-tool"].disabled
    assert "protocol" not in by_name["remote-docs"].entry  # no type: mcpstead's auto


def test_vscode_jsonc_inputs_and_settings() -> None:
    imported = read_client_configs([GOOD[3], GOOD[4]])
    servers = {server.name: server.entry for server in imported.servers}
    assert servers["Perplexity"]["env"] == {"PERPLEXITY_API_KEY": "${PERPLEXITY_KEY}"}
    assert servers["Perplexity"]["cwd"] == str(GOOD[3].resolve().parents[1])
    assert servers["github-remote"]["headers"] == {"Authorization": "Bearer ${PERPLEXITY_KEY}"}
    assert "Perplexity API Key" in imported.variables["PERPLEXITY_KEY"].origin
    assert servers["fetch"] == {"name": "fetch", "command": "uvx", "args": ["mcp-server-fetch"]}
    assert any("myDevServer.dev: ignored" in note for note in imported.notes)


def test_without_comments_keeps_strings_and_positions() -> None:
    text = '{\n  // a comment\n  "url": "http://x//y", /* c */ "a": [1,2,],\n}'
    stripped = without_comments(text)
    assert json.loads(stripped) == {"url": "http://x//y", "a": [1, 2]}
    assert stripped.count("\n") == text.count("\n") and len(stripped) == len(text)


@pytest.mark.parametrize(
    ("name", "sanitised"),
    [
        ("brave.search", "brave-search"),
        ("a__b", "a_b"),
        ("@scope/pkg", "scope-pkg"),
        ("---", "server"),
        ("ok_1", "ok_1"),
    ],
)
def test_names_are_sanitised(name: str, sanitised: str) -> None:
    assert sanitise_name(name) == sanitised


def test_two_servers_of_one_name_from_two_files(tmp_path: Path) -> None:
    for index in (1, 2):
        (tmp_path / f"{index}.json").write_text(json.dumps({"mcpServers": {"same": {"command": f"tool{index}"}}}))
    imported = read_client_configs([tmp_path / "1.json", tmp_path / "2.json"])
    assert [server.name for server in imported.servers] == ["same", "same-2"]
    assert any("imported as 'same-2'" in note for note in imported.notes)


@pytest.mark.parametrize("value", ["ghp_abc", "sk-proj-1234", "Bearer abc", "Zx8Qp2Lm9Rt4Vw7Yb3Nc6Kd1Hf5Gj0Ae"])
def test_secret_shapes(value: str) -> None:
    assert looks_secret(value)


@pytest.mark.parametrize("value", ["/usr/local/bin/thing", "@modelcontextprotocol/server-github", "-y", "${TOKEN}"])
def test_not_secret_shapes(value: str) -> None:
    assert not looks_secret(value)


def test_the_cli_prints_only_yaml_on_stdout_and_no_secret_anywhere() -> None:
    done = mcpstead("import", *map(str, GOOD))
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load(done.stdout)
    names = [server["name"] for server in config["servers"]]
    assert "old-tool" not in names and "# - name: old-tool" in done.stdout
    for secret in SECRETS:
        assert secret not in done.stdout and secret not in done.stderr
    for variable in ("GITHUB_PERSONAL_ACCESS_TOKEN", "POSTGRES_PASSWORD", "SENTRY_TOKEN", "PERPLEXITY_KEY"):
        assert variable in done.stderr and f"#   {variable}:" in done.stdout
    every = {name: "x" * 20 for name in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", done.stdout)}
    parse_config(done.stdout, "imported.yaml", {**os.environ, **every})  # a valid mcpstead config


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("bad_json.json", r"bad_json\.json:4:5: invalid JSON: Expecting ',' delimiter"),
        (
            "bad_unknown_field.json",
            r"bad_unknown_field\.json: mcpServers\.github\.comand: unknown key \(did you mean 'command'\?\)",
        ),
        ("bad_missing_command.json", r"bad_missing_command\.json: mcpServers\.empty: needs 'command'"),
    ],
)
def test_bad_files_name_the_file_and_the_key(fixture: str, expected: str) -> None:
    with pytest.raises(ClientConfigError) as caught:
        read_client_configs([FIXTURES / fixture])
    assert any(re.search(expected, problem) for problem in caught.value.problems), caught.value.problems
    done = mcpstead("import", str(FIXTURES / fixture), "--write", "never-written.yaml")
    assert done.returncode == 2 and done.stdout == "" and "nothing was written" in done.stderr
    assert not (ROOT / "never-written.yaml").exists()


def test_unknown_type_and_wrong_value_types(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"mcpServers": {"a": {"type": "ws", "url": "http://x"}, "b": {"command": 3}}}))
    with pytest.raises(ClientConfigError) as caught:
        read_client_configs([path])
    assert caught.value.problems == [
        f'{path}: mcpServers.a.type: expected one of http, sse, stdio, streamable-http, streamableHttp, got "ws"',
        f"{path}: mcpServers.b.command: expected a string, got int",
    ]


CONFIG = """\
# my gateway
port: 9000   # a comment that must survive

servers:
  # the demo
  - name: demo
    command: mcpstead
    args: [demo-server]

logging:
  level: info
"""


def test_write_merges_keeping_comments_and_reports_a_clash(tmp_path: Path) -> None:
    config = tmp_path / "gw.yaml"
    config.write_text(CONFIG)
    config.chmod(0o600)
    clashing = tmp_path / "client.json"
    clashing.write_text(json.dumps({"mcpServers": {"demo": {"command": "other"}, "extra": {"command": "tool"}}}))
    dry = mcpstead("import", str(clashing), "--write", str(config), "--dry-run")
    assert dry.returncode == 0 and config.read_text() == CONFIG and "- name: extra" in dry.stdout
    done = mcpstead("import", str(clashing), "--write", str(config))
    assert done.returncode == 0, done.stderr
    assert "already has a server named 'demo': kept" in done.stderr
    text = config.read_text()
    assert text.startswith(CONFIG.split("\nlogging:")[0])
    assert "# a comment that must survive" in text and text.rstrip().endswith("level: info")
    merged = parse_config(text, str(config), {})
    assert [server.name for server in merged.servers] == ["demo", "extra"]
    assert merged.servers[0].command == "mcpstead"  # the existing one, untouched
    assert config.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("start", ["port: 9000\n", "port: 9000\nservers: []\n", "servers:\nport: 9000\n", ""])
def test_write_into_a_config_without_servers(tmp_path: Path, start: str) -> None:
    config = tmp_path / "gw.yaml"
    if start:
        config.write_text(start)
    client = tmp_path / "c.json"
    client.write_text(json.dumps({"mcpServers": {"x": {"command": "tool", "args": ["--flag"]}}}))
    done = mcpstead("import", str(client), "--write", str(config))
    assert done.returncode == 0, done.stderr
    merged = parse_config(config.read_text(), str(config), {})
    assert [(server.name, server.command, server.args) for server in merged.servers] == [("x", "tool", ("--flag",))]
    if start:
        assert merged.port == 9000


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            "servers:\n  - name: a\n    command: x\n  # - name: off\n  #   command: y\n\n# the metrics\nmetrics: {}\n",
            "servers:\n  - name: a\n    command: x\n  # - name: off\n  #   command: y\n  # from {src}\n"
            "  - name: new\n    command: tool\n\n# the metrics\nmetrics: {}\n",
        ),
        (
            "servers:\n- name: a\n  command: x\n# - name: off\n\n# the logging section\nlogging: {level: info}\n",
            "servers:\n- name: a\n  command: x\n# - name: off\n# from {src}\n- name: new\n  command: tool\n"
            "\n# the logging section\nlogging: {level: info}\n",
        ),
        (
            "servers:\n- name: a\n  command: x\n# the logging section\nlogging: {level: info}\n",
            "servers:\n- name: a\n  command: x\n# from {src}\n- name: new\n  command: tool\n"
            "# the logging section\nlogging: {level: info}\n",
        ),
        (
            "servers:\n- name: a\n  command: x\n\n\nport: 9000\n",
            "servers:\n- name: a\n  command: x\n# from {src}\n- name: new\n  command: tool\n\n\nport: 9000\n",
        ),
        (
            "servers: []  # none yet\nport: 9000\n",
            "servers:  # none yet\n  # from {src}\n  - name: new\n    command: tool\nport: 9000\n",
        ),
        (
            "servers:   # none yet\nport: 9000\n",
            "servers:   # none yet\n  # from {src}\n  - name: new\n    command: tool\nport: 9000\n",
        ),
    ],
)
def test_new_servers_go_after_the_list_and_its_line_comment_stays(tmp_path: Path, config: str, expected: str) -> None:
    """New items follow the last server and the commented-out ones indented as items, not the blank lines and
    comments introducing the next key; a comment on the `servers:` line is kept."""
    client = tmp_path / "c.json"
    client.write_text(json.dumps({"mcpServers": {"new": {"command": "tool"}}}))
    merged = merge_into(config, "gw.yaml", read_client_configs([client]))
    assert merged.text == expected.replace("{src}", f"{client}: mcpServers.new")
    assert [server.name for server in parse_config(merged.text, "gw.yaml", {}).servers][-1] == "new"


def test_a_disabled_server_written_once_is_not_written_again(tmp_path: Path) -> None:
    config = tmp_path / "gw.yaml"
    config.write_text("servers:\n  - name: demo\n    command: x\n")
    client = tmp_path / "c.json"
    client.write_text(json.dumps({"mcpServers": {"off": {"command": "tool", "disabled": True}}}))
    first = mcpstead("import", str(client), "--write", str(config))
    assert first.returncode == 0, first.stderr
    once = config.read_text()
    assert once.count("# - name: 'off'") == 1
    again = mcpstead("import", str(client), "--write", str(config))
    assert again.returncode == 0, again.stderr
    assert "already has 'off' commented out" in again.stderr
    assert config.read_text() == once


def test_a_write_that_would_make_an_invalid_config_writes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "gw.yaml"
    config.write_text("servers:\n  - name: demo\n    command: x\n")
    client = tmp_path / "c.json"
    client.write_text(json.dumps({"mcpServers": {"bad": {"url": "ftp://nope"}}}))
    done = mcpstead("import", str(client), "--write", str(config))
    assert done.returncode == 2 and "url must be an http" in done.stderr and "nothing was written" in done.stderr
    assert config.read_text() == "servers:\n  - name: demo\n    command: x\n"


def test_secrets_in_urls_anywhere_are_references(tmp_path: Path) -> None:
    secrets = [
        "S3cretPassw0rd",
        "hunter2hunter2",
        "skak9f8e7d6c5b4a3928170ABCDEF",
        "ghp_ZZ1234567890abcdefghijklmnopqrst",
    ]
    path = tmp_path / "c.json"
    path.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "db": {
                        "command": "x",
                        "env": {"DATABASE_URL": f"postgres://admin:{secrets[0]}@127.0.0.1/db", "DB_PASS": secrets[1]},
                    },
                    "zap": {"url": f"https://actions.example.com/mcp/{secrets[2]}/sse"},
                    "gh": {"url": f"https://{secrets[3]}@example.com/mcp?sig={secrets[2]}"},
                }
            }
        )
    )
    done = mcpstead("import", str(path))
    assert done.returncode == 0, done.stderr
    for secret in secrets:
        assert secret not in done.stdout and secret not in done.stderr


def test_a_secret_default_of_a_variable_is_left_out(tmp_path: Path) -> None:
    """`${VAR:-default}` keeps a harmless default, but a default that is a credential is not copied: the
    reference loses it and the variable is listed to set."""
    path = tmp_path / "c.json"
    secret = "ghp_DEF4ULT1234567890abcdefghijklmnop"
    path.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "a": {
                        "command": "x",
                        "args": [
                            f"--token=${{GH_TOKEN:-{secret}}}",
                            "--region=${REGION:-eu-west-1}",
                            "--password=${DBP:-s3cr3t-Pa55}",
                        ],
                        "env": {
                            "DB_PASSWORD": "${DB_PASSWORD:-changeme}",
                            "DB_URL": "${DB_URL:-postgres://u:pw0rd@127.0.0.1/db}",
                            "LEVEL": "${LEVEL:-debug}",
                            "DATABASE": "${DB_SECRET:-s3cr3t-Pa55}",
                            "X": "prefix-${PASSWORD:-hunter2hunter2}-suffix",
                        },
                    }
                }
            }
        )
    )
    imported = read_client_configs([path])
    entry = imported.servers[0].entry
    assert entry["args"] == ["--token=${GH_TOKEN}", "--region=${REGION:-eu-west-1}", "--password=${DBP}"]
    assert entry["env"] == {
        "DB_PASSWORD": "${DB_PASSWORD}",
        "DB_URL": "${DB_URL}",
        "LEVEL": "${LEVEL:-debug}",
        "DATABASE": "${DB_SECRET}",
        "X": "prefix-${PASSWORD}-suffix",
    }
    assert {"GH_TOKEN", "DB_PASSWORD", "DB_URL"} <= set(imported.variables)
    assert "left out" in imported.variables["GH_TOKEN"].origin
    done = mcpstead("import", str(path))
    assert done.returncode == 0, done.stderr
    for hidden in (secret, "changeme", "pw0rd", "s3cr3t-Pa55", "hunter2hunter2"):
        assert hidden not in done.stdout and hidden not in done.stderr


def test_a_project_server_named_by_a_relative_path_gets_the_project_as_its_cwd(tmp_path: Path) -> None:
    """Claude Code, Cursor and VS Code start a project's servers in the project; the gateway starts them in
    its own directory, so a relative path needs the cwd written out."""
    (tmp_path / "server.py").write_text("")
    (tmp_path / ".cursor").mkdir()
    path = tmp_path / ".cursor" / "mcp.json"
    path.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "script": {"command": "python", "args": ["server.py"]},
                    "local": {"command": "./bin/tool"},
                    "kept": {"command": "./bin/tool", "cwd": "/srv"},
                    "plain": {"command": "npx", "args": ["-y", "some-server"]},
                }
            }
        )
    )
    imported = read_client_configs([path])
    cwds = {server.name: server.entry.get("cwd") for server in imported.servers}
    assert cwds == {"script": str(tmp_path), "local": str(tmp_path), "kept": "/srv", "plain": None}
    assert sum("imported with that as its cwd" in note for note in imported.notes) == 2


def test_a_name_with_a_newline_cannot_write_yaml_of_its_own(tmp_path: Path) -> None:
    name = "y\n  - name: pwn\n    command: /bin/sh\n  #"
    path = tmp_path / "c.json"
    path.write_text(
        json.dumps({"mcpServers": {name: {"command": "echo"}, "off": {"command": "echo", "disabled": True}}})
    )
    done = mcpstead("import", str(path))
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load(done.stdout)
    assert [server["name"] for server in config["servers"]] == ["y-name-pwn-command-bin-sh"]
    assert "/bin/sh" not in json.dumps(config["servers"][0]["command"])


def test_a_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "claude_desktop_config.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"mcpServers": {"a": {"command": "tool"}}}).encode())
    assert [server.name for server in read_client_configs([path]).servers] == ["a"]
