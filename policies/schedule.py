"""Rotation schedule analysis for AWS Secrets Manager.

A secret's rotation interval is given in one of three ways:

- ``automatically_after_days`` (an integer number of days),
- ``rate(N hours|days)`` (``rate(1 day)``, ``rate(10 days)``, ``rate(4 hours)``; singular unit for 1,
  plural otherwise, as AWS requires),
- ``cron(minutes hours day-of-month month day-of-week year)``, AWS's six-field form: lists ``,``,
  ranges ``-``, steps ``/``, ``*``, ``?`` (in exactly one of day-of-month / day-of-week), ``L``
  (last day of the month; ``L`` alone in day-of-week is Saturday; ``6L`` is the last Friday),
  ``L-n``, ``nW`` / ``LW`` (nearest weekday), ``#`` (``2#1`` is the first Monday), month names
  ``JAN``-``DEC`` and day names ``SUN``-``SAT`` with AWS numbering 1=SUN .. 7=SAT.

A schedule is judged by the *longest gap between two consecutive runs*, in days (a float).  For
``cron()`` the gap is computed exactly over the full period of the expression: the Gregorian calendar
repeats every 400 years (146097 days, a whole number of weeks), so every combination of month
length, leap year and weekday that the expression can meet is seen.  ``cron(0 0 29 2 ? *)``
(29 February) is therefore judged by its 8-year gap across 2100, not by the 4 years a one-year
sample would suggest, and ``cron(0 0 1 */4 ? *)`` by its 123-day gap, where a checker that only
parses the expression would let it through.

The gap is measured between the scheduled starts of the rotation windows; Secrets Manager may rotate
anywhere inside the window (see ``duration``), which the caller can add if it wants a worst case.

Work is done once per distinct day pattern: the days matching an expression within a month depend
only on (month, month length, weekday of the 1st), at most 12 x 4 x 7 shapes, and the 4800 months of
the 400-year cycle are then walked with a table lookup each.  Results are cached per expression.

This module is pure (standard library only): the policy pack and ``secrets_layout`` both import it.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import functools
import math
import re
from dataclasses import dataclass
from typing import Iterable, Optional, Tuple, Union

__all__ = [
    "ScheduleError",
    "RateSchedule",
    "CronSchedule",
    "Gap",
    "parse_schedule",
    "parse_rate",
    "parse_cron",
    "longest_gap",
    "longest_gap_details",
    "rotation_interval_days",
    "secrets_manager_problems",
    "window_problems",
    "format_days",
]

MINUTES_PER_DAY = 24 * 60
GREGORIAN_CYCLE_YEARS = 400
GREGORIAN_CYCLE_DAYS = 146097
MAX_EXPRESSION_LENGTH = 256          # AWS's limit for RotationRules.ScheduleExpression
MIN_YEAR, MAX_YEAR = 1970, 2199      # AWS's bounds for the cron year field
# First year of the 400-year window that is walked.  It only decides which example dates the
# analysis reports for a gap; the gap itself is the same for any window of 400 whole years.
CYCLE_BASE_YEAR = 2024

_MONTH_NAMES = {name.upper(): i for i, name in enumerate(calendar.month_abbr) if name}
_DAY_NAMES = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_INT_RE = re.compile(r"[0-9]{1,4}", re.ASCII)


class ScheduleError(ValueError):
    """The expression is not a schedule this module can judge (syntax, range, or it never runs)."""

    def __init__(self, expression: object, reason: str) -> None:
        shown = expression if isinstance(expression, str) else repr(expression)
        if isinstance(shown, str) and len(shown) > 80:
            shown = shown[:77] + "..."
        self.expression = expression
        self.reason = reason
        super().__init__(f"{shown!r} is not a valid rotation schedule: {reason}")


# --------------------------------------------------------------------------------------------
# Parsed forms
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateSchedule:
    """``rate(value unit)``: every ``value`` hours or days."""

    expression: str
    value: int
    unit: str  # "hours" or "days"

    @property
    def interval_days(self) -> float:
        return self.value / 24.0 if self.unit == "hours" else float(self.value)


@dataclass(frozen=True)
class DayOfMonth:
    """The day-of-month field (when it is not ``?``)."""

    days: frozenset = frozenset()            # plain days 1..31
    last: bool = False                       # L
    last_offsets: frozenset = frozenset()    # L-n
    nearest_weekday: frozenset = frozenset()  # nW
    last_weekday: bool = False               # LW


@dataclass(frozen=True)
class DayOfWeek:
    """The day-of-week field (when it is not ``?``), AWS numbering 1=SUN .. 7=SAT."""

    days: frozenset = frozenset()            # plain weekdays
    last_in_month: frozenset = frozenset()   # nL: last <weekday> of the month
    nth: frozenset = frozenset()             # n#k: k-th <weekday> of the month, as (weekday, k)


@dataclass(frozen=True)
class CronSchedule:
    """``cron(minutes hours day-of-month month day-of-week year)``, parsed."""

    expression: str
    minutes: frozenset
    hours: frozenset
    day_of_month: Optional[DayOfMonth]   # None when the field is ``?``
    months: frozenset
    day_of_week: Optional[DayOfWeek]     # None when the field is ``?``
    years: Optional[frozenset]           # None when the field is ``*`` (every year)

    @property
    def times_of_day(self) -> Tuple[int, ...]:
        """Minutes after midnight (UTC) at which a run starts on a matching day, sorted."""
        return tuple(sorted(h * 60 + m for h in self.hours for m in self.minutes))

    def matching_days(self, year: int, month: int) -> Tuple[int, ...]:
        """Days of ``month`` in ``year`` on which the schedule runs, sorted."""
        if month not in self.months or (self.years is not None and year not in self.years):
            return ()
        length = calendar.monthrange(year, month)[1]
        return _month_days(self, month, length, _aws_weekday(_dt.date(year, month, 1)))


Schedule = Union[RateSchedule, CronSchedule]


@dataclass(frozen=True)
class Gap:
    """The longest gap between two consecutive runs of a schedule.

    ``days`` is ``math.inf`` when the schedule stops running (a cron year field other than ``*``).
    ``start``/``end`` are an example pair of consecutive runs (UTC) that are that far apart; they are
    ``None`` for intervals that do not depend on the calendar (``rate()``, days), and ``end`` is
    ``None`` when there is no next run.
    """

    days: float
    start: Optional[_dt.datetime] = None
    end: Optional[_dt.datetime] = None


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------

_RATE_RE = re.compile(r"rate\(\s*([0-9]+)\s+([A-Za-z]+)\s*\)", re.ASCII)
_CRON_RE = re.compile(r"cron\((.*)\)", re.ASCII | re.DOTALL)


def _check_text(expression: object) -> str:
    if not isinstance(expression, str):
        raise ScheduleError(expression, f"expected a string, got {type(expression).__name__}")
    text = expression.strip()
    if not text:
        raise ScheduleError(expression, "it is empty; use rate(N days), rate(N hours) or cron(...)")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ScheduleError(expression, f"it is longer than {MAX_EXPRESSION_LENGTH} characters")
    return text


def parse_schedule(expression: str) -> Schedule:
    """Parse a ``rate()`` or ``cron()`` expression.  Raises :class:`ScheduleError`."""
    text = _check_text(expression)
    if text.startswith("rate("):
        return parse_rate(text)
    if text.startswith("cron("):
        return parse_cron(text)
    raise ScheduleError(expression, "it must start with rate( or cron(")


def parse_rate(expression: str) -> RateSchedule:
    """Parse ``rate(1 day)``, ``rate(N days)``, ``rate(1 hour)``, ``rate(N hours)``."""
    text = _check_text(expression)
    match = _RATE_RE.fullmatch(text)
    if match is None:
        raise ScheduleError(expression, "expected rate(<positive integer> <hour|hours|day|days>)")
    digits, unit = match.groups()
    if len(digits) > 6:
        raise ScheduleError(expression, "the rate value is too large")
    value = int(digits)
    if value < 1:
        raise ScheduleError(expression, "the rate value must be a positive integer")
    if unit in ("minute", "minutes"):
        raise ScheduleError(expression, "Secrets Manager rotates in hours or days, not minutes")
    if unit not in ("hour", "hours", "day", "days"):
        raise ScheduleError(expression, f"unknown unit {unit!r}; use hour(s) or day(s)")
    singular = unit in ("hour", "day")
    if value == 1 and not singular:
        raise ScheduleError(expression, f"a value of 1 takes the singular unit: rate(1 {unit[:-1]})")
    if value != 1 and singular:
        raise ScheduleError(expression, f"a value other than 1 takes the plural unit: rate({value} {unit}s)")
    return RateSchedule(expression=text, value=value, unit=unit if unit.endswith("s") else unit + "s")


def _number(expression: str, field: str, token: str, low: int, high: int, names=None) -> int:
    upper = token.upper()
    if names is not None and upper in names:
        return names[upper]
    if not _INT_RE.fullmatch(token):
        allowed = f"{low}-{high}" + (" or a name" if names else "")
        raise ScheduleError(expression, f"{field}: {token!r} is not a number ({allowed})")
    value = int(token)
    if not low <= value <= high:
        raise ScheduleError(expression, f"{field}: {value} is out of range {low}-{high}")
    return value


def _range_item(expression: str, field: str, item: str, low: int, high: int, names=None) -> Iterable[int]:
    """One list item of the plain forms: ``*``, ``n``, ``a-b``, with an optional ``/step``."""
    base, slash, step_text = item.partition("/")
    if slash:
        if not _INT_RE.fullmatch(step_text):
            raise ScheduleError(expression, f"{field}: the step in {item!r} must be a positive integer")
        step = int(step_text)
        if step < 1:
            raise ScheduleError(expression, f"{field}: the step in {item!r} must be at least 1")
    else:
        step = 1
    if base == "*":
        start, end = low, high
    elif "-" in base:
        first, _, last = base.partition("-")
        start = _number(expression, field, first, low, high, names)
        end = _number(expression, field, last, low, high, names)
        if start > end:
            raise ScheduleError(expression, f"{field}: the range {base!r} runs backwards")
    else:
        start = _number(expression, field, base, low, high, names)
        end = high if slash else start
    return range(start, end + 1, step)


def _plain_field(expression: str, field: str, text: str, low: int, high: int, names=None) -> frozenset:
    values = set()
    for item in text.split(","):
        if not item:
            raise ScheduleError(expression, f"{field}: empty list item in {text!r}")
        values.update(_range_item(expression, field, item, low, high, names))
    return frozenset(values)


def _day_of_month(expression: str, text: str) -> DayOfMonth:
    days, offsets, nearest = set(), set(), set()
    last = last_weekday = False
    for item in text.split(","):
        upper = item.upper()
        if not item:
            raise ScheduleError(expression, f"day-of-month: empty list item in {text!r}")
        if upper == "L":
            last = True
        elif upper == "LW":
            last_weekday = True
        elif upper.startswith("L-"):
            offset = _number(expression, "day-of-month", item[2:], 0, 30)
            offsets.add(offset)
        elif upper.endswith("W"):
            nearest.add(_number(expression, "day-of-month", item[:-1], 1, 31))
        elif "L" in upper or "W" in upper or "#" in upper or "?" in upper:
            raise ScheduleError(expression, f"day-of-month: {item!r} is not valid here")
        else:
            days.update(_range_item(expression, "day-of-month", item, 1, 31))
    return DayOfMonth(frozenset(days), last, frozenset(offsets), frozenset(nearest), last_weekday)


def _day_of_week(expression: str, text: str) -> DayOfWeek:
    days, last_in_month, nth = set(), set(), set()
    for item in text.split(","):
        upper = item.upper()
        if not item:
            raise ScheduleError(expression, f"day-of-week: empty list item in {text!r}")
        if upper == "L":
            days.add(7)  # "L" alone in day-of-week is the last day of the week: Saturday
        elif "#" in upper:
            weekday_text, _, nth_text = item.partition("#")
            weekday = _number(expression, "day-of-week", weekday_text, 1, 7, _DAY_NAMES)
            nth.add((weekday, _number(expression, "day-of-week", nth_text, 1, 5)))
        elif upper.endswith("L"):
            last_in_month.add(_number(expression, "day-of-week", item[:-1], 1, 7, _DAY_NAMES))
        else:
            days.update(_range_item(expression, "day-of-week", item, 1, 7, _DAY_NAMES))
    return DayOfWeek(frozenset(days), frozenset(last_in_month), frozenset(nth))


def parse_cron(expression: str) -> CronSchedule:
    """Parse AWS's ``cron(minutes hours day-of-month month day-of-week year)``."""
    text = _check_text(expression)
    match = _CRON_RE.fullmatch(text)
    if match is None:
        raise ScheduleError(expression, "expected cron(minutes hours day-of-month month day-of-week year)")
    fields = match.group(1).split()
    if len(fields) != 6:
        raise ScheduleError(
            expression, f"cron() takes 6 fields (minutes hours day-of-month month day-of-week year), got {len(fields)}")
    minute_text, hour_text, dom_text, month_text, dow_text, year_text = fields
    for name, value in (("minutes", minute_text), ("hours", hour_text), ("month", month_text), ("year", year_text)):
        if "?" in value:
            raise ScheduleError(expression, f"{name}: '?' is only allowed in day-of-month or day-of-week")
    if (dom_text == "?") == (dow_text == "?"):
        raise ScheduleError(
            expression, "exactly one of day-of-month and day-of-week must be '?' (AWS does not allow both or neither)")
    minutes = _plain_field(expression, "minutes", minute_text, 0, 59)
    hours = _plain_field(expression, "hours", hour_text, 0, 23)
    months = _plain_field(expression, "month", month_text, 1, 12, _MONTH_NAMES)
    years = None if year_text == "*" else _plain_field(expression, "year", year_text, MIN_YEAR, MAX_YEAR)
    dom = None if dom_text == "?" else _day_of_month(expression, dom_text)
    dow = None if dow_text == "?" else _day_of_week(expression, dow_text)
    return CronSchedule(text, minutes, hours, dom, months, dow, years)


# --------------------------------------------------------------------------------------------
# Calendar
# --------------------------------------------------------------------------------------------


def _aws_weekday(day: _dt.date) -> int:
    """AWS numbering: 1=SUN, 2=MON .. 7=SAT."""
    return (day.weekday() + 1) % 7 + 1


@functools.lru_cache(maxsize=None)
def _cycle_months() -> Tuple[Tuple[int, int, int, int], ...]:
    """(ordinal of the 1st, month, length, AWS weekday of the 1st) for the 4800 months of the cycle."""
    table = []
    for year in range(CYCLE_BASE_YEAR, CYCLE_BASE_YEAR + GREGORIAN_CYCLE_YEARS):
        for month in range(1, 13):
            first = _dt.date(year, month, 1)
            table.append((first.toordinal(), month, calendar.monthrange(year, month)[1], _aws_weekday(first)))
    return tuple(table)


def _month_days(schedule: CronSchedule, month: int, length: int, first_weekday: int) -> Tuple[int, ...]:
    """Matching days of a month given by its number, length and the AWS weekday of its 1st."""

    def weekday(day: int) -> int:
        return (first_weekday - 1 + day - 1) % 7 + 1

    result = set()
    dom = schedule.day_of_month
    if dom is not None:
        result.update(d for d in dom.days if d <= length)
        if dom.last:
            result.add(length)
        result.update(length - n for n in dom.last_offsets if length - n >= 1)
        for target in dom.nearest_weekday:
            if target > length:
                continue
            wd = weekday(target)
            if wd == 7:      # Saturday: the Friday before, or the Monday after when that leaves the month
                result.add(target - 1 if target > 1 else target + 2)
            elif wd == 1:    # Sunday: the Monday after, or the Friday before at the end of the month
                result.add(target + 1 if target < length else target - 2)
            else:
                result.add(target)
        if dom.last_weekday:
            day = length
            while weekday(day) in (1, 7):
                day -= 1
            result.add(day)
    dow = schedule.day_of_week
    if dow is not None:
        if dow.days:
            result.update(d for d in range(1, length + 1) if weekday(d) in dow.days)
        for wanted in dow.last_in_month:
            result.add(length - (weekday(length) - wanted) % 7)
        for wanted, nth in dow.nth:
            day = 1 + (wanted - first_weekday) % 7 + 7 * (nth - 1)
            if day <= length:
                result.add(day)
    return tuple(sorted(result))


# --------------------------------------------------------------------------------------------
# Gaps
# --------------------------------------------------------------------------------------------


def _run_day_gap(schedule: CronSchedule) -> Tuple[int, int, int]:
    """Longest gap, in days, between consecutive days with runs, over the 400-year cycle.

    Returns (gap, ordinal of the first day, ordinal of the second day).  Requires ``years is None``.
    """
    shapes = {}
    best = (-1, 0, 0)
    first_run = None
    previous = None
    months = schedule.months
    for ordinal, month, length, first_weekday in _cycle_months():
        if month not in months:
            continue
        key = (month, length, first_weekday)
        shape = shapes.get(key)
        if shape is None:
            days = _month_days(schedule, month, length, first_weekday)
            inner = (-1, 0)
            for a, b in zip(days, days[1:]):
                if b - a > inner[0]:
                    inner = (b - a, a)
            shape = shapes[key] = (days, inner)
        days, inner = shape
        if not days:
            continue
        start = ordinal + days[0] - 1
        if previous is None:
            first_run = start
        elif start - previous > best[0]:
            best = (start - previous, previous, start)
        if inner[0] > best[0]:
            a = ordinal + inner[1] - 1
            best = (inner[0], a, a + inner[0])
        previous = ordinal + days[-1] - 1
    if previous is None:
        raise ScheduleError(schedule.expression, "it never runs (no date matches day-of-month, month and day-of-week)")
    wrap = first_run + GREGORIAN_CYCLE_DAYS - previous
    if wrap > best[0]:
        best = (wrap, previous, first_run + GREGORIAN_CYCLE_DAYS)
    return best


def _datetime(ordinal: int, minute_of_day: int) -> _dt.datetime:
    day = _dt.date.fromordinal(ordinal)
    return _dt.datetime(day.year, day.month, day.day, minute_of_day // 60, minute_of_day % 60)


def _cron_gap(schedule: CronSchedule) -> Gap:
    times = schedule.times_of_day
    if schedule.years is not None:
        # A year field other than "*" ends: after its last run the secret is never rotated again.
        last = None
        for year in sorted(schedule.years, reverse=True):
            for month in sorted(schedule.months, reverse=True):
                days = schedule.matching_days(year, month)
                if days:
                    last = _dt.date(year, month, days[-1]).toordinal()
                    break
            if last is not None:
                break
        if last is None:
            raise ScheduleError(schedule.expression, "it never runs in the years it names")
        return Gap(math.inf, _datetime(last, times[-1]), None)
    gap_days, first, second = _run_day_gap(schedule)
    span = times[-1] - times[0]
    across = gap_days * MINUTES_PER_DAY - span
    within, at = 0, 0
    for a, b in zip(times, times[1:]):
        if b - a > within:
            within, at = b - a, a
    if within > across:
        return Gap(within / MINUTES_PER_DAY, _datetime(first, at), _datetime(first, at + within))
    return Gap(across / MINUTES_PER_DAY, _datetime(first, times[-1]), _datetime(second, times[0]))


@functools.lru_cache(maxsize=4096)
def _details(text: str) -> Gap:
    schedule = parse_schedule(text)
    if isinstance(schedule, RateSchedule):
        return Gap(schedule.interval_days)
    return _cron_gap(schedule)


def longest_gap_details(expression: str) -> Gap:
    """The longest gap of a ``rate()``/``cron()`` expression with an example pair of runs."""
    return _details(_check_text(expression))


def longest_gap(expression: str) -> float:
    """Longest gap between two consecutive runs of a ``rate()``/``cron()`` expression, in days.

    ``math.inf`` when the schedule stops running.  Raises :class:`ScheduleError`.
    """
    return longest_gap_details(expression).days


def rotation_interval_days(automatically_after_days: Optional[Union[int, float]] = None,
                           schedule_expression: Optional[str] = None) -> float:
    """The longest rotation interval, in days, of a rotation rule (exactly one of the two arguments)."""
    if (automatically_after_days is None) == (schedule_expression is None):
        raise ScheduleError(
            {"automatically_after_days": automatically_after_days, "schedule_expression": schedule_expression},
            "give exactly one of automatically_after_days and schedule_expression")
    if schedule_expression is not None:
        return longest_gap(schedule_expression)
    if isinstance(automatically_after_days, bool) or not isinstance(automatically_after_days, (int, float)):
        raise ScheduleError(automatically_after_days, "automatically_after_days must be a number of days")
    if not automatically_after_days >= 1 or automatically_after_days != int(automatically_after_days):
        raise ScheduleError(automatically_after_days, "automatically_after_days must be a whole number >= 1")
    return float(automatically_after_days)


def secrets_manager_problems(expression: str) -> list:
    """What AWS Secrets Manager itself would reject in an expression that parses.

    Secrets Manager rotates at most every four hours, opens rotation windows on the hour (minutes
    ``0``), needs ``*`` as the cron year and at most 1000 days for a rate.  Raises
    :class:`ScheduleError` when the expression does not parse at all.
    """
    schedule = parse_schedule(expression)
    problems = []
    if isinstance(schedule, RateSchedule):
        if schedule.unit == "hours" and schedule.value < 4:
            problems.append("Secrets Manager rotates at most every 4 hours")
        if schedule.unit == "days" and schedule.value > 1000:
            problems.append("Secrets Manager rotates at least every 1000 days")
        return problems
    if schedule.minutes != frozenset({0}):
        problems.append("the minutes field must be 0: rotation windows open on the hour")
    if schedule.years is not None:
        problems.append("the year field must be *")
    else:
        gap = longest_gap(expression)
        times = schedule.times_of_day
        shortest = min([b - a for a, b in zip(times, times[1:])] or [MINUTES_PER_DAY])
        if shortest < 4 * 60 or gap < 4 / 24:
            problems.append("Secrets Manager rotates at most every 4 hours")
    return problems


_DURATION_RE = re.compile(r"([0-9]{1,2})h", re.ASCII)
MAX_WINDOW_HOURS = 24


def window_problems(duration: str, schedule_expression: Optional[str] = None) -> list:
    """What Secrets Manager rejects in a rotation window (``RotationRulesType.Duration``).

    "The window must not extend into the next rotation window or the next UTC day. The window starts
    according to the ScheduleExpression" (Secrets Manager API reference, RotationRulesType); windows
    open on the hour, a ``rate()`` in days opens them at midnight, and a window is at least one hour
    ("Rotation schedules" in the Secrets Manager user guide: "for a rotation schedule in hours, confirm
    that the rotation window is less than or equal to the number of hours between rotations. For a
    rotation schedule in days, confirm that the start hour plus the window duration is less than or
    equal to 24 hours"). ``schedule_expression`` None: no schedule to open the window from is known
    (``automatically_after_days``), so only the duration itself is judged. Raises
    :class:`ScheduleError` when the expression does not parse.
    """
    match = _DURATION_RE.fullmatch(duration) if isinstance(duration, str) else None
    if match is None or not 1 <= int(match.group(1)) <= MAX_WINDOW_HOURS:
        return [f"a window is written in whole hours from 1h to {MAX_WINDOW_HOURS}h, e.g. \"3h\""]
    hours = int(match.group(1))
    if schedule_expression is None:
        return []
    schedule = parse_schedule(schedule_expression)
    if isinstance(schedule, RateSchedule):
        if schedule.unit == "hours" and hours > schedule.value:
            return [f"the {hours}-hour window runs into the next one, which opens {schedule.value} hours later"]
        return []
    starts = sorted(schedule.times_of_day)
    for start, next_start in zip(starts, [*starts[1:], None]):
        end = start + hours * 60
        opens = f"{start // 60:02d}:{start % 60:02d} UTC"
        if next_start is not None and end > next_start:
            return [f"the {hours}-hour window opening at {opens} runs into the next one, which opens at "
                    f"{next_start // 60:02d}:{next_start % 60:02d} UTC"]
        if end > MINUTES_PER_DAY:
            return [f"the {hours}-hour window opening at {opens} runs past the end of the UTC day"]
    return []


def format_days(days: float) -> str:
    """``90`` -> ``"90 days"``, ``0.5`` -> ``"12 hours"``, ``inf`` -> ``"unbounded"``."""
    if math.isinf(days):
        return "unbounded (the schedule stops running)"
    if days < 1:
        hours = days * 24
        text = f"{hours:.0f}" if abs(hours - round(hours)) < 1e-9 else f"{hours:.2f}"
        return f"{text} hour" if text == "1" else f"{text} hours"
    if abs(days - round(days)) < 1e-9:
        whole = int(round(days))
        return "1 day" if whole == 1 else f"{whole} days"
    return f"{days:.2f} days"
