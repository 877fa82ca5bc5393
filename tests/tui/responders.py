"""Scripted answers for FakeView.start_request (results, errors, held-open calls, progress, questions), and
the results and questions the runner tests use."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence
from typing import Any

from mcpstead.state import ClientHandler
from tests.tui.fakes import FakeView, Responder

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(24))
WAV = b"RIFF\x24\x00\x00\x00WAVE"
BLOB = b"\x00\x01\x02\x03\x04"
EVERY_KIND = {
    "content": [
        {"type": "text", "text": "plain words"},
        {"type": "image", "mimeType": "image/png", "data": base64.b64encode(PNG).decode()},
        {"type": "audio", "mimeType": "audio/wav", "data": base64.b64encode(WAV).decode()},
        {"type": "resource_link", "uri": "file:///srv/notes.md", "name": "notes", "mimeType": "text/markdown"},
        {"type": "resource", "resource": {"uri": "test://readme", "mimeType": "text/plain", "text": "embedded text"}},
        {
            "type": "resource",
            "resource": {
                "uri": "test://bin/data.bin",
                "mimeType": "application/x-bin",
                "blob": base64.b64encode(BLOB).decode(),
            },
        },
    ],
    "structuredContent": {"city": "Paris", "hourly": [18, 19], "wind": {"speed": 3}},
}
FORM = {
    "message": "Tell me about you",
    "requestedSchema": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "title": "Your name", "minLength": 2},
            "email": {"type": "string", "format": "email"},
            "age": {"type": "integer", "minimum": 0},
            "color": {"type": "string", "oneOf": [{"const": "r", "title": "Red"}, {"const": "g", "title": "Green"}]},
            "newsletter": {"type": "boolean", "default": True},
        },
        "required": ["name", "email"],
    },
}
URL = {"mode": "url", "url": "https://auth.example/consent?s=1", "elicitationId": "el-7", "message": "Authorize access"}
SAMPLE = {
    "systemPrompt": "Answer in one word.",
    "messages": [
        {"role": "user", "content": {"type": "text", "text": "Capital of France?"}},
        {"role": "user", "content": [{"type": "image", "mimeType": "image/png", "data": "iVBORw0KGgo="}]},
    ],
    "maxTokens": 50,
    "modelPreferences": {"hints": [{"name": "sonnet"}], "intelligencePriority": 0.8},
}


def answering(result: dict[str, Any]) -> Responder:
    """Answers at once with `result`."""

    async def respond(params: dict[str, Any], handler: ClientHandler | None) -> dict[str, Any]:
        return {"result": result}

    return respond


def failing(code: int, message: str) -> Responder:
    """Answers at once with a JSON-RPC error."""

    async def respond(params: dict[str, Any], handler: ClientHandler | None) -> dict[str, Any]:
        return {"error": {"code": code, "message": message}}

    return respond


def held(gate: asyncio.Event, result: dict[str, Any], progress: Sequence[dict[str, Any]] = ()) -> Responder:
    """Sends each of `progress` (params of notifications/progress, the request's token added) at once,
    then waits for `gate` before answering with `result`."""

    async def respond(params: dict[str, Any], handler: ClientHandler | None) -> dict[str, Any]:
        assert handler is not None
        token = params["_meta"]["progressToken"]
        for step in progress:
            handler.notified({"method": "notifications/progress", "params": {"progressToken": token, **step}})
        await gate.wait()
        return {"result": result}

    return respond


def asking(method: str, question: dict[str, Any], answers: list[dict[str, Any]]) -> Responder:
    """Asks the handler `method` with `question`, keeps the answer body in `answers`, and returns it as text."""

    async def respond(params: dict[str, Any], handler: ClientHandler | None) -> dict[str, Any]:
        assert handler is not None
        body = await handler.asked(method, question)
        answers.append(body)
        return {"result": {"content": [{"type": "text", "text": f"the human said {body}"}]}}

    return respond


def tool_calls(view: FakeView) -> list[tuple[str, Any]]:
    """(name, arguments) of every tools/call the dashboard sent."""
    return [(params["name"], params["arguments"]) for method, params in view.requests if method == "tools/call"]
