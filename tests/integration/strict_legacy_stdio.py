"""A strict 2025-era stdio server, by hand (run as a script): it exits at once when its first request is
not `initialize` (as some do), else serves `tools/list` and an `echo` tool. Its stderr says each start."""

from __future__ import annotations

import json
import sys
from typing import Any

TOOLS = [{"name": "echo", "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}}}}]


def reply(msg_id: Any, result: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": msg_id, "result": result}) + "\n")
    sys.stdout.flush()


def main() -> None:
    print("started", file=sys.stderr, flush=True)
    initialized = False
    for line in sys.stdin:
        message = json.loads(line)
        method, msg_id = message.get("method"), message.get("id")
        if not initialized and method != "initialize":
            print(f"exiting: {method} before initialize", file=sys.stderr, flush=True)
            sys.exit(1)
        if method == "initialize":
            initialized = True
            info = {"name": "strict-legacy", "version": "1"}
            reply(msg_id, {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}}, "serverInfo": info})
        elif method == "tools/list":
            reply(msg_id, {"tools": TOOLS})
        elif method == "tools/call":
            text = f"strict echo: {(message.get('params') or {}).get('arguments', {}).get('message')}"
            reply(msg_id, {"content": [{"type": "text", "text": text}]})
        elif msg_id is not None:
            reply(msg_id, {})


if __name__ == "__main__":
    main()
