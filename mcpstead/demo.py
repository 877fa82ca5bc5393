"""A stdlib-only MCP server over stdio (newline-delimited JSON-RPC 2.0, legacy `initialize` handshake).

The demo config runs it as `mcpstead demo-server`. It avoids the MCP SDK because the gateway core does not
depend on it, and its tools exercise the gateway: paginated tools/list, progress, cancellation,
structured output, tool errors, stderr output and crashes.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeGuard

from mcpstead import __version__

JSON = dict[str, Any]
Progress = Callable[[float, float, str], Awaitable[None]]
"""Reports (progress, total, message); a no-op when the request carried no progressToken."""

PROTOCOL_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")  # newest first
PAGE_SIZE = 4  # small on purpose: seven tools make two pages, so clients must follow nextCursor
LINE_LIMIT = 16 * 1024 * 1024
PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND = -32700, -32600, -32601
INVALID_PARAMS, INTERNAL_ERROR = -32602, -32603
INSTRUCTIONS = (
    "mcpstead demo server. Try echo, add and weather for plain and structured results, sleep (with a "
    "progressToken) for progress and cancellation, fail for a tool error, stderr to write to the "
    "server's stderr, and crash to make the process exit."
)
CONDITIONS = ("sunny", "partly cloudy", "overcast", "light rain", "thunderstorms", "snow", "fog", "windy")


@dataclass(eq=False)  # eq would make the exception unhashable
class RpcError(Exception):
    """Raised anywhere while handling a request to answer it with a JSON-RPC error."""

    code: int
    message: str


def _log(message: str) -> None:
    print(f"demo-server: {message}", file=sys.stderr, flush=True)


def _text(text: str, **extra: Any) -> JSON:
    return {"content": [{"type": "text", "text": text}], **extra}


def _is_id(value: object) -> TypeGuard[str | int]:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")  # json.loads would otherwise accept NaN/Infinity


_JSON_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "number": (int, float), "integer": (int,)}
Handler = Callable[[JSON, Progress], Awaitable[JSON]]


@dataclass(frozen=True)
class Tool:
    """A tool whose input schema is also its validator, so the advertised contract is the enforced one."""

    name: str
    description: str
    input_schema: JSON
    output_schema: JSON | None
    handler: Handler

    def describe(self) -> JSON:
        described = {"name": self.name, "description": self.description, "inputSchema": self.input_schema}
        return described if self.output_schema is None else {**described, "outputSchema": self.output_schema}

    def bind(self, arguments: object) -> JSON:
        """Return the arguments with defaults filled in; raise ValueError saying what is wrong."""
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            raise ValueError("arguments must be an object")
        args = dict(arguments)
        for name, schema in self.input_schema["properties"].items():
            if name not in args:
                if name in self.input_schema["required"]:
                    raise ValueError(f"missing required argument '{name}'")
                if "default" in schema:
                    args[name] = schema["default"]
                continue
            value, kind = args[name], schema["type"]
            if isinstance(value, bool) or not isinstance(value, _JSON_TYPES[kind]):
                raise ValueError(f"'{name}' must be of type {kind}, got {json.dumps(value)}")
            if value not in schema.get("enum", [value]):
                raise ValueError(f"'{name}' must be one of {schema['enum']}, got {json.dumps(value)}")
            low, high = schema.get("minimum", value), schema.get("maximum", value)
            if not low <= value <= high:
                raise ValueError(f"'{name}' must be between {low} and {high}, got {value}")
        return args


TOOLS: list[Tool] = []


def _tool(description: str, schema: JSON, output: JSON | None = None) -> Callable[[Handler], Handler]:
    """Register the decorated `_name` coroutine as tool `name`, keeping each schema next to its code."""

    def register(handler: Handler) -> Handler:
        TOOLS.append(Tool(handler.__name__.lstrip("_"), description, schema, output, handler))
        return handler

    return register


def _arg(kind: str, description: str, **extra: Any) -> JSON:
    return {"type": kind, "description": description, **extra}


def _object(required: list[str], **properties: JSON) -> JSON:
    return {"type": "object", "properties": properties, "required": required}


@_tool("Echo a message back as text.", _object(["message"], message=_arg("string", "Text to echo back.")))
async def _echo(args: JSON, progress: Progress) -> JSON:
    return _text(args["message"])


@_tool(
    "Add two numbers; returns the sum as text and as structured content {sum}.",
    _object(["a", "b"], a=_arg("number", "First addend."), b=_arg("number", "Second addend.")),
    _object(["sum"], sum=_arg("number", "a + b")),
)
async def _add(args: JSON, progress: Progress) -> JSON:
    total = args["a"] + args["b"]  # an overflow to inf fails serialisation: an internal error, not bad JSON
    return _text(str(total), structuredContent={"sum": total})


@_tool(
    "Sleep, sending notifications/progress after each step if the call has a progressToken. "
    "Cancel it with notifications/cancelled.",
    _object(
        ["seconds"],
        seconds=_arg("number", "How long to sleep.", minimum=0, maximum=60),
        steps=_arg("integer", "Number of progress steps.", minimum=1, maximum=1000, default=5),
    ),
)
async def _sleep(args: JSON, progress: Progress) -> JSON:
    seconds, steps = args["seconds"], args["steps"]
    for step in range(1, steps + 1):
        await asyncio.sleep(seconds / steps)
        await progress(step, steps, f"slept {seconds * step / steps:g} of {seconds:g} s")
    return _text(f"slept {seconds:g} s")


@_tool(
    "Always fails: returns a result with isError true.",
    _object([], message=_arg("string", "Error text.", default="the fail tool always fails")),
)
async def _fail(args: JSON, progress: Progress) -> JSON:
    return _text(args["message"], isError=True)


UNITS = ["metric", "imperial"]


@_tool(
    "Made-up but deterministic weather for a city, as structured content.",
    _object(
        ["city"],
        city=_arg("string", "City name."),
        units=_arg("string", "Temperature units.", enum=UNITS, default="metric"),
    ),
    _object(
        ["city", "temperature", "units", "conditions", "humidity"],
        city=_arg("string", "City name, as given."),
        temperature=_arg("number", "Celsius for metric, Fahrenheit for imperial."),
        units=_arg("string", "Units of temperature.", enum=UNITS),
        conditions=_arg("string", "Sky conditions."),
        humidity=_arg("integer", "Relative humidity in percent.", minimum=0, maximum=100),
    ),
)
async def _weather(args: JSON, progress: Progress) -> JSON:
    # sha256, not hash(): str hashes are salted per process, and the report must be stable across runs.
    digest = hashlib.sha256(args["city"].strip().lower().encode()).digest()
    celsius = digest[0] % 45 - 10
    report = {
        "city": args["city"],
        "temperature": celsius if args["units"] == "metric" else round(celsius * 9 / 5 + 32, 1),
        "units": args["units"],
        "conditions": CONDITIONS[digest[1] % len(CONDITIONS)],
        "humidity": 20 + digest[2] % 80,
    }
    return _text(json.dumps(report), structuredContent=report)


@_tool(
    "Write a line to the server's stderr (watch it in the gateway's stderr view).",
    _object(["line"], line=_arg("string", "The line to write.")),
)
async def _stderr(args: JSON, progress: Progress) -> JSON:
    print(args["line"], file=sys.stderr, flush=True)
    return _text("written")


@_tool(
    "Exit the server process immediately with the given code, to test supervision.",
    _object([], code=_arg("integer", "Exit code.", minimum=0, maximum=255, default=3)),
)
async def _crash(args: JSON, progress: Progress) -> JSON:
    _log(f"crash tool called, exiting with code {args['code']}")
    sys.stdout.flush()
    os._exit(args["code"])  # no cleanup on purpose: this is what a crashing server looks like


TOOLS_BY_NAME = {tool.name: tool for tool in TOOLS}


def _cursor(offset: int) -> str:
    return base64.b64encode(b"offset:%d" % offset).decode()  # opaque to clients, a dict lookup here


CURSORS = {_cursor(offset): offset for offset in range(PAGE_SIZE, len(TOOLS), PAGE_SIZE)}


@dataclass
class Server:
    """Connection state: in-flight request tasks, kept so notifications/cancelled can reach them."""

    tasks: dict[str | int, asyncio.Task[None]] = field(default_factory=dict)
    write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def run(self, reader: asyncio.StreamReader) -> int:
        """Serve until stdin reaches EOF, then cancel whatever is still running and return 0."""
        try:
            while True:
                try:
                    line = await reader.readline()
                except ValueError:  # longer than LINE_LIMIT; the reader has discarded it
                    await self._reply(None, error=(PARSE_ERROR, "Parse error: message too long"))
                    continue
                if not line:
                    return 0
                if line.strip():
                    await self._receive(line)
                await asyncio.sleep(0)  # let new handlers start even when input is buffered up to EOF
        finally:
            for task in self.tasks.values():
                task.cancel()
            await asyncio.gather(*self.tasks.values(), return_exceptions=True)

    async def _receive(self, line: bytes) -> None:
        try:
            message = json.loads(line, parse_constant=_reject_constant)
        except ValueError as exc:  # also covers invalid UTF-8
            await self._reply(None, error=(PARSE_ERROR, f"Parse error: {exc}"))
            return
        if not isinstance(message, dict):
            await self._reply(None, error=(INVALID_REQUEST, "Invalid Request: expected a JSON object"))
            return
        method, params, msg_id = message.get("method"), message.get("params") or {}, message.get("id")
        if method is None and ("result" in message or "error" in message):
            return  # a response, but this server never sends requests
        if "id" not in message and isinstance(method, str) and isinstance(params, dict):
            self._notify(method, params)  # notifications never get a response
        elif _is_id(msg_id) and isinstance(method, str) and isinstance(params, dict):
            self.tasks[msg_id] = asyncio.create_task(self._serve(msg_id, method, params))
        else:
            await self._reply(msg_id if _is_id(msg_id) else None, error=(INVALID_REQUEST, "Invalid Request"))

    def _notify(self, method: str, params: JSON) -> None:
        rid = params.get("requestId")
        if method == "notifications/cancelled" and _is_id(rid) and (task := self.tasks.get(rid)):
            task.cancel()
            _log(f"request {rid!r} cancelled by the client")

    async def _serve(self, msg_id: str | int, method: str, params: JSON) -> None:
        """Handle one request in its own task; a cancelled task sends no response, as the spec asks."""
        try:
            await self._reply(msg_id, result=await self._dispatch(method, params))
        except RpcError as exc:
            await self._reply(msg_id, error=(exc.code, exc.message))
        except Exception as exc:
            _log(f"internal error handling {method}: {exc!r}")
            await self._reply(msg_id, error=(INTERNAL_ERROR, f"Internal error: {exc}"))
        finally:
            if self.tasks.get(msg_id) is asyncio.current_task():
                del self.tasks[msg_id]

    async def _dispatch(self, method: str, params: JSON) -> JSON:
        if method == "initialize":
            return self._initialize(params)
        if method in ("ping", "logging/setLevel"):
            return {}
        if method == "tools/list":
            return self._list_tools(params.get("cursor"))
        if method == "tools/call":
            return await self._call_tool(params)
        raise RpcError(METHOD_NOT_FOUND, f"Method not found: {method}")

    def _initialize(self, params: JSON) -> JSON:
        requested = params.get("protocolVersion")
        version = requested if requested in PROTOCOL_VERSIONS else PROTOCOL_VERSIONS[0]
        info = params.get("clientInfo")
        client = info.get("name") if isinstance(info, dict) else None
        _log(f"initialized by {client or 'an unnamed client'} (protocol {version})")
        return {
            "protocolVersion": version,
            "capabilities": {"tools": {"listChanged": False}, "logging": {}},
            "serverInfo": {"name": "mcpstead-demo", "version": __version__},
            "instructions": INSTRUCTIONS,
        }

    def _list_tools(self, cursor: object) -> JSON:
        if cursor is None:
            start = 0
        elif isinstance(cursor, str) and cursor in CURSORS:
            start = CURSORS[cursor]
        else:
            raise RpcError(INVALID_PARAMS, f"Invalid cursor: {cursor!r}")
        result: JSON = {"tools": [tool.describe() for tool in TOOLS[start : start + PAGE_SIZE]]}
        if start + PAGE_SIZE < len(TOOLS):
            result["nextCursor"] = _cursor(start + PAGE_SIZE)
        return result

    async def _call_tool(self, params: JSON) -> JSON:
        name = params.get("name")
        tool = TOOLS_BY_NAME.get(name) if isinstance(name, str) else None
        if tool is None:
            raise RpcError(INVALID_PARAMS, f"Unknown tool: {name}")
        try:
            args = tool.bind(params.get("arguments"))
        except ValueError as exc:  # the spec makes input validation a tool execution error
            return _text(f"Invalid arguments for tool '{tool.name}': {exc}", isError=True)
        meta = params.get("_meta")
        token = meta.get("progressToken") if isinstance(meta, dict) else None

        async def progress(done: float, total: float, message: str) -> None:
            if token is not None:
                note = {"progressToken": token, "progress": done, "total": total, "message": message}
                await self._send({"jsonrpc": "2.0", "method": "notifications/progress", "params": note})

        return await tool.handler(args, progress)

    async def _reply(
        self, msg_id: str | int | None, *, result: JSON | None = None, error: tuple[int, str] | None = None
    ) -> None:
        body = {"result": result} if error is None else {"error": {"code": error[0], "message": error[1]}}
        await self._send({"jsonrpc": "2.0", "id": msg_id, **body})

    async def _send(self, message: JSON) -> None:
        """Write one message as one ASCII line (lone surrogates from the input cannot break encoding).

        The write is synchronous: a client that lets the stdout pipe fill up has stopped listening anyway,
        and the lock keeps every message a whole line whichever task sends it.
        """
        data = json.dumps(message, separators=(",", ":"), allow_nan=False).encode() + b"\n"
        async with self.write_lock:
            try:
                sys.stdout.buffer.write(data)
                sys.stdout.buffer.flush()
            except BrokenPipeError:
                pass  # the client has gone; EOF on stdin ends the loop


async def _open_stdin() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=LINE_LIMIT)
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    except ValueError:  # a regular file (`demo-server < requests.jsonl`) is not a pipe
        reader.feed_data(sys.stdin.buffer.read())
        reader.feed_eof()
    return reader


async def _amain() -> int:
    return await Server().run(await _open_stdin())


def main() -> int:
    """Entry point for `mcpstead demo-server` and `python -m mcpstead.demo`."""
    try:
        return asyncio.run(_amain())
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
