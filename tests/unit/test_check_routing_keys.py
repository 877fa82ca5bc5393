"""`mcpstead check` with the routing keys of a server: prefix, tools/prompts/resources globs, session and
max_sessions. Good values are accepted and shown; bad ones are `file:line:col: key.path: message` lines, all
at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpstead.cli import EXIT_CONFIG, main

GOOD = """\
servers:
  - name: fs
    url: http://127.0.0.1:9/mcp
    prefix: false
    session: per_client
    max_sessions: 3
    tools: {include: ["get_*"], exclude: [get_secret], ttl_seconds: 30}
    prompts: {exclude: ["internal_*"]}
    resources: {include: ["file:///pub/*"]}
  - name: plain
    command: mcpstead
    args: [demo-server]
"""

BAD = """\
servers:
  - name: fs
    url: http://127.0.0.1:9/mcp
    session: sometimes
    max_sessions: 0
    tools:
      include: 5
    prompts:
      exclude: [1, "x"]
    resources:
      include: "file://*"
      only: [a]
    prefix: maybe
"""


def run_check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    path = tmp_path / "gw.yaml"
    path.write_text(text)
    code = main(["check", "--config", str(path)])
    out, err = capsys.readouterr()
    return code, out, err.replace(str(path), "gw.yaml")


def test_check_accepts_the_routing_keys_and_shows_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_check(tmp_path, GOOD, capsys)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].endswith("gw.yaml: ok")
    (fs,) = [line for line in lines if line.strip().startswith("fs:")]
    for shown in ("names unprefixed", "per-client sessions (max 3)", "tools filtered", "prompts filtered"):
        assert shown in fs, fs
    assert "resources filtered" in fs
    (plain,) = [line for line in lines if line.strip().startswith("plain:")]
    assert "filtered" not in plain and "unprefixed" not in plain and "per-client" not in plain


def test_check_rejects_bad_routing_values_each_on_its_own_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_check(tmp_path, BAD, capsys)
    assert code == EXIT_CONFIG
    assert out == ""
    assert err.splitlines() == [
        "mcpstead: gw.yaml:4:14: servers[0] (name: fs).session: expected one of 'shared' or 'per_client', got 'sometimes'",
        "mcpstead: gw.yaml:5:19: servers[0] (name: fs).max_sessions: must be >= 1, got 0",
        "mcpstead: gw.yaml:7:16: servers[0] (name: fs).tools.include: expected a list, got an integer 5",
        "mcpstead: gw.yaml:9:17: servers[0] (name: fs).prompts.exclude[0]: expected a string, got an integer 1",
        "mcpstead: gw.yaml:11:16: servers[0] (name: fs).resources.include: expected a list, got a string 'file://*'",
        "mcpstead: gw.yaml:12:7: servers[0] (name: fs).resources.only: unknown key (expected one of: include, exclude)",
        "mcpstead: gw.yaml:13:13: servers[0] (name: fs).prefix: expected true or false, got a string 'maybe'",
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("max_sessions: -2", "4:19: servers[0] (name: fs).max_sessions: must be >= 1, got -2"),
        ("max_sessions: many", "4:19: servers[0] (name: fs).max_sessions: expected an integer, got a string 'many'"),
        (
            "session: PER_CLIENT",
            "4:14: servers[0] (name: fs).session: expected one of 'shared' or 'per_client', got 'PER_CLIENT'",
        ),
        ("tools: {exclude: [a, [b]]}", "4:26: servers[0] (name: fs).tools.exclude[1]: expected a string, got a list"),
        ("prompts: [a]", "4:14: servers[0] (name: fs).prompts: expected a mapping, got a list"),
    ],
)
def test_check_names_the_key_path_of_each_bad_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, expected: str
) -> None:
    text = f"servers:\n  - name: fs\n    url: http://127.0.0.1:9/mcp\n    {line}\n"
    code, _out, err = run_check(tmp_path, text, capsys)
    assert code == EXIT_CONFIG
    assert err.splitlines() == [f"mcpstead: gw.yaml:{expected}"]
