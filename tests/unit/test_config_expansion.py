"""`${VAR}` expansion beyond env and headers: a secret passed to an upstream's URL or command line through a
variable reaches the upstream, and is never what is shown."""

from __future__ import annotations

import pytest

from mcpstead.config_load import parse_config
from mcpstead.errors import ConfigError

SECRET = "s3cr3t-value-for-the-test"


def test_url_command_args_and_cwd_expand_and_show_as_written() -> None:
    config = parse_config(
        """
servers:
  - name: db
    command: ${TOOL:-npx}
    args: [-y, server-postgres, "postgresql://me:${DB_PASSWORD}@127.0.0.1/db"]
    cwd: ${HOME_DIR}
  - name: web
    url: http://127.0.0.1:3000/mcp?key=${API_KEY}
""",
        "gw.yaml",
        {"DB_PASSWORD": SECRET, "HOME_DIR": "/tmp", "API_KEY": SECRET},
    )
    db, web = config.servers
    assert db.command == "npx"
    assert db.args[-1] == f"postgresql://me:{SECRET}@127.0.0.1/db"
    assert db.cwd == "/tmp"
    assert web.url == f"http://127.0.0.1:3000/mcp?key={SECRET}"
    assert SECRET not in db.target and "${DB_PASSWORD}" in db.target
    assert SECRET not in web.target and "${API_KEY}" in web.target


def test_a_missing_variable_in_args_names_the_arg() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("servers:\n  - name: db\n    command: npx\n    args: [a, '${NOPE}']\n", "gw.yaml", {})
    assert any(
        "servers[0]" in problem and "args[1]" in problem and "NOPE" in problem for problem in caught.value.problems
    )
