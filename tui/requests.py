"""One request sent through the gateway as the dashboard's client, reduced to its result or a readable error."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mcpstead.state import GatewayView


@dataclass(frozen=True, slots=True)
class Answer:
    """Either the JSON-RPC result object or the error, as one line for the error style."""

    result: dict[str, Any]
    error: str | None = None


async def ask(view: GatewayView, method: str, params: Mapping[str, Any], *, timeout: float) -> Answer:
    """Send `method` and wait at most `timeout` seconds; giving up (or being cancelled) cancels it like a
    client would, with notifications/cancelled."""
    running = view.start_request(method, params)
    try:
        async with asyncio.timeout(timeout):
            response = await asyncio.shield(running.answer)
    except TimeoutError:
        await running.cancel(f"no answer within {timeout:.0f} s")
        return Answer({}, f"no answer within {timeout:.0f} s")
    except asyncio.CancelledError:
        await running.cancel("the dashboard closed the page that asked")
        raise
    except Exception as error:  # the gateway must never take a page down with it
        return Answer({}, f"the request failed: {error}")
    failed = response.get("error")
    if isinstance(failed, Mapping):
        return Answer({}, f"{failed.get('message')} (code {failed.get('code')})")
    result = response.get("result")
    return Answer(dict(result) if isinstance(result, Mapping) else {})


def send(view: GatewayView, method: str, params: Mapping[str, Any]) -> None:
    """Send `method` and let it finish on its own (an unsubscribe as a page closes): nobody waits for it."""
    view.start_request(method, params).answer.add_done_callback(_forget)


def _forget(task: asyncio.Task[dict[str, Any]]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved, so a failure is not reported as never retrieved
