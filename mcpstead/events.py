"""EventBus: discrete notices (upstream down, reload failed) for observers that must never slow the core."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class UpstreamConnected:
    upstream: str
    tools: int


@dataclass(frozen=True, slots=True)
class UpstreamDisconnected:
    upstream: str
    error: str


@dataclass(frozen=True, slots=True)
class ToolCallFailed:
    tool: str
    error: str


@dataclass(frozen=True, slots=True)
class ReloadSucceeded:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    restarted: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReloadFailed:
    errors: tuple[str, ...]


Notice = UpstreamConnected | UpstreamDisconnected | ToolCallFailed | ReloadSucceeded | ReloadFailed


class Subscription:
    """A bounded queue that drops the oldest notice when full, so a slow reader never blocks a publisher."""

    def __init__(self, maxlen: int) -> None:
        self._items: deque[Notice] = deque(maxlen=maxlen)
        self._ready = asyncio.Event()
        self.dropped = 0

    def put(self, notice: Notice) -> None:
        if len(self._items) == self._items.maxlen:
            self.dropped += 1
        self._items.append(notice)
        self._ready.set()

    async def get(self) -> Notice:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()

    async def __aiter__(self) -> AsyncIterator[Notice]:
        while True:
            yield await self.get()


class EventBus:
    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []

    def subscribe(self, maxlen: int = 100) -> Subscription:
        subscription = Subscription(maxlen)
        self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)

    def publish(self, notice: Notice) -> None:
        for subscription in self._subscriptions:
            subscription.put(notice)
