"""The sandbox's clock: the time its services keep (metric timestamps, alarm periods,
deployment baking periods), running `scale` times faster than the wall clock.

At scale 1 the sandbox keeps real time. A rehearsal runs faster (`Sandbox(time_scale=60)`:
a minute of the sandbox passes in a second), so a ten-minute baking period or five-minute
alarm periods can be rehearsed in seconds while every period, count and threshold stays
as the template wrote it. Times are naive UTC datetimes, as moto keeps them.
"""

from __future__ import annotations

import datetime
import threading
import time

MAX_SCALE = 3600.0


class ClockError(ValueError):
    """A time scale out of range."""


def check_scale(scale: float) -> float:
    """`scale` if it is a number from 1 to MAX_SCALE; ClockError naming the rule otherwise."""
    if not 1.0 <= scale <= MAX_SCALE:
        raise ClockError(f"--time-scale {scale:g}: must be from 1 to {MAX_SCALE:g}")
    return float(scale)


class Clock:
    """Sandbox time: starts at the wall clock's now and runs `scale` times faster; the scale
    can be changed on the way (time stays continuous)."""

    def __init__(self, scale: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._scale = check_scale(scale)
        self._origin = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        self._started = time.monotonic()

    @property
    def scale(self) -> float:
        """Sandbox seconds per wall-clock second."""
        return self._scale

    @scale.setter
    def scale(self, value: float) -> None:
        checked = check_scale(value)
        with self._lock:
            self._origin, self._started = self._now(), time.monotonic()
            self._scale = checked

    def reset(self) -> None:
        """Start again from the wall clock's now (the scale is kept)."""
        with self._lock:
            self._origin = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
            self._started = time.monotonic()

    def _now(self) -> datetime.datetime:
        elapsed = (time.monotonic() - self._started) * self._scale
        return self._origin + datetime.timedelta(seconds=elapsed)

    def now(self) -> datetime.datetime:
        """The sandbox's current time (naive UTC)."""
        with self._lock:
            return self._now()

    def real_seconds(self, seconds: float) -> float:
        """How long `seconds` of sandbox time take on the wall clock (at today's scale)."""
        return max(0.0, seconds) / self._scale

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        """Let `seconds` of sandbox time pass; True if `stop` was set meanwhile."""
        wait = self.real_seconds(seconds)
        if stop is None:
            time.sleep(wait)
            return False
        return stop.wait(wait)


WALL = Clock()  # when no sandbox serves in the process (tests of a single module)
