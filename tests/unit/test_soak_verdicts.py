"""The soak's flatness rule (bench/soak.py): pure arithmetic over samples, so it is tested here."""

from __future__ import annotations

from bench.soak import flat, growth


def test_growth_compares_the_medians_of_the_first_and_last_thirds_of_the_last_half() -> None:
    values = [100.0] * 6 + [10.0, 10.0, 11.0, 11.0, 12.0, 12.0]
    assert growth(values) == (10.0, 12.0, 0.2)


def test_flat_allows_under_five_percent_or_one_for_small_counts() -> None:
    assert flat([50, 60, 100, 101, 103, 104.9])
    assert not flat([50, 60, 100, 101, 104, 107])  # +6% over the last half: a leak
    assert flat([9, 9, 15, 15, 16, 16])  # one more task than before, out of 15
    assert not flat([9, 9, 15, 15, 17, 17])
    assert flat([200, 180, 100, 100, 90, 90])  # shrinking is fine
