"""bench/curves.py's growth check: the exponent of a curve's marginal cost, and when noise hides it."""

from __future__ import annotations

import pytest

from bench.curves import NOISE_FRACTION, check_total, growth


def test_linear_and_quadratic_marginal_costs_give_their_exponents() -> None:
    assert growth([1, 10, 100], [5.0, 14.0, 104.0])[0] == pytest.approx(1.0)
    assert growth([1, 10, 100], [5.0, 86.0, 9806.0])[0] == pytest.approx(2.0, abs=0.01)


def test_a_middle_rise_within_noise_falls_back_to_the_raw_ratio() -> None:
    """50 upstreams: 0.381 s, 0.384 s, 0.679 s. A 3 ms marginal would read as exponent 2.7."""
    exponent, method = growth([1, 10, 50], [0.381, 0.384, 0.679], NOISE_FRACTION)
    assert method == "raw 1->50" and exponent == pytest.approx(0.148, abs=0.01)
    exponent, method = growth([1, 10, 50], [0.381, 0.43, 0.679], NOISE_FRACTION)  # 49 ms: above noise
    assert method.startswith("marginal") and exponent == pytest.approx(1.07, abs=0.01)
    assert not check_total("by upstreams", "ready_s", [1, 10, 50], [0.381, 0.384, 0.679]).superlinear


def test_memory_is_read_exactly_so_a_small_marginal_still_counts() -> None:
    """RSS has a large fixed part (the idle gateway) and a small, exact marginal (1.5 MiB per 1,000)."""
    check = check_total("all", "rss_mib", [0, 1000, 10000], [47.6, 49.1, 59.7])
    assert check.method.startswith("marginal") and check.value == pytest.approx(0.91, abs=0.01)
