"""`mcpstead connect`: read the client's messages from stdin and relay them through a GatewayLink.

Requests run concurrently (a long tools/call does not hold up a ping or a cancellation), each sent once the
one before it has gone out to the socket; initialize, notifications and answers to the gateway's requests
are relayed one at a time, in the order the client sent them. The bridge ends when the client closes stdin
or stdout (exit 0), or when the gateway stays out of reach past the retry window (exit 1), and says why on
stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
import sys
from typing import Any

from mcpstead import jsonrpc
from mcpstead.bridge.endpoint import Endpoint
from mcpstead.bridge.link import GatewayLink
from mcpstead.bridge.stdio import ClientLines, ClientWriter, LineTooLongError

EXIT_GATEWAY_GONE = 1
DEFAULT_RETRY_SECONDS = 30.0
ANSWER_GRACE_SECONDS = 1.0
"""How long requests still waiting get, once the gateway is gone, to write the error that says why ..."""
DRAIN_SECONDS = 10.0
"""... and, once the client has closed its input, to write their answers (a script that writes its
requests and closes stdin still gets them)."""


def say(text: str) -> None:
    print(f"mcpstead connect: {text}", file=sys.stderr, flush=True)


async def bridge(endpoint: Endpoint, retry_seconds: float, lines: ClientLines, writer: ClientWriter) -> int:
    await lines.open()
    await writer.open()
    link = GatewayLink(endpoint, writer.write, say, retry_seconds)
    await link.open()
    say(f"relaying stdio to {endpoint.url}")
    if endpoint.auth_expected and endpoint.token is None:
        say("the config has mcp.auth.mode: bearer, but MCPSTEAD_BEARER_TOKEN is not set; requests will be refused")
    requests: dict[Any, asyncio.Task[None]] = {}
    stopped = asyncio.get_running_loop().create_future()
    with contextlib.ExitStack() as stack:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                asyncio.get_running_loop().add_signal_handler(signum, _stop, stopped, signal.Signals(signum).name)
                stack.callback(asyncio.get_running_loop().remove_signal_handler, signum)
        reading = asyncio.create_task(_pump(lines, writer, link, requests))
        done, _ = await asyncio.wait({reading, link.gone, stopped}, return_when=asyncio.FIRST_COMPLETED)
        code = 0
        if link.gone in done:
            say(f"{link.gone.result()}; exiting")
            code = EXIT_GATEWAY_GONE
        elif stopped in done:
            say(f"stopped by {stopped.result()}")
        else:
            say(reading.result())
        reading.cancel()
        waiting = [task for task in requests.values() if not task.done()]
        if waiting and stopped not in done:
            await asyncio.wait(waiting, timeout=ANSWER_GRACE_SECONDS if link.gone in done else DRAIN_SECONDS)
        for task in waiting:
            task.cancel()
        await asyncio.gather(reading, *waiting, return_exceptions=True)
        await link.close()
        writer.close()
    return code


def _stop(stopped: asyncio.Future[str], name: str) -> None:
    if not stopped.done():
        stopped.set_result(name)


async def _pump(
    lines: ClientLines, writer: ClientWriter, link: GatewayLink, requests: dict[Any, asyncio.Task[None]]
) -> str:
    """Relay the client's messages until it closes its side; returns why it ended. Each message waits until
    the request before it has been handed to the socket: they travel on separate connections, and a
    cancellation sent at once could reach the gateway first (handed over first, it all but never does)."""
    previous = asyncio.Event()
    previous.set()
    while True:
        try:
            line = await lines.next()
        except LineTooLongError:
            say("a message from the client was too long and was dropped")
            await writer.write(_error(None, jsonrpc.PARSE_ERROR, "Parse error: the message is too long"))
            continue
        if line is None:
            return "the client closed its input; the session is ended"
        if writer.closed:
            return "the client closed its output; the session is ended"
        if not line.strip():
            continue
        try:
            message = jsonrpc.parse(line)
        except ValueError as exc:
            say(f"the client sent a line that is not JSON ({exc})")
            await writer.write(_error(None, jsonrpc.PARSE_ERROR, f"Parse error: {exc}"))
            continue
        if not isinstance(message, (dict, list)):
            await writer.write(_error(None, jsonrpc.INVALID_REQUEST, "Invalid Request: expected an object"))
            continue
        await previous.wait()
        if isinstance(message, dict) and _is_modern_cancellation(message, link):
            task = requests.get(_cancelled_id(message))
            if task is not None:
                task.cancel()  # closing its stream is how a 2026-07-28 request is cancelled over HTTP
            continue
        if isinstance(message, dict) and "method" in message:
            link.cancelled(_cancelled_id(message))
        if isinstance(message, list) or (jsonrpc.is_request(message) and message.get("method") != "initialize"):
            request_id = message.get("id") if isinstance(message, dict) else object()
            previous = asyncio.Event()
            task = asyncio.create_task(link.send(message, previous))
            requests[request_id] = task
            task.add_done_callback(functools.partial(_forget, requests, request_id))
        else:
            await link.send(message)


def _forget(requests: dict[Any, asyncio.Task[None]], key: Any, task: asyncio.Task[None]) -> None:
    if requests.get(key) is task:
        del requests[key]


def _cancelled_id(message: dict[str, Any]) -> Any:
    params = message.get("params")
    if message.get("method") == "notifications/cancelled" and isinstance(params, dict):
        return params.get("requestId")
    return None


def _is_modern_cancellation(message: dict[str, Any], link: GatewayLink) -> bool:
    """A 2026-07-28 client cancels over stdio with notifications/cancelled; over HTTP the request's stream is
    closed instead, so the notification is not sent on."""
    request_id = _cancelled_id(message)
    return request_id is not None and link.is_modern_in_flight(request_id)


def _error(request_id: Any, code: int, text: str) -> bytes:
    return jsonrpc.encode(jsonrpc.error_response(request_id, code, text))


def run_connect(endpoint: Endpoint, retry_seconds: float = DEFAULT_RETRY_SECONDS) -> int:
    try:
        return asyncio.run(bridge(endpoint, retry_seconds, ClientLines(), ClientWriter()))
    except KeyboardInterrupt:
        return 0
