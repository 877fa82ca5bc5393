"""Reconnect backoff: base * 2^(n-1), capped at max, shortened by up to 20% jitter."""

from __future__ import annotations

import random

import pytest

from mcpstead.upstream.backoff import JITTER, backoff_delay


def no_jitter() -> float:
    return 0.0


def full_jitter() -> float:
    return 1.0


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (20, 1.0), (10_000, 1.0), (0, 0.1), (-3, 0.1)],
)
def test_delay_without_jitter(failures: int, seconds: float) -> None:
    assert backoff_delay(failures, 100, 1000, rng=no_jitter) == pytest.approx(seconds)


@pytest.mark.parametrize(("failures", "seconds"), [(1, 0.08), (2, 0.16), (20, 0.8)])
def test_full_jitter_is_80_percent(failures: int, seconds: float) -> None:
    assert JITTER == 0.2
    assert backoff_delay(failures, 100, 1000, rng=full_jitter) == pytest.approx(seconds)


def test_reference_sequence() -> None:
    delays = [backoff_delay(n, 1000, 30000, rng=no_jitter) for n in range(1, 9)]
    assert delays == pytest.approx([1, 2, 4, 8, 16, 30, 30, 30])


def test_never_above_max_nor_below_80_percent() -> None:
    rng = random.Random(1234)
    for failures in range(1, 200):
        delay = backoff_delay(failures, 100, 1000, rng=rng.random)
        uncapped = min(100 * 2 ** min(failures - 1, 30), 1000) / 1000
        assert 0.8 * uncapped - 1e-12 <= delay <= 1.0
        assert delay <= uncapped


def test_default_rng_stays_in_bounds() -> None:
    for _ in range(50):
        assert 0.8 <= backoff_delay(3, 1000, 2000) <= 2.0
