"""The Textual dashboard for mcpstead.

It sees the gateway only through `mcpstead.state` (frozen snapshots plus a few async commands), so the
headless core never depends on it. `tui.frontend.TuiFrontend` is the entry point the runner uses.
"""
