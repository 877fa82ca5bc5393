"""`mcpstead import`: MCP client config files (Claude Desktop, Claude Code, Cursor, VS Code) read into
mcpstead server entries.

Each format's quirks are handled here: `mcpServers` or VS Code's `servers` (and `mcp.servers` in its user
settings), JSON with comments, `type: stdio|http|sse`, VS Code's `inputs` and `${input:ID}`, `${env:NAME}`,
`${workspaceFolder}`, disabled entries. A secret-looking value (by its key's name or by its shape) is never
copied: it becomes a `${VAR}` reference, and the variable is listed for the user to set.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from mcpstead.config import SERVER_NAME_PATTERN
from mcpstead.errors import ClientConfigError

MAPPED_KEYS = frozenset({"type", "transport", "command", "args", "env", "cwd", "url", "headers", "disabled", "envFile"})
IGNORED_KEYS = frozenset(
    {"autoApprove", "alwaysAllow", "timeout", "description", "dev", "gallery", "version", "disabledTools", "name"}
)
"""Keys some client documents that have no meaning in mcpstead: noted, not copied."""
TYPES = {
    "stdio": "stdio",
    "http": "streamable",
    "streamable-http": "streamable",
    "streamableHttp": "streamable",
    "sse": "sse",
}
SECRET_NAME = re.compile(
    r"(?i)(token|secret|passw|pwd|api[-_]?key|apikey|access[-_]?key|private[-_]?key|credential|auth|cookie|"
    r"session|bearer|signature|dsn|(^|[-_])(key|pass|sig)$)"
)
SECRET_VALUE = re.compile(r"^(sk-|sk_|ghp_|gho_|ghs_|github_pat_|xox[abposr]-|AKIA|glpat-|AIza|ya29\.|eyJ)")
_REFERENCE = re.compile(r"\$\{([^}]*)\}")
_PURE_REFERENCE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class ImportedServer:
    name: str
    source: str
    """`FILE: mcpServers.NAME`, for the comment above it."""
    entry: dict[str, Any]
    """The mcpstead server entry (name first)."""
    disabled: bool = False


@dataclass
class Variable:
    name: str
    origin: str
    """Where the value was (`FILE: mcpServers.github.env.GITHUB_TOKEN`) and what it is."""


@dataclass
class Imported:
    servers: list[ImportedServer] = field(default_factory=list)
    variables: dict[str, Variable] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def read_client_configs(paths: list[Path]) -> Imported:
    """Every server of every file, or ClientConfigError listing every problem in all of them."""
    result = Imported()
    problems: list[str] = []
    for path in paths:
        _FileReader(path, result, problems).read()
    if problems:
        raise ClientConfigError(problems)
    _unique_names(result)
    return result


def sanitise_name(name: str) -> str:
    """The name under mcpstead's rule: letters and digits, single `-` or `_` between them."""
    text = re.sub(r"[^A-Za-z0-9_-]+", "-", name)
    text = re.sub(r"[-_]{2,}", lambda match: match.group(0)[0], text).strip("-_")
    return text if SERVER_NAME_PATTERN.match(text) else "server"


def _unique_names(result: Imported) -> None:
    seen: Counter[str] = Counter()
    for server in result.servers:
        base = server.name
        seen[base] += 1
        if seen[base] > 1:
            server.name = f"{base}-{seen[base]}"
            while server.name in seen:
                seen[base] += 1
                server.name = f"{base}-{seen[base]}"
            seen[server.name] += 1
            result.notes.append(f"{server.source}: a second server named '{base}' is imported as '{server.name}'")
        server.entry["name"] = server.name


def _shown_key(name: str) -> str:
    """A client's server name as messages and comments show it: quoted when it holds anything that could
    break a line (a name with a newline must not write YAML of its own into a comment)."""
    return name if name.isprintable() else json.dumps(name)


def _env_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper()
    return name if name and not name[0].isdigit() else f"V_{name}"


def looks_secret(value: str) -> bool:
    """A value shaped like a credential: a known token prefix, or a long random-looking word."""
    if _PURE_REFERENCE.match(value) or not value:
        return False
    if SECRET_VALUE.match(value) or value.lower().startswith(("bearer ", "basic ", "token ")):
        return True
    if len(value) < 24 or re.search(r"[\s/\\.:@]", value):
        return False
    counts = Counter(value)
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return entropy > 3.5 and bool(re.search(r"\d", value)) and bool(re.search(r"[A-Za-z]", value))


class _FileReader:
    def __init__(self, path: Path, result: Imported, problems: list[str]) -> None:
        self.path = path
        self.shown = str(path)
        self.result = result
        self.problems = problems
        self.inputs: dict[str, str] = {}
        parent = path.resolve().parent
        self.workspace = parent.parent if parent.name in (".vscode", ".cursor") else parent

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{self.shown}: {where}: {message}" if where else f"{self.shown}: {message}")

    def read(self) -> None:
        try:
            text = self.path.read_text(encoding="utf-8-sig")  # Notepad saves JSON with a BOM
        except (OSError, UnicodeDecodeError) as exc:
            self.problems.append(f"{self.shown}: cannot read it: {getattr(exc, 'strerror', None) or exc}")
            return
        try:
            data = json.loads(without_comments(text))
        except json.JSONDecodeError as exc:
            self.problems.append(f"{self.shown}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}")
            return
        if not isinstance(data, dict):
            self.problem("", "expected a JSON object at the top")
            return
        where, servers = self._servers_of(data)
        if servers is None:
            return
        for name, entry in servers.items():
            self._server(f"{where}.{_shown_key(str(name))}", str(name), entry)

    def _servers_of(self, data: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
        if "mcpServers" in data:
            where, servers = "mcpServers", data["mcpServers"]
        elif "servers" in data:
            where, servers = "servers", data["servers"]
            self._inputs(data.get("inputs"), "inputs")
        elif isinstance(data.get("mcp"), dict) and "servers" in data["mcp"]:
            where, servers = "mcp.servers", data["mcp"]["servers"]
            self._inputs(data["mcp"].get("inputs"), "mcp.inputs")
        else:
            self.problem(
                "",
                "has no 'mcpServers' (Claude Desktop, Claude Code, Cursor) or 'servers' (VS Code) key: "
                "not a client config mcpstead knows",
            )
            return "", None
        if not isinstance(servers, dict):
            self.problem(where, "expected an object of servers by name")
            return where, None
        return where, servers

    def _inputs(self, inputs: Any, where: str) -> None:
        if inputs is None:
            return
        if not isinstance(inputs, list):
            self.problem(where, "expected a list")
            return
        for index, item in enumerate(inputs):
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                self.inputs[item["id"]] = str(item.get("description") or item.get("id"))
            else:
                self.problem(f"{where}[{index}]", "expected an object with an 'id'")

    def _server(self, where: str, name: str, entry: Any) -> None:
        if not isinstance(entry, dict):
            self.problem(where, "expected an object")
            return
        ok = True
        for key in entry:
            if key in IGNORED_KEYS:
                self.result.notes.append(f"{self.shown}: {where}.{key}: ignored (mcpstead has no such setting)")
            elif key not in MAPPED_KEYS:
                close = difflib.get_close_matches(str(key), sorted(MAPPED_KEYS | IGNORED_KEYS), n=1, cutoff=0.7)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.problem(f"{where}.{key}", f"unknown key{hint}")
                ok = False
        kind = entry.get("type", entry.get("transport"))
        if kind is not None and kind not in TYPES:
            self.problem(f"{where}.type", f"expected one of {', '.join(sorted(TYPES))}, got {json.dumps(kind)}")
            ok = False
        if ("command" in entry) == ("url" in entry):
            self.problem(where, "needs 'command' (a stdio server) or 'url' (an HTTP server), and not both")
            return
        if kind is not None and (TYPES.get(kind) == "stdio") != ("command" in entry):
            self.problem(f"{where}.type", f"'{kind}' does not go with {'command' if 'command' in entry else 'url'}")
            ok = False
        if not ok:
            return
        mcpstead_name = sanitise_name(name)
        if mcpstead_name != name:
            self.result.notes.append(
                f"{self.shown}: {where}: '{name}' is named '{mcpstead_name}' (mcpstead names are letters and "
                "digits with single '-' or '_' between them)"
            )
        server = _ServerReader(self, where, mcpstead_name)
        built = server.stdio(entry) if "command" in entry else server.http(entry, kind)
        if built is None:
            return
        disabled = entry.get("disabled") is True
        self.result.servers.append(ImportedServer(mcpstead_name, f"{self.shown}: {where}", built, disabled))


class _ServerReader:
    """One server entry into mcpstead's keys, every value through the substitutions and the secret check."""

    def __init__(self, file: _FileReader, where: str, name: str) -> None:
        self.file, self.where, self.name = file, where, name
        self.ok = True

    def string(self, value: Any, key: str) -> str | None:
        if not isinstance(value, str):
            self.file.problem(f"{self.where}.{key}", f"expected a string, got {type(value).__name__}")
            self.ok = False
            return None
        return self.substitute(value, key)

    def mapping(self, value: Any, key: str) -> dict[str, str]:
        if not isinstance(value, dict):
            self.file.problem(f"{self.where}.{key}", "expected an object of strings")
            self.ok = False
            return {}
        out: dict[str, str] = {}
        for name, item in value.items():
            text = self.string(item, f"{key}.{name}")
            if text is not None:
                out[str(name)] = text
        return out

    def substitute(self, value: str, key: str) -> str:
        """Each client's `${...}` into mcpstead's `${VAR}` (or its value, where the client would fill one in)."""

        def one(match: re.Match[str]) -> str:
            inner = match.group(1)
            if inner == "workspaceFolder":
                return str(self.file.workspace)
            if inner == "workspaceFolderBasename":
                return self.file.workspace.name
            if inner == "userHome":
                return str(Path.home())
            if inner == "pathSeparator":
                return "/"
            if inner.startswith("env:"):
                return self.reference(inner[4:], f"the environment variable {inner[4:]}")
            if inner.startswith("input:"):
                input_id = inner[6:]
                described = self.file.inputs.get(input_id, "a VS Code input")
                return self.reference(_env_name(input_id), f"VS Code input '{input_id}': {described}")
            variable, has_default, default = inner.partition(":-")
            if _ENV_NAME.match(variable) and has_default and self.secret_default(key, variable, default, value):
                return self.reference(
                    variable, f"the environment variable {variable} (its default looked like a secret: left out)"
                )
            if _ENV_NAME.match(variable):
                return self.reference(variable, f"the environment variable {variable}", whole=match.group(0))
            self.file.problem(f"{self.where}.{key}", f"'${{{inner}}}' has no mcpstead equivalent")
            self.ok = False
            return match.group(0)

        return _REFERENCE.sub(one, value)

    @staticmethod
    def secret_default(key: str, variable: str, default: str, whole: str) -> bool:
        """A `${VAR:-default}` whose default is a credential: it is not copied (the variable must be set).
        Named so by the key it is the value of, the variable, a `--flag=` it follows, or its own shape."""
        if not default:
            return False
        if "://" in default:
            try:
                return urlsplit(default).password is not None
            except ValueError:
                return False
        flag = whole.partition("=")[0] if whole.startswith("-") else ""
        names = (key.rsplit(".", 1)[-1], variable, flag)
        return any(SECRET_NAME.search(name) for name in names if name) or looks_secret(default)

    def reference(self, variable: str, origin: str, whole: str | None = None) -> str:
        self.file.result.variables.setdefault(
            variable, Variable(variable, f"{self.file.shown}: {self.where}: {origin}")
        )
        return whole or f"${{{variable}}}"

    def hidden(self, variable: str, what: str) -> str:
        """A secret in clear becomes a reference to a variable the user sets (a name no other value has)."""
        taken = self.file.result.variables
        name = base = variable if variable not in taken else _env_name(f"{self.name}_{variable}")
        counter = 2
        while name in taken:
            name, counter = f"{base}_{counter}", counter + 1
        taken[name] = Variable(name, f"{self.file.shown}: {self.where}: {what}")
        return f"${{{name}}}"

    def secret_value(self, key: str, value: str, variable: str, path: str) -> str:
        if _PURE_REFERENCE.match(value) or "${" in value:
            return value
        if SECRET_NAME.search(key) or looks_secret(value):
            scheme, _, rest = value.partition(" ")
            what = f"{path} (its value was in the file)"
            if rest and scheme.lower() in ("bearer", "basic", "token"):
                return f"{scheme} {self.hidden(variable, what)}"
            return self.hidden(variable, what)
        return value

    def stdio(self, entry: dict[str, Any]) -> dict[str, Any] | None:
        out: dict[str, Any] = {"name": self.name}
        command = self.string(entry["command"], "command")
        args_raw = entry.get("args", [])
        if not isinstance(args_raw, list):
            self.file.problem(f"{self.where}.args", "expected a list of strings")
            return None
        args = [self.string(arg, f"args[{index}]") for index, arg in enumerate(args_raw)]
        env = self.mapping(entry.get("env", {}), "env")
        if not self.ok or command is None:
            return None
        out["command"] = command
        if args:
            out["args"] = self.secret_args([arg for arg in args if arg is not None])
        if "cwd" in entry:
            out["cwd"] = self.string(entry["cwd"], "cwd")
        elif any(self.relative_path(word) for word in [command, *args] if word is not None):
            out["cwd"] = str(self.file.workspace)  # the client starts it in the project; the gateway would not
            self.file.result.notes.append(
                f"{self.file.shown}: {self.where}: names a path relative to {self.file.workspace}; "
                "imported with that as its cwd"
            )
        env = {
            key: self.secret_url(value, f"env.{key}")
            if "://" in value
            else self.secret_value(key, value, key if _ENV_NAME.match(key) else _env_name(key), f"env.{key}")
            for key, value in env.items()
        }
        env_file = entry.get("envFile")
        if isinstance(env_file, str):
            env.update(self.env_file(self.substitute(env_file, "envFile")))
        if env:
            out["env"] = env
        return out if self.ok else None

    def relative_path(self, word: str) -> bool:
        """A command or argument that is a path relative to the project the client runs the server in."""
        if word.startswith(("./", "../")):
            return True
        if word.startswith(("-", "$")) or Path(word).is_absolute() or "://" in word:
            return False
        try:
            return bool(word) and (self.file.workspace / word).exists()
        except (OSError, ValueError):
            return False

    def env_file(self, name: str) -> dict[str, str]:
        """An envFile's keys as references: its values are what people keep out of config files."""
        path = Path(name) if Path(name).is_absolute() else self.file.workspace / name
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            self.file.problem(f"{self.where}.envFile", f"cannot read {path}: {exc.strerror or exc}")
            self.ok = False
            return {}
        out: dict[str, str] = {}
        for line in lines:
            key = line.strip().removeprefix("export ").split("=", 1)[0].strip()
            if "=" in line and _ENV_NAME.match(key) and not line.lstrip().startswith("#"):
                out[key] = self.reference(key, f"envFile {path}")
        return out

    def secret_args(self, args: list[str]) -> list[str]:
        out: list[str] = []
        for index, arg in enumerate(args):
            flag, equals, value = arg.partition("=")
            previous = args[index - 1] if index else ""
            variable = _env_name(f"{self.name}_{(flag if equals else previous).lstrip('-') or 'arg'}")
            if equals and flag.startswith("-") and SECRET_NAME.search(flag):
                arg = f"{flag}={self.secret_value(flag, value, variable, f'args[{index}]')}"
            elif previous.startswith("-") and SECRET_NAME.search(previous) and not arg.startswith("-"):
                arg = self.secret_value(previous, arg, variable, f"args[{index}]")
            elif "://" in arg:
                arg = self.secret_url(arg, f"args[{index}]")
            elif looks_secret(arg):
                arg = self.hidden(_env_name(f"{self.name}_arg_{index}"), f"args[{index}] (its value was in the file)")
            out.append(arg)
        return out

    def secret_url(self, url: str, path: str) -> str:
        try:
            parts = urlsplit(url)
            password = parts.password
        except ValueError:
            return url
        netloc = parts.netloc
        if password and "${" not in password:
            reference = self.hidden(_env_name(f"{self.name}_password"), f"{path}: the password in the URL")
            netloc = netloc.replace(f":{password}@", f":{reference}@", 1)
        elif parts.username and looks_secret(parts.username):  # a token as the user name
            reference = self.hidden(_env_name(f"{self.name}_token"), f"{path}: the token in the URL")
            netloc = netloc.replace(f"{parts.username}@", f"{reference}@", 1)
        segments = parts.path.split("/")
        if any(looks_secret(segment) for segment in segments):  # a token as part of the path
            parts = parts._replace(
                path="/".join(
                    self.hidden(_env_name(f"{self.name}_path_token"), f"{path}: a token in the URL's path")
                    if looks_secret(segment)
                    else segment
                    for segment in segments
                )
            )
        query = parse_qsl(parts.query, keep_blank_values=True)
        if any(SECRET_NAME.search(key) or looks_secret(value) for key, value in query):
            kept = [
                (key, self.secret_value(key, value, _env_name(f"{self.name}_{key}"), f"{path}: the query's {key}"))
                for key, value in query
            ]
            return urlunsplit(parts._replace(netloc=netloc, query=urlencode(kept, safe="${}")))
        return urlunsplit(parts._replace(netloc=netloc))

    def http(self, entry: dict[str, Any], kind: Any) -> dict[str, Any] | None:
        url = self.string(entry["url"], "url")
        headers = self.mapping(entry.get("headers", {}), "headers")
        if not self.ok or url is None:
            return None
        out: dict[str, Any] = {"name": self.name, "url": self.secret_url(url, "url")}
        if kind is not None:
            out["protocol"] = TYPES[kind]
        if headers:
            out["headers"] = {
                key: self.secret_value(
                    "authorization" if key.lower() == "authorization" else key,
                    value,
                    _env_name(f"{self.name}_token" if key.lower() == "authorization" else f"{self.name}_{key}"),
                    f"headers.{key}",
                )
                for key, value in headers.items()
            }
        return out


def without_comments(text: str) -> str:
    """JSONC (VS Code's format) as JSON: `//` and `/* */` comments and trailing commas become spaces, so
    every line and column a JSON error names is still right."""
    out = list(text)
    index, length = 0, len(text)
    in_string = False
    last_token = -1
    while index < length:
        char = text[index]
        if in_string:
            if char == "\\":
                index += 2
                continue
            if char == '"':
                in_string = False
                last_token = index
        elif char == '"':
            in_string = True
        elif text.startswith("//", index):
            end = text.find("\n", index)
            end = length if end == -1 else end
            out[index:end] = " " * (end - index)
            index = end
            continue
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            end = length if end == -1 else end + 2
            out[index:end] = [c if c == "\n" else " " for c in text[index:end]]
            index = end
            continue
        elif char in "]}" and last_token >= 0 and out[last_token] == ",":
            out[last_token] = " "
            last_token = index
        elif not char.isspace():
            last_token = index
        index += 1
    return "".join(out)
