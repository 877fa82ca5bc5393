"""`mcpstead connect`: a stdio MCP server that is a Streamable HTTP client of a running gateway, so that a client
which speaks only stdio can use the gateway. It relays messages as they are; only the transport changes."""
