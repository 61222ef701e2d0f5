"""The sandbox clock: faster than the wall clock by its scale, continuous when rescaled."""

import datetime
import time

import pytest

from mlops_seeds.sandbox.clock import Clock, ClockError


def test_time_runs_scale_times_faster_and_stays_continuous_when_rescaled() -> None:
    clock = Clock(100)
    start = clock.now()
    time.sleep(0.05)
    fast = clock.now() - start
    assert datetime.timedelta(seconds=4) < fast < datetime.timedelta(seconds=60)
    before = clock.now()
    clock.scale = 1
    assert clock.now() >= before  # no jump back
    assert clock.real_seconds(30) == 30
    assert Clock(60).real_seconds(600) == 10


@pytest.mark.parametrize("scale", [0, 0.5, 3601])
def test_scales_out_of_range_are_refused(scale: float) -> None:
    with pytest.raises(ClockError, match="must be from 1 to 3600"):
        Clock(scale)
