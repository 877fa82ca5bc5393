"""Dashboard widgets. Each one turns part of a `GatewaySnapshot` into a keyed, in-place update."""

from tui.widgets.argument_form import ArgumentForm
from tui.widgets.calls import CallTable
from tui.widgets.charts import ChartPanel
from tui.widgets.completing_form import CompletingField, CompletingForm
from tui.widgets.document import Document
from tui.widgets.header import StatusHeader
from tui.widgets.keyed_table import ColumnSpec, KeyedTable, Ordered
from tui.widgets.lists import CatalogLists
from tui.widgets.logs import LogPanel
from tui.widgets.offered import PromptTable, ResourceTable, TemplateTable
from tui.widgets.sessions import SessionTable
from tui.widgets.tools import ToolTable
from tui.widgets.traffic import TrafficPanel, TrafficTable
from tui.widgets.upstreams import UpstreamTable

__all__ = [
    "ArgumentForm",
    "CallTable",
    "CatalogLists",
    "ChartPanel",
    "ColumnSpec",
    "CompletingField",
    "CompletingForm",
    "Document",
    "KeyedTable",
    "LogPanel",
    "Ordered",
    "PromptTable",
    "ResourceTable",
    "SessionTable",
    "StatusHeader",
    "TemplateTable",
    "ToolTable",
    "TrafficPanel",
    "TrafficTable",
    "UpstreamTable",
]
