"""A gateway offering prompts, resources and templates, and answers for the dashboard's requests about them."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

from mcpstead.state import ClientHandler, GatewaySnapshot
from tests.tui.fakes import FakeView, Responder, offered, two_upstreams

README = "# mcpstead\n\nOne `/mcp` in front of many servers.\n"
CONFIG = '{"servers": [{"name": "github"}], "port": 8080}'
LOGO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4

REVIEW_ARGUMENTS = [
    {"name": "repo", "description": "owner/name", "required": True},
    {"name": "focus", "description": "What to look at"},
]

OFFERED = (
    offered("prompt", "github", "github__review", description="Review a pull request", arguments=REVIEW_ARGUMENTS),
    offered("prompt", "github", "github__summarize", description="Summarize an issue thread"),
    offered(
        "resource",
        "github",
        "github://mcpstead/README.md",
        name="readme",
        title="README",
        mimeType="text/markdown",
        size=len(README),
        description="The project's README",
    ),
    offered("resource", "github", "github://mcpstead/logo.png", name="logo", mimeType="image/png"),
    offered("resource", "github", "github://mcpstead/config.json", name="config", mimeType="application/json"),
    offered(
        "template",
        "github",
        "github://{owner}/{repo}/issues{?state}",
        name="issues",
        description="Issues of a repository",
        mimeType="application/json",
    ),
    offered("resource", "files", "file:///notes.txt", name="notes", mimeType="text/plain"),
    offered("prompt", "files", "files__explain", description="Explain a file"),
)

OWNERS = ("mcpstead", "modelcontextprotocol", "microsoft")
REPOS = ("mcpstead", "mcp-server", "modelcontextprotocol", "servers")


def browse() -> GatewaySnapshot:
    """The usual two upstreams; github also offers two prompts, three resources and a template."""
    return dataclasses.replace(two_upstreams(), offered=OFFERED)


def contents(uri: str) -> dict[str, Any]:
    if uri.endswith("README.md"):
        return {"uri": uri, "mimeType": "text/markdown", "text": README}
    if uri.endswith("logo.png"):
        return {"uri": uri, "mimeType": "image/png", "blob": base64.b64encode(LOGO).decode()}
    if uri.endswith("config.json"):
        return {"uri": uri, "mimeType": "application/json", "text": CONFIG}
    return {"uri": uri, "mimeType": "application/json", "text": f'{{"read": "{uri}"}}'}


async def read(params: dict[str, Any], handler: ClientHandler | None) -> dict[str, Any]:
    if params["uri"] == "github://mcpstead/missing":
        return {"error": {"code": -32002, "message": "Resource not found: github://mcpstead/missing"}}
    return {"result": {"contents": [contents(params["uri"])]}}


async def get_prompt(params: dict[str, Any], handler: ClientHandler | None) -> dict[str, Any]:
    arguments = params.get("arguments", {})
    return {
        "result": {
            "description": "A careful review",
            "messages": [
                {"role": "user", "content": {"type": "text", "text": f"Review {arguments.get('repo')}, please."}},
                {
                    "role": "user",
                    "content": {
                        "type": "resource",
                        "resource": {
                            "uri": "github://mcpstead/config.json",
                            "mimeType": "application/json",
                            "text": CONFIG,
                        },
                    },
                },
                {"role": "assistant", "content": {"type": "image", "mimeType": "image/png", "data": "AAAA"}},
            ],
        }
    }


async def complete(params: dict[str, Any], handler: ClientHandler | None) -> dict[str, Any]:
    """Owners and repositories starting with what was typed; repos of `modelcontextprotocol` only when the
    owner given as context says so."""
    name, value = params["argument"]["name"], params["argument"]["value"]
    pool = {"owner": OWNERS, "repo": REPOS, "repo_of_mcp": ("servers", "specification")}
    context = params.get("context", {}).get("arguments", {})
    key = "repo_of_mcp" if name == "repo" and context.get("owner") == "modelcontextprotocol" else name
    values = [item for item in pool.get(key, ()) if item.startswith(value)]
    return {"result": {"completion": {"values": values[:2], "total": len(values), "hasMore": len(values) > 2}}}


RESPONDERS: dict[str, Responder] = {
    "resources/read": read,
    "prompts/get": get_prompt,
    "completion/complete": complete,
}


def browse_view(view: FakeView) -> FakeView:
    view.responders.update(RESPONDERS)
    return view
