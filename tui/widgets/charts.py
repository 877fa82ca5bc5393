"""The selected upstream's recent traffic as sparklines: calls per second, errors, p50 and p99 latency."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Sparkline, Static

from tui import charts, formatting
from tui.charts import ChartHistory


class ChartRow(Horizontal):
    """A label, a sparkline and its figure; every row's sparkline is as wide, so the time axes line up."""

    def __init__(self, label: str, *, id: str) -> None:
        super().__init__(classes="chart-row")
        self._label = label
        self.chart = Sparkline([], id=id)
        self.figure = Static(classes="chart-figure")
        self._shown: Text | None = None

    def compose(self) -> ComposeResult:
        yield Label(self._label, classes="chart-label")
        yield self.chart
        yield self.figure

    def show(self, series: Sequence[float], figure: Text) -> None:
        self.chart.data = series
        if figure != self._shown:
            self._shown = figure
            self.figure.update(figure)


class ChartPanel(Vertical):
    """The last minutes of one upstream; errors are drawn in the error colour and counted in red."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Charts"
        self.calls = ChartRow("calls/s", id="calls-per-second")
        self.errors = ChartRow("errors", id="errors-per-second")
        self.p50 = ChartRow("p50 ms", id="p50-latency")
        self.p99 = ChartRow("p99 ms", id="p99-latency")

    def compose(self) -> ComposeResult:
        yield self.calls
        yield self.errors
        yield self.p50
        yield self.p99

    def show(self, upstream: str | None, history: ChartHistory) -> None:
        """Chart `upstream` (None: nothing selected, flat lines) from `history`."""
        minutes = history.seconds // 60
        title = f"{upstream} · last {minutes} min" if upstream is not None else "Charts"
        if self.border_title != title:
            self.border_title = title
        if upstream is None:
            calls = errors = p50 = p99 = [0.0] * history.seconds
        else:
            calls, errors = history.calls(upstream), history.errors(upstream)
            p50, p99 = history.latency(upstream, 0.5), history.latency(upstream, 0.99)
        self.calls.show(calls, current_and_peak(charts.recent_rate(calls), max(calls)))
        failed = charts.count(errors)
        if failed:
            self.errors.show(errors, Text(f"{failed} in {minutes} min", style="bold red", end=""))
        else:
            self.errors.show(errors, Text("none", style="dim", end=""))
        self.p50.show(p50, current_and_peak(charts.latest(p50), max(p50)))
        self.p99.show(p99, current_and_peak(charts.latest(p99), max(p99)))


def current_and_peak(current: float, peak: float) -> Text:
    """ "2.0 max 9.0": the value now, then the highest one charted."""
    return Text.assemble((formatting.rate(current), "bold"), (" max ", "dim"), formatting.rate(peak), end="")
