"""An `mcp` SDK server whose lists and resources change at run time (its `touch` tool says `note://a`
changed, `grow` adds a tool), for the tests of a 2026-07-28 upstream's subscriptions/listen stream. Run as a
script, it serves stdio."""

from __future__ import annotations

from mcp.server.mcpserver import Context, MCPServer


def build_changing_upstream() -> MCPServer:
    server = MCPServer("changing")

    @server.resource("note://a", description="A note that changes")
    def note() -> str:
        return "a note"

    @server.tool(description="Says the note changed.")
    async def touch(ctx: Context) -> str:
        await ctx.notify_resource_updated("note://a")
        return "touched"

    @server.tool(description="Adds a tool.")
    async def grow(ctx: Context) -> str:
        server.add_tool(lambda: "new", name="sprout", description="added later")
        await ctx.notify_tools_changed()
        return "grown"

    return server


if __name__ == "__main__":
    build_changing_upstream().run("stdio")
