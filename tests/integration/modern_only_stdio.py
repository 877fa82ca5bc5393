"""A 2026-07-28-only stdio server, by hand (run as a script): it refuses `initialize` with -32601 as a modern
server does, checks every request's envelope, and serves `server/discover`, `tools/list`, `echo` and `ask`,
which asks the client for a name through `input_required` and greets it on the retry that brings it. Its
stderr says when it started and each method it was sent."""

from __future__ import annotations

import json
import sys
from typing import Any

VERSION_KEY = "io.modelcontextprotocol/protocolVersion"
SUBSCRIPTION_KEY = "io.modelcontextprotocol/subscriptionId"
LISTENING: dict[str, Any] = {"id": None}
"""The subscriptions/listen request in force (its notifications would carry its id)."""
QUESTION = {
    "method": "elicitation/create",
    "params": {
        "mode": "form",
        "message": "Who are you?",
        "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
    },
}
TOOLS = [
    {"name": "echo", "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}}}},
    {"name": "ask", "inputSchema": {"type": "object"}},
    {"name": "end_listen", "inputSchema": {"type": "object"}},
]


def result(msg_id: Any, value: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "result": {"resultType": "complete", **value}}


def error(msg_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}


def answer(message: dict[str, Any]) -> dict[str, Any] | None:
    msg_id, method = message.get("id"), message.get("method")
    if msg_id is None:
        return None  # notifications (a cancellation) need no answer
    if method == "initialize":
        return error(msg_id, -32601, "Method not found: initialize does not exist in 2026-07-28")
    params = message.get("params") or {}
    if (params.get("_meta") or {}).get(VERSION_KEY) != "2026-07-28":
        return error(msg_id, -32602, "params._meta is missing the protocol version")
    if method == "server/discover":
        info = {"io.modelcontextprotocol/serverInfo": {"name": "modern-stdio", "version": "1"}}
        return result(msg_id, {"supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}}, "_meta": info})
    if method == "tools/list":
        return result(msg_id, {"tools": TOOLS, "ttlMs": 0, "cacheScope": "public"})
    if method == "subscriptions/listen":
        LISTENING["id"] = msg_id
        return {"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged", "params": {
            "notifications": params.get("notifications"), "_meta": {SUBSCRIPTION_KEY: msg_id}}}  # fmt: skip
    if method == "tools/call" and params.get("name") == "end_listen":  # the server ends the subscription
        ended = LISTENING["id"]
        if ended is not None:
            LISTENING["id"] = None
            finish = {"resultType": "complete", "_meta": {SUBSCRIPTION_KEY: ended}}
            sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": ended, "result": finish}) + "\n")
        return result(msg_id, {"content": [{"type": "text", "text": f"ended {ended}"}]})
    if method == "tools/call" and params.get("name") == "echo":
        text = f"stdio echo: {(params.get('arguments') or {}).get('message')}"
        return result(msg_id, {"content": [{"type": "text", "text": text}]})
    if method == "tools/call" and params.get("name") == "ask":
        response = (params.get("inputResponses") or {}).get("who")
        if response is None or params.get("requestState") != "asked-once":
            required = {
                "resultType": "input_required",
                "inputRequests": {"who": QUESTION},
                "requestState": "asked-once",
            }
            return {"jsonrpc": "2.0", "id": msg_id, "result": required}
        name = (response.get("content") or {}).get("name")
        return result(msg_id, {"content": [{"type": "text", "text": f"hello, {name}"}]})
    return error(msg_id, -32601, f"Method not found: {method}")


def main() -> None:
    print("started", file=sys.stderr, flush=True)  # each start and each method, for the test to see
    for line in sys.stdin:
        message = json.loads(line)
        print(f"method {message.get('method')}", file=sys.stderr, flush=True)
        reply = answer(message)
        if reply is not None:
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
