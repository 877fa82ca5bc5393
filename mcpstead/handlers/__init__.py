"""One module per MCP feature; router.py puts their handlers in the method table."""
