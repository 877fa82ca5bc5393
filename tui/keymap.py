"""The app-wide keys, and the help screen's key list gathered from every declared binding."""

from __future__ import annotations

from textual.binding import Binding, BindingType

from tui.screens import (
    CallDetailScreen,
    DashboardScreen,
    ElicitationScreen,
    HistoryScreen,
    OverviewPane,
    PromptScreen,
    RawRequestScreen,
    RequestScreen,
    ResourceScreen,
    SamplingScreen,
    SaveBlobScreen,
    TemplateScreen,
    ToolRunnerScreen,
)
from tui.screens.help import HelpSection
from tui.screens.traffic_detail import TrafficDetailScreen
from tui.widgets import (
    CallTable,
    CompletingField,
    LogPanel,
    PromptTable,
    ResourceTable,
    SessionTable,
    TemplateTable,
    ToolTable,
    TrafficTable,
    UpstreamTable,
)

APP_BINDINGS: list[BindingType] = [
    Binding("q", "quit", "Quit"),
    # Textual binds ctrl+c to copy/help; on a gateway console it must quit like the headless mode does.
    Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    Binding("question_mark", "help", "Help", key_display="?"),
    Binding("ctrl+r", "reload", "Reload", priority=True),
    Binding("R", "reload", "Reload", show=False),
    # Not in the footer (no room at 80 columns); the help screen and the palette list them.
    Binding("h", "history", "Run history", show=False),
    Binding("j", "raw_request", "JSON-RPC request", show=False),
]

PALETTE_BINDING = Binding("ctrl+p", "command_palette", "Command palette")


def help_sections() -> list[HelpSection]:
    """The help screen's contents, taken from the bindings that are actually declared."""
    return [
        ("Everywhere on the dashboard", [*APP_BINDINGS, PALETTE_BINDING, *DashboardScreen.BINDINGS]),
        ("Overview (any panel)", OverviewPane.BINDINGS),
        ("Upstreams", UpstreamTable.BINDINGS),
        ("Tools", ToolTable.BINDINGS),
        ("Prompts, resources, templates", [*PromptTable.BINDINGS, *ResourceTable.BINDINGS, *TemplateTable.BINDINGS]),
        ("Recent calls", CallTable.BINDINGS),
        ("Sessions", SessionTable.BINDINGS),
        ("Logs", LogPanel.BINDINGS),
        ("Traffic", TrafficTable.BINDINGS),
        ("Message (from Traffic)", TrafficDetailScreen.BINDINGS),
        ("Call detail", CallDetailScreen.BINDINGS),
        ("Tool runner", ToolRunnerScreen.BINDINGS),
        ("JSON-RPC request", RawRequestScreen.BINDINGS),
        ("While a runner or JSON-RPC request runs", RequestScreen.BINDINGS),
        ("Run history", HistoryScreen.BINDINGS),
        ("The server asks for input (elicitation)", ElicitationScreen.BINDINGS),
        ("The server asks you to be the model (sampling)", SamplingScreen.BINDINGS),
        ("Resource", ResourceScreen.BINDINGS),
        ("Save blob", SaveBlobScreen.BINDINGS),
        ("Prompt", PromptScreen.BINDINGS),
        ("Template", TemplateScreen.BINDINGS),
        ("A prompt or template field", CompletingField.BINDINGS),
    ]
