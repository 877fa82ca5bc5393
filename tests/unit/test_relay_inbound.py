"""relay.UpstreamInbound: a task's status notification that overtakes the CreateTaskResult naming it is held
until the task-creating call has ended (tests/integration/test_relay.py has the real-upstream version)."""

from __future__ import annotations

import asyncio
from typing import Any

from mcpstead.relay import InFlightCall, UpstreamInbound
from mcpstead.sessions import DownstreamSession


class Hooks:
    def __init__(self) -> None:
        self.untied_messages: list[dict[str, Any]] = []

    def list_changed(self, upstream: str, kind: str) -> None:
        pass

    def resource_updated(self, upstream: str, message: dict[str, Any]) -> None:
        pass

    def untied(self, upstream: str, owner: DownstreamSession | None, message: dict[str, Any]) -> None:
        self.untied_messages.append(message)

    async def untied_request(
        self, upstream: str, owner: DownstreamSession | None, message: dict[str, Any]
    ) -> dict[str, Any] | None:
        return None


STATUS = {"jsonrpc": "2.0", "method": "notifications/tasks/status", "params": {"taskId": "t1", "status": "working"}}


def call() -> InFlightCall:
    return InFlightCall("up", None, 1, None, deadline=0.0)


async def test_a_status_during_a_task_creating_call_waits_for_the_call_to_end() -> None:
    hooks = Hooks()
    inbound = UpstreamInbound("up", hooks)
    creating = call()
    inbound.begin(creating, {"name": "research", "task": {"ttl": 1000}})
    inbound.deliver(STATUS)
    assert hooks.untied_messages == []
    inbound.end(creating)
    assert hooks.untied_messages == []  # not yet: the caller records the task first, in this loop step
    await asyncio.sleep(0)
    assert hooks.untied_messages == [STATUS]


async def test_a_status_with_no_task_creating_call_in_flight_goes_at_once() -> None:
    hooks = Hooks()
    inbound = UpstreamInbound("up", hooks)
    plain = call()
    inbound.begin(plain, {"name": "echo"})
    inbound.deliver(STATUS)
    assert hooks.untied_messages == [STATUS]
    inbound.end(plain)


async def test_the_clients_cancel_reason_is_kept_for_the_upstream() -> None:
    task = asyncio.create_task(asyncio.sleep(10))
    cancelled = InFlightCall("up", None, 1, None, deadline=0.0, task=task)
    cancelled.cancel("user pressed stop")
    assert cancelled.cancelled_by_client and cancelled.cancel_reason == "user pressed stop"
    await asyncio.gather(task, return_exceptions=True)
