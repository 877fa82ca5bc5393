"""mcpstead: one MCP endpoint in front of many upstream MCP servers."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mcpstead")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
