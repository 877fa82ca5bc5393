"""mcpstead: one MCP endpoint in front of many upstream MCP servers."""

__version__ = "0.2.0"

__all__ = ["__version__"]
