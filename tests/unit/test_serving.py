"""CoalescingTransport: a response's head and body leave in one write."""

from __future__ import annotations

import asyncio
from typing import Any

from mcpstead.downstream.serving import CoalescingTransport


class RecordingTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> Any:
        return f"extra:{name}"


async def test_head_and_body_go_out_together() -> None:
    inner = RecordingTransport()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    assert inner.writes == []
    transport.write(b"body")
    assert inner.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody"]
    assert transport.get_extra_info("peername") == "extra:peername"


async def test_a_lone_write_leaves_at_the_end_of_the_loop_step() -> None:
    inner = RecordingTransport()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b": keepalive\n\n")
    assert inner.writes == []
    await asyncio.sleep(0)
    assert inner.writes == [b": keepalive\n\n"]


async def test_close_sends_what_is_held_first() -> None:
    inner = RecordingTransport()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"head")
    transport.close()
    assert inner.writes == [b"head"] and inner.closed
