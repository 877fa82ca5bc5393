"""The chart history: per-second rates from counter diffs, latency from the recent-call ring."""

from __future__ import annotations

import pytest

from mcpstead.state import CallView, GatewaySnapshot
from tests.tui.fakes import T0, call, snapshot, upstream
from tui.charts import LATENCY_SAMPLES, ChartHistory, count, latest, percentile, recent_rate


def counters(*calls: CallView, **counts: tuple[int, int]) -> GatewaySnapshot:
    """A snapshot with one upstream per keyword: name=(calls, errors)."""
    upstreams = tuple(upstream(name, calls=c, errors=e) for name, (c, e) in counts.items())
    return snapshot(upstreams, tuple(sorted(calls, key=lambda c: -c.seq)))


def history_of(*steps: tuple[float, GatewaySnapshot], seconds: int = 10) -> ChartHistory:
    history = ChartHistory(seconds=seconds)
    for at, shown in steps:
        history.observe(shown, T0 + at)
    return history


def test_the_first_snapshot_is_only_a_baseline() -> None:
    history = history_of((0, counters(a=(42, 3))), (1, counters(a=(42, 3))))
    assert history.calls("a") == [0.0] * 10
    assert history.errors("a") == [0.0] * 10
    assert history.calls() == [0.0] * 10


def test_counter_diffs_are_calls_per_second_oldest_first_without_the_second_in_progress() -> None:
    history = history_of(
        (0.5, counters(a=(10, 0))),
        (1.5, counters(a=(13, 0))),
        (2.5, counters(a=(18, 1))),
        (3.5, counters(a=(19, 1))),  # second 3 is in progress: not shown yet
    )
    assert history.calls("a") == [0.0] * 8 + [3.0, 5.0]
    assert history.errors("a") == [0.0] * 8 + [0.0, 1.0]
    assert len(history.calls("a")) == 10


def test_snapshots_within_one_second_add_up() -> None:
    history = history_of(
        (0.0, counters(a=(0, 0))),
        (1.0, counters(a=(2, 0))),
        (1.2, counters(a=(5, 0))),
        (1.8, counters(a=(6, 0))),
        (2.0, counters(a=(6, 0))),
    )
    assert history.calls("a")[-1] == 6.0


def test_the_total_is_the_sum_of_the_upstreams() -> None:
    history = history_of(
        (0, counters(a=(0, 0), b=(5, 0))),
        (1, counters(a=(2, 1), b=(9, 2))),
        (2, counters(a=(2, 1), b=(9, 2))),
    )
    assert history.calls()[-1] == 6.0
    assert history.errors()[-1] == 3.0
    assert history.calls("b")[-1] == 4.0


def test_seconds_without_a_snapshot_share_the_next_diff() -> None:
    history = history_of((0, counters(a=(0, 0))), (4, counters(a=(20, 2))), (5, counters(a=(20, 2))))
    assert history.calls("a")[-4:] == [5.0, 5.0, 5.0, 5.0]
    assert history.errors("a")[-4:] == [0.5, 0.5, 0.5, 0.5]
    assert history.calls("a")[:-4] == [0.0] * 6
    assert count(history.errors("a")) == 2


def test_a_gap_longer_than_the_history_keeps_the_true_average_rate() -> None:
    history = history_of((0, counters(a=(0, 0))), (100, counters(a=(200, 0))), (101, counters(a=(200, 0))))
    assert history.calls("a") == [2.0] * 10


def test_a_counter_that_goes_down_counts_from_zero_never_negative() -> None:
    # removed and re-added (or restarted) by a reload between two snapshots: a new supervisor, counting from 0
    history = history_of(
        (0, counters(a=(40, 5))),
        (1, counters(a=(42, 5))),
        (2, counters(a=(3, 1))),
        (3, counters(a=(4, 1))),
        (4, counters(a=(4, 1))),
    )
    assert history.calls("a")[-3:] == [2.0, 3.0, 1.0]
    assert history.errors("a")[-3:] == [0.0, 1.0, 0.0]
    assert min(history.calls()) >= 0


def test_an_upstream_added_later_counts_all_its_calls_and_a_removed_one_is_forgotten() -> None:
    history = history_of(
        (0, counters(a=(0, 0))),
        (1, counters(a=(1, 0), b=(4, 0))),  # added by a reload: all four calls came since the last snapshot
        (2, counters(a=(1, 0))),
        (3, counters(a=(1, 0), b=(2, 0))),  # back again, counting from zero
        (4, counters(a=(1, 0), b=(2, 0))),
    )
    assert history.calls("b") == [0.0] * 9 + [2.0]
    assert history.calls()[-3:] == [5.0, 0.0, 2.0]
    assert history.calls("gone") == [0.0] * 10


def test_old_seconds_roll_out_of_the_window() -> None:
    history = history_of((0, counters(a=(0, 0))), (1, counters(a=(7, 0))), (2, counters(a=(7, 0))))
    assert history.calls("a")[-1] == 7.0
    history.observe(counters(a=(7, 0)), T0 + 11)
    assert history.calls("a") == [7.0] + [0.0] * 9
    history.observe(counters(a=(7, 0)), T0 + 12)
    assert history.calls("a") == [0.0] * 10


def test_a_clock_that_goes_back_counts_into_the_newest_second() -> None:
    history = history_of(
        (4, counters(a=(0, 0))), (5, counters(a=(1, 0))), (3, counters(a=(4, 0))), (6, counters(a=(4, 0)))
    )
    assert history.calls("a")[-1] == 4.0
    assert sum(history.calls("a")) == 4.0


def test_latency_percentiles_per_second_the_calls_started_in() -> None:
    fast = [call(seq, "a__t", started_at=T0 + 3.2, total_ms=float(seq)) for seq in range(1, 101)]  # 1..100 ms
    slow = call(101, "a__t", started_at=T0 + 5.9, total_ms=900.0)
    history = history_of((0, counters(a=(0, 0))), (7, counters(*fast, slow, a=(101, 0))), (8, counters(a=(101, 0))))
    p50, p99 = history.latency("a", 0.5), history.latency("a", 0.99)
    assert p50[-5] == 50.0  # second 3
    assert p99[-5] == 99.0
    assert p50[-3] == p99[-3] == 900.0  # second 5
    assert [value for i, value in enumerate(p50) if i not in (5, 7)] == [0.0] * 8


def test_latency_counts_only_calls_not_seen_before() -> None:
    first = call(1, "a__t", started_at=T0 + 1.5, total_ms=10.0)
    second = call(2, "a__t", started_at=T0 + 1.7, total_ms=30.0)
    history = history_of(
        (2, counters(first, a=(1, 0))),
        (2.5, counters(second, first, a=(2, 0))),  # the ring still holds the first: not counted twice
        (3, counters(second, first, a=(2, 0))),
    )
    assert history.latency("a", 0.99)[-2] == 30.0
    assert history.latency("a", 0.5)[-2] == 10.0  # [10, 30]: nearest rank


def test_latency_ignores_calls_older_than_the_window_and_files_future_ones_now() -> None:
    old = call(1, "a__t", started_at=T0 - 60, total_ms=5.0)
    future = call(2, "a__t", started_at=T0 + 30, total_ms=7.0)
    history = history_of((0, counters(old, future, a=(2, 0))), (1, counters(old, future, a=(2, 0))))
    assert history.latency("a", 0.5) == [0.0] * 9 + [7.0]


def test_latency_of_an_unknown_upstream_is_flat() -> None:
    history = history_of((0, counters(call(1, "gone__t", started_at=T0), a=(0, 0))), (1, counters(a=(0, 0))))
    assert history.latency("gone", 0.5) == [0.0] * 10
    assert ChartHistory(seconds=3).latency("a", 0.5) == [0.0] * 3


def test_latency_keeps_a_bounded_sample_per_second() -> None:
    burst = [call(seq, "a__t", started_at=T0 + 1, total_ms=1.0) for seq in range(1, LATENCY_SAMPLES + 50)]
    history = history_of((2, counters(*burst, a=(0, 0))))
    assert len(history._upstreams["a"].latencies[int(T0) + 1]) == LATENCY_SAMPLES


@pytest.mark.parametrize(
    ("values", "quantile", "expected"),
    [([10.0], 0.99, 10.0), ([10.0, 20.0, 30.0], 0.5, 20.0), ([10.0, 20.0], 0.5, 10.0), ([1.0, 2.0, 3.0], 0.99, 3.0)],
)
def test_percentile_is_nearest_rank(values: list[float], quantile: float, expected: float) -> None:
    assert percentile(values, quantile) == expected


def test_figures() -> None:
    assert recent_rate([0.0] * 5 + [1.0] * 10) == 1.0
    assert recent_rate([4.0, 2.0], seconds=10) == 3.0
    assert latest([3.0, 5.0, 0.0, 0.0]) == 5.0
    assert latest([0.0, 0.0]) == 0.0
    assert count([0.5, 0.25, 0.25, 1.0]) == 2
