"""Dashboard widgets. Each one turns part of a `GatewaySnapshot` into a keyed, in-place update."""

from tui.widgets.calls import CallTable
from tui.widgets.header import StatusHeader
from tui.widgets.keyed_table import ColumnSpec, KeyedTable, Ordered
from tui.widgets.tools import ToolTable
from tui.widgets.upstreams import UpstreamTable

__all__ = ["CallTable", "ColumnSpec", "KeyedTable", "Ordered", "StatusHeader", "ToolTable", "UpstreamTable"]
