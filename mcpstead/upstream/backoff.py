"""The reconnect delay: exponential, capped, with jitter (the reference gateway's schedule)."""

from __future__ import annotations

import random
from collections.abc import Callable

JITTER = 0.2
"""Backoff delays are shortened by up to 20% at random, so upstreams that fell together don't retry together."""


def backoff_delay(failures: int, base_ms: int, max_ms: int, rng: Callable[[], float] = random.random) -> float:
    """Seconds to wait after the n-th consecutive failure: base * 2^(n-1), capped at max, with jitter."""
    exponent = min(max(failures, 1) - 1, 30)
    delay_ms = min(base_ms * (2**exponent), max_ms)
    return float(delay_ms * (1 - JITTER * rng()) / 1000)
