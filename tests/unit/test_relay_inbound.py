"""relay.UpstreamInbound: a task's status notification that overtakes the CreateTaskResult naming it is held
until the task-creating call has ended (tests/integration/test_relay_surface.py has the real-upstream version)."""

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
    return InFlightCall("up", None, None, deadline=0.0)


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
    cancelled = InFlightCall("up", None, None, deadline=0.0, task=task)
    cancelled.cancel("user pressed stop")
    assert cancelled.cancelled_by_client and cancelled.cancel_reason == "user pressed stop"
    await asyncio.gather(task, return_exceptions=True)


class Channel:
    refusal = "the client accepts only JSON answers"

    def __init__(self) -> None:
        self.pushed: list[dict[str, Any]] = []

    def push(self, message: dict[str, Any]) -> bool:
        self.pushed.append(message)
        return True


async def test_a_cancelled_call_cancels_the_requests_it_was_relaying_to_its_client() -> None:
    session = DownstreamSession("s1", "2025-11-25", "client", "1", 0.0, 0.0, 0.0, capabilities={"sampling": {}})
    channel = Channel()
    inbound = UpstreamInbound("up", Hooks())
    work = asyncio.create_task(asyncio.sleep(10))
    deadline = asyncio.get_running_loop().time() + 10
    cancelled = InFlightCall("up", session, channel, deadline, task=work)
    inbound.begin(cancelled, {"name": "sample"})
    sampling = {"jsonrpc": "2.0", "id": 7, "method": "sampling/createMessage", "params": {"messages": []}}
    answer = asyncio.create_task(inbound.answer(sampling, cancelled))
    await asyncio.sleep(0)
    ((relayed_id, downstream_id),) = cancelled.relayed.items()
    assert relayed_id == 7 and channel.pushed[-1]["id"] == downstream_id

    work.cancel()  # the client cancelled the call: its task is being cancelled when the call ends
    inbound.end(cancelled)
    assert channel.pushed[-1] == {
        "jsonrpc": "2.0",
        "method": "notifications/cancelled",
        "params": {"reason": "the request it was made for was cancelled", "requestId": downstream_id},
    }
    assert await asyncio.wait_for(answer, 1) is None  # nothing is sent upstream for it
    await asyncio.gather(work, return_exceptions=True)
