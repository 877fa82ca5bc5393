"""Upstream side: one persistent connection per configured MCP server, kept alive by a supervisor."""
