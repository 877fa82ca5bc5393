"""Dashboard screens: the main dashboard, pages over it (call detail, tool runner) and dialogs."""

from tui.screens.call_detail import CallDetailScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.dashboard import DashboardScreen, OverviewPane
from tui.screens.elicitation import ElicitationScreen
from tui.screens.help import HelpScreen
from tui.screens.history import HistoryScreen
from tui.screens.prompt import PromptScreen
from tui.screens.raw_request import RawRequestScreen
from tui.screens.reload_errors import ReloadErrorsScreen
from tui.screens.request_screen import RequestScreen
from tui.screens.resource import ResourceScreen
from tui.screens.sampling import SamplingScreen
from tui.screens.save_blob import SaveBlobScreen
from tui.screens.schema import SchemaScreen
from tui.screens.template import TemplateScreen
from tui.screens.tool_runner import ToolRunnerScreen
from tui.screens.upstream_detail import UpstreamDetailScreen

__all__ = [
    "CallDetailScreen",
    "ConfirmScreen",
    "DashboardScreen",
    "ElicitationScreen",
    "HelpScreen",
    "HistoryScreen",
    "OverviewPane",
    "PromptScreen",
    "RawRequestScreen",
    "ReloadErrorsScreen",
    "RequestScreen",
    "ResourceScreen",
    "SamplingScreen",
    "SaveBlobScreen",
    "SchemaScreen",
    "TemplateScreen",
    "ToolRunnerScreen",
    "UpstreamDetailScreen",
]
