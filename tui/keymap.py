"""The app-wide keys, and the help screen's key list gathered from every declared binding."""

from __future__ import annotations

from textual.binding import Binding, BindingType

from tui.screens import CallDetailScreen, DashboardScreen, OverviewPane, ToolRunnerScreen
from tui.screens.help import HelpSection
from tui.widgets import CallTable, LogPanel, SessionTable, ToolTable, UpstreamTable

APP_BINDINGS: list[BindingType] = [
    Binding("q", "quit", "Quit"),
    # Textual binds ctrl+c to copy/help; on a gateway console it must quit like the headless mode does.
    Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    Binding("question_mark", "help", "Help", key_display="?"),
    Binding("ctrl+r", "reload", "Reload", priority=True),
    Binding("R", "reload", "Reload", show=False),
]

PALETTE_BINDING = Binding("ctrl+p", "command_palette", "Command palette")


def help_sections() -> list[HelpSection]:
    """The help screen's contents, taken from the bindings that are actually declared."""
    return [
        ("Everywhere on the dashboard", [*APP_BINDINGS, PALETTE_BINDING, *DashboardScreen.BINDINGS]),
        ("Overview (any panel)", OverviewPane.BINDINGS),
        ("Upstreams", UpstreamTable.BINDINGS),
        ("Tools", ToolTable.BINDINGS),
        ("Recent calls", CallTable.BINDINGS),
        ("Sessions", SessionTable.BINDINGS),
        ("Logs", LogPanel.BINDINGS),
        ("Call detail", CallDetailScreen.BINDINGS),
        ("Tool runner", ToolRunnerScreen.BINDINGS),
    ]
