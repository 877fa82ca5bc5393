"""Dashboard screens: the main dashboard, pages over it (call detail, tool runner) and dialogs."""

from tui.screens.call_detail import CallDetailScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.dashboard import DashboardScreen, OverviewPane
from tui.screens.help import HelpScreen
from tui.screens.reload_errors import ReloadErrorsScreen
from tui.screens.schema import SchemaScreen
from tui.screens.tool_runner import ToolRunnerScreen
from tui.screens.upstream_detail import UpstreamDetailScreen

__all__ = [
    "CallDetailScreen",
    "ConfirmScreen",
    "DashboardScreen",
    "HelpScreen",
    "OverviewPane",
    "ReloadErrorsScreen",
    "SchemaScreen",
    "ToolRunnerScreen",
    "UpstreamDetailScreen",
]
