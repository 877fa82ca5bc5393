"""Thick tests: the dashboard on a real Gateway (with the stdio demo server, calling a tool by hand; reloading a
broken file)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import Input

from mcpstead.config_load import load_config, parse_config
from mcpstead.gateway import Gateway
from tests.tui.helpers import cell, dashboard, wait_for_screen, wait_until
from tui.app import DashboardApp
from tui.messages import RunTool
from tui.screens import ReloadErrorsScreen, ToolRunnerScreen

CONFIG = "servers:\n  - name: demo\n    command: mcpstead\n    args: [demo-server]\n"
READY_TIMEOUT = 20.0
CALL_TIMEOUT = 10.0


async def wait_ready(gateway: Gateway, upstream: str) -> None:
    """Until `upstream` is ready, following the gateway's own change notifications (bounded)."""

    def ready() -> bool:
        return any(u.name == upstream and u.status == "ready" for u in gateway.snapshot().upstreams)

    async with asyncio.timeout(READY_TIMEOUT):
        seen = gateway.version
        while not ready():
            seen = await gateway.wait_for_change(seen, timeout=1.0)


async def test_tool_runner_calls_demo_add_through_a_real_gateway() -> None:
    async with Gateway(parse_config(CONFIG, "test.yaml")) as gateway:
        await wait_ready(gateway, "demo")
        app = DashboardApp(gateway, frame_interval=0.05)
        app.animation_level = "none"
        async with app.run_test(size=(120, 36)) as pilot:
            dash = dashboard(pilot)
            await wait_until(pilot, lambda: "demo__add" in dash.tools.keys)
            assert cell(dash.upstreams, "demo", "status") == "ready"
            assert cell(dash.upstreams, "demo", "transport") == "stdio"

            await pilot.press("tab")
            dash.tools.move_cursor(row=dash.tools.get_row_index("demo__add"))
            await pilot.press("c")
            runner = await wait_for_screen(pilot, ToolRunnerScreen)
            a, b = runner.form.widget("a"), runner.form.widget("b")
            assert isinstance(a, Input) and isinstance(b, Input)
            await wait_until(pilot, lambda: pilot.app.focused is a)

            await pilot.press("2", "tab", "3", "ctrl+s")
            await wait_until(pilot, lambda: runner.outcome is not None, timeout=CALL_TIMEOUT)

            assert runner.outcome is not None and runner.outcome.error is None
            assert runner.outcome.result["structuredContent"] == {"sum": 5}
            assert '"sum": 5' in runner.result.text
            assert runner.result.text.splitlines()[1].strip() == "5"  # the text block, right under its heading

            newest = gateway.snapshot().calls[0]
            assert (newest.tool, newest.source, newest.arguments) == ("demo__add", "dashboard", {"a": 2, "b": 3})
            assert runner.recorded is not None and runner.recorded.seq == newest.seq

            await pilot.press("escape")
            await wait_until(pilot, lambda: str(newest.seq) in dash.calls.keys)
            assert cell(dash.calls, str(newest.seq), "client") == "dashboard"
            assert cell(dash.calls, str(newest.seq), "outcome") == "ok"


async def test_runner_progress_and_cancel_through_a_real_gateway() -> None:
    """demo__sleep's notifications/progress move the bar; ctrl+x sends notifications/cancelled and the
    gateway answers -32800."""
    async with Gateway(parse_config(CONFIG, "test.yaml")) as gateway:
        await wait_ready(gateway, "demo")
        app = DashboardApp(gateway, frame_interval=0.05)
        app.animation_level = "none"
        async with app.run_test(size=(120, 36)) as pilot:
            pilot.app.post_message(RunTool("demo__sleep", {"seconds": 30, "steps": 300}))
            runner = await wait_for_screen(pilot, ToolRunnerScreen)
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: (runner.progress.bar.percentage or 0) > 0, timeout=CALL_TIMEOUT)
            assert "slept" in str(runner.progress.message.render())

            await pilot.press("ctrl+x")
            await wait_until(pilot, lambda: runner.outcome is not None, timeout=CALL_TIMEOUT)
            assert runner.outcome is not None and runner.outcome.kind == "cancelled"
            assert runner.outcome.error is not None and runner.outcome.error["code"] == -32800
            assert "(code -32800)" in runner.result.text
            assert app.runs and next(iter(app.runs)) is runner.outcome


async def test_a_refused_reload_shows_where_each_problem_is_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("servers: []\n", encoding="utf-8")
    async with Gateway(load_config(path, {})) as gateway:
        app = DashboardApp(gateway, frame_interval=0.05)
        app.animation_level = "none"
        async with app.run_test(size=(120, 36)) as pilot:
            path.write_text("port: high\nservers:\n  - name: typo\n    urll: http://x/mcp\n", encoding="utf-8")
            await pilot.press("ctrl+r")
            dialog = await wait_for_screen(pilot, ReloadErrorsScreen)
            assert [error.split(": ", 1)[0] for error in dialog.errors] == [f"{path}:1:7", f"{path}:4:5"]
            assert dialog.errors[1].startswith(f"{path}:4:5: servers[0] (name: typo).urll: unknown key")
            shown = "".join(dialog.query_one("#error-list").text.split())  # type: ignore[attr-defined]
            assert all("".join(error.split()) in shown for error in dialog.errors)  # wrapped to the dialog's width
