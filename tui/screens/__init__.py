"""Dashboard screens."""

from tui.screens.dashboard import DashboardScreen

__all__ = ["DashboardScreen"]
