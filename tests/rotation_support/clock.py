"""The time of a rotation test, moved by the test itself: the rotation function and the fake provider read it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

START = datetime(2025, 1, 31, 12, 0, 0, tzinfo=timezone.utc)


class FakeClock:
    """Called like the function's clock (an aware UTC datetime); `advance` stands in for waiting."""

    def __init__(self, start: datetime = START) -> None:
        self._now = start

    def __call__(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
