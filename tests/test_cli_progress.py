"""Issue 11: the index progress rate and time left are sensible from the first batch on."""

from __future__ import annotations

from xmodal.cli_progress import RateEstimate


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_batch_landing_at_once_gives_the_rate_since_the_work_began() -> None:
    clock = Clock()
    rate = RateEstimate(clock=clock)
    rate.start()
    clock.now += 4.0
    for done in range(1, 33):  # a batch of 32 embeddings lands within a millisecond
        rate.update(done)
        clock.now += 0.00003
    assert round(rate.per_second) == 8  # 32 items in 4 s, not 32 in a millisecond
    assert round(rate.seconds_left(320 - 32)) == 36


def test_no_estimate_before_it_settles_and_a_pause_lowers_it() -> None:
    clock = Clock()
    rate = RateEstimate(settle=1.0, clock=clock)
    rate.start()
    clock.now += 0.2
    rate.update(10)
    assert rate.per_second is None and rate.seconds_left(100) is None
    clock.now += 1.8
    assert rate.per_second == 5.0  # 10 items in 2 s
    clock.now += 2.0
    assert rate.per_second == 2.5  # nothing more in the next 2 s


def test_the_rate_follows_the_last_window_of_a_long_job() -> None:
    clock = Clock()
    rate = RateEstimate(window=30.0, clock=clock)
    rate.start()
    done = 0
    for _ in range(60):  # a minute at 10 items/s
        clock.now += 1.0
        done += 10
        rate.update(done)
    for _ in range(60):  # then a minute at 2 items/s
        clock.now += 1.0
        done += 2
        rate.update(done)
    assert 1.9 <= rate.per_second <= 2.1
