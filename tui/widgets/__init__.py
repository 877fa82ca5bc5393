"""Dashboard widgets. Each one turns part of a `GatewaySnapshot` into a keyed, in-place update."""

from tui.widgets.argument_form import ArgumentForm
from tui.widgets.calls import CallTable
from tui.widgets.document import Document
from tui.widgets.header import StatusHeader
from tui.widgets.keyed_table import ColumnSpec, KeyedTable, Ordered
from tui.widgets.logs import LogPanel
from tui.widgets.sessions import SessionTable
from tui.widgets.tools import ToolTable
from tui.widgets.upstreams import UpstreamTable

__all__ = [
    "ArgumentForm",
    "CallTable",
    "ColumnSpec",
    "Document",
    "KeyedTable",
    "LogPanel",
    "Ordered",
    "SessionTable",
    "StatusHeader",
    "ToolTable",
    "UpstreamTable",
]
