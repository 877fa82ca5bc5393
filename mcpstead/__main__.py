"""`python -m mcpstead` runs the same CLI as the `mcpstead` entry point."""

from mcpstead.cli import main

raise SystemExit(main())
