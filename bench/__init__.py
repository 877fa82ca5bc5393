"""mcpstead's benchmark: direct vs mcpstead (headless, dashboard) vs FastMCP's proxy. Run `python -m bench.run`."""
