"""The human at the dashboard answering a real upstream (the conformance server) through a real gateway:
the tool runner's call asks for elicitation and sampling, and the dialogs' answers reach the tool."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from tests.conformance.suite import conformance_server
from tests.integration.gateway_harness import run_gateway
from tests.integration.test_traffic_capture import HoldView
from tests.tui.helpers import wait_for_screen, wait_until
from tui.app import DashboardApp
from tui.messages import RunTool
from tui.screens import ElicitationScreen, SamplingScreen, ToolRunnerScreen

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

ANSWER_TIMEOUT = 20.0


async def test_elicitation_and_sampling_are_answered_from_the_dialogs(tmp_path: Path) -> None:
    holder = HoldView()
    async with conformance_server(stderr_path=tmp_path / "conf.log") as conf:
        yaml = f"servers:\n  - name: conf\n    url: {conf.url}\n"
        async with run_gateway(yaml, frontend=holder) as gateway:
            await gateway.wait_connected("conf")
            assert holder.view is not None
            app = DashboardApp(holder.view, frame_interval=0.05)
            app.animation_level = "none"
            async with app.run_test(size=(80, 24)) as pilot:
                app.post_message(RunTool("conf__test_elicitation", {"message": "who are you?"}))
                runner = await wait_for_screen(pilot, ToolRunnerScreen)
                await pilot.press("ctrl+s")
                dialog = await wait_for_screen(pilot, ElicitationScreen, timeout=ANSWER_TIMEOUT)
                assert "who are you?" in str(dialog.query_one("#elicit-message").render())
                username, email = dialog.form.widget("username"), dialog.form.widget("email")
                assert isinstance(username, Input) and isinstance(email, Input)
                username.value, email.value = "ada", "ada@example.com"
                await pilot.press("ctrl+s")
                await wait_until(pilot, lambda: runner.outcome is not None, timeout=ANSWER_TIMEOUT)
                assert 'action=accept, content={"username": "ada", "email": "ada@example.com"}' in runner.result.text

                await pilot.press("escape")
                app.post_message(RunTool("conf__test_sampling", {"prompt": "Capital of France?"}))
                runner = await wait_for_screen(pilot, ToolRunnerScreen)
                await pilot.press("ctrl+s")
                sampling = await wait_for_screen(pilot, SamplingScreen, timeout=ANSWER_TIMEOUT)
                assert "Capital of France?" in sampling.query_one("#sampling-request").text  # type: ignore[attr-defined]
                await pilot.press(*"Paris")
                await pilot.press("ctrl+s")
                await wait_until(pilot, lambda: runner.outcome is not None, timeout=ANSWER_TIMEOUT)
                assert "LLM response: Paris" in runner.result.text
