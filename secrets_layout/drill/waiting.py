"""Waiting for a rotation: look, sleep, look again, until an answer or the deadline.

The clock is injected (tests move a fake one), so is how often to look (Pace): quickly at first, as
most rotations take seconds, then every few seconds; CloudTrail less often than the rest, as it gets
events minutes late and LookupEvents allows 2 requests per second per account and region
("Quotas in AWS CloudTrail"), shared with everyone else.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Generic, TypeVar

Answer = TypeVar("Answer")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Clock:
    monotonic: Callable[[], float] = time.monotonic
    """Durations and deadlines."""
    now: Callable[[], datetime] = _utc_now
    """Wall time (UTC), which CloudTrail and CloudWatch Logs are asked about."""
    sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class Pace:
    first: tuple[float, ...] = (1.0, 1.0, 2.0, 3.0)
    """The first pauses between looks, in seconds."""
    steady: float = 5.0
    """The pause after them."""
    trail_every: float = 30.0
    """Seconds between two looks at CloudTrail."""

    def pauses(self) -> Iterator[float]:
        yield from self.first
        while True:
            yield self.steady


@dataclass(frozen=True)
class Look:
    """What one look may ask for."""

    elapsed: float
    trail_due: bool


@dataclass(frozen=True)
class Waited(Generic[Answer]):
    answer: Answer | None
    """None: the deadline came first."""
    elapsed: float
    """Seconds from the start of the wait to the look that answered (or to the deadline)."""


@dataclass
class Waiting:
    clock: Clock = field(default_factory=Clock)
    pace: Pace = field(default_factory=Pace)

    def until(self, answer: Callable[[Look], Answer | None], *, started: float, seconds: float) -> Waited[Answer]:
        """Look (`answer`) until it answers, or `seconds` after `started` (a monotonic time) have passed; a
        look is always made at the deadline, so an answer that came during the last pause counts."""
        last_trail = started
        pauses = self.pace.pauses()
        while True:
            now = self.clock.monotonic()
            elapsed = now - started
            trail_due = now - last_trail >= self.pace.trail_every
            if trail_due:
                last_trail = now
            found = answer(Look(elapsed, trail_due))
            if found is not None:
                return Waited(found, elapsed)
            remaining = seconds - (self.clock.monotonic() - started)
            if remaining <= 0:
                return Waited(None, self.clock.monotonic() - started)
            self.clock.sleep(min(next(pauses), remaining))
