"""Rotation schedule analysis (policies/schedule.py): a table of expressions with their longest gap,
errors, and property tests (random text never raises anything but ScheduleError; random valid cron
expressions agree with a brute-force walk over every day of the 400-year Gregorian cycle)."""

from __future__ import annotations

import calendar
import datetime as dt
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secrets_layout.policies.schedule import (
    CYCLE_BASE_YEAR,
    CronSchedule,
    RateSchedule,
    ScheduleError,
    format_days,
    longest_gap,
    longest_gap_details,
    parse_cron,
    parse_schedule,
    rotation_interval_days,
    secrets_manager_problems,
)

H = 1 / 24

# expression -> longest gap between two consecutive runs, in days (worked out by hand).
GAPS = [
    ("rate(1 day)", 1),
    ("rate(10 days)", 10),
    ("rate(1000 days)", 1000),
    ("rate(1 hour)", H),
    ("rate(4 hours)", 4 * H),
    ("rate(12 hours)", 12 * H),
    ("cron(0 4 * * ? *)", 1),                         # daily at 04:00
    ("cron(0 4/12 * * ? *)", 12 * H),                 # 04:00, 16:00: AWS's own example
    ("cron(0 8/8 * * ? *)", 16 * H),                  # 08:00, 16:00, then 08:00 the next day
    ("cron(0 2/10 * * ? *)", 10 * H),                 # 02:00, 12:00, 22:00 (22:00 -> 02:00 is only 4 h)
    ("cron(0 0,12 1,15 * ? *)", 16.5),                # 15th 12:00 -> 1st 00:00 after a 31-day month
    ("cron(0 0 1 * ? *)", 31),                        # monthly: the longest month
    ("cron(0 0 15 * ? *)", 31),
    ("cron(0 16 L * ? *)", 31),                       # last day of the month
    ("cron(30 23 L-2 * ? *)", 31),                    # third-last day
    ("cron(0 0 31 * ? *)", 61),                       # only 7 months have a 31st: May 31 -> Jul 31
    ("cron(0 0 1 */3 ? *)", 92),                      # quarterly: Jul 1 -> Oct 1, Oct 1 -> Jan 1
    ("cron(0 0 1 */4 ? *)", 123),                     # Jan, May, Sep: May 1 -> Sep 1
    ("cron(0 0 1 JAN,JUL ? *)", 184),                 # Jul 1 -> Jan 1
    ("cron(0 0 1 1 ? *)", 366),                       # yearly, across a leap day
    ("cron(0 0 L 2 ? *)", 366),                       # Feb 28 2027 -> Feb 29 2028
    ("cron(0 0 29 2 ? *)", 2921),                     # Feb 29: 2096 -> 2104 (2100 is no leap year)
    ("cron(0 0 ? * MON *)", 7),
    ("cron(0 0 ? * MON-FRI *)", 3),                   # Friday -> Monday
    ("cron(0 0 ? * 2,4,6 *)", 3),
    ("cron(0 0 ? * L *)", 7),                         # L alone in day-of-week: Saturday
    ("cron(0 0 ? * 6L *)", 35),                       # last Friday of the month: 4 or 5 weeks
    ("cron(0 0 ? * 2#1 *)", 35),                      # first Monday
    ("cron(0 0 ? * 1#1,1#3 *)", 21),                  # 1st and 3rd Sunday: 3rd on the 15th of a 31-day month
    ("cron(0 0 ? * 1#5 *)", 119),                     # fifth Sunday: Nov 30 2025 -> Mar 29 2026
    ("cron(0 12 ? JAN,APR,JUL,OCT 2#2 *)", 98),       # 2nd Monday of each quarter: Jul 8 -> Oct 14
    ("cron(0 0 15W * ? *)", 32),                      # weekday nearest the 15th
    ("cron(0 0 LW * ? *)", 33),                       # last weekday: Fri Jun 28 2024 -> Wed Jul 31
    ("cron(0 0 1 1 ? 2030)", math.inf),               # a year field ends the schedule
]


@pytest.mark.parametrize("expression, days", GAPS, ids=[e for e, _ in GAPS])
def test_longest_gap(expression, days):
    assert longest_gap(expression) == pytest.approx(days, abs=1e-9)


def test_table_is_large_enough():
    assert len(GAPS) >= 25


def test_gap_examples_point_at_real_runs():
    gap = longest_gap_details("cron(0 0 29 2 ? *)")
    assert (gap.start, gap.end) == (dt.datetime(2096, 2, 29), dt.datetime(2104, 2, 29))
    gap = longest_gap_details("cron(0 0 ? * 1#5 *)")
    assert (gap.start, gap.end) == (dt.datetime(2025, 11, 30), dt.datetime(2026, 3, 29))
    gap = longest_gap_details("cron(0 8/8 * * ? *)")
    assert gap.end - gap.start == dt.timedelta(hours=16)
    assert longest_gap_details("rate(3 days)").start is None
    finite = longest_gap_details("cron(0 6 1 1 ? 2025-2030)")
    assert finite.days == math.inf and finite.start == dt.datetime(2030, 1, 1, 6) and finite.end is None


ERRORS = [
    ("", "empty"),
    ("   ", "empty"),
    ("every 30 days", "must start with rate( or cron("),
    ("rate(1 days)", "singular unit"),
    ("rate(2 day)", "plural unit"),
    ("rate(1 hours)", "singular unit"),
    ("rate(0 days)", "positive integer"),
    ("rate(5 minutes)", "not minutes"),
    ("rate(1 week)", "unknown unit"),
    ("rate(1.5 days)", "expected rate("),
    ("rate(9999999 days)", "too large"),
    ("rate(10days)", "expected rate("),
    ("cron(0 0 * * * *)", "exactly one of day-of-month and day-of-week"),
    ("cron(0 0 ? * ? *)", "exactly one of day-of-month and day-of-week"),
    ("cron(0 0 1 * ?)", "takes 6 fields"),
    ("cron(0 0 1 * ? * *)", "takes 6 fields"),
    ("cron(60 0 1 * ? *)", "minutes: 60 is out of range 0-59"),
    ("cron(0 24 1 * ? *)", "hours: 24 is out of range 0-23"),
    ("cron(0 0 32 * ? *)", "day-of-month: 32 is out of range 1-31"),
    ("cron(0 0 1 13 ? *)", "month: 13 is out of range 1-12"),
    ("cron(0 0 1 FOO ? *)", "month: 'FOO' is not a number"),
    ("cron(0 0 ? * 8 *)", "day-of-week: 8 is out of range 1-7"),
    ("cron(0 0 ? * 2#6 *)", "day-of-week: 6 is out of range 1-5"),
    ("cron(0 0 5-1 * ? *)", "runs backwards"),
    ("cron(0 0 */0 * ? *)", "must be at least 1"),
    ("cron(0 0 1,,2 * ? *)", "empty list item"),
    ("cron(0 ? 1 * ? *)", "'?' is only allowed"),
    ("cron(0 0 1 1 ? 1969)", "year: 1969 is out of range 1970-2199"),
    ("cron(0 0 1#2 * ? *)", "day-of-month: '1#2' is not valid here"),
    ("cron(0 0 30 2 ? *)", "never runs"),
    ("cron(0 0 31 2,4,6,9,11 ? *)", "never runs"),
    ("cron(0 0 29 2 ? 2025-2027)", "never runs in the years it names"),
    ("at(2030-01-01T00:00:00)", "must start with rate( or cron("),
    ("cron(" + "1," * 200 + "1 0 1 * ? *)", "longer than 256"),
]


@pytest.mark.parametrize("expression, reason", ERRORS, ids=[e[:40] or "empty" for e, _ in ERRORS])
def test_invalid_expressions(expression, reason):
    with pytest.raises(ScheduleError) as caught:
        longest_gap(expression)
    assert reason in caught.value.reason


def test_non_strings_are_schedule_errors():
    for value in (None, 30, 1.5, b"rate(1 day)", ["rate(1 day)"]):
        with pytest.raises(ScheduleError):
            parse_schedule(value)


def test_parse_forms():
    rate = parse_schedule("rate(10 days)")
    assert rate == RateSchedule("rate(10 days)", 10, "days") and rate.interval_days == 10
    assert parse_schedule(" rate(1 hour) ").unit == "hours"
    cron = parse_cron("cron(0 4 ? * SUN,mon *)")
    assert isinstance(cron, CronSchedule)
    assert cron.minutes == {0} and cron.hours == {4} and cron.day_of_month is None
    assert cron.day_of_week.days == {1, 2} and cron.months == set(range(1, 13)) and cron.years is None
    assert parse_cron("cron(0 0 ? JAN-MAR 6L 2030/5)").years == {2030, 2035, 2040, *range(2045, 2200, 5)}


def test_nearest_weekday_stays_in_the_month():
    # 1W when the 1st is a Saturday is Monday the 3rd; 31W when the 31st is a Sunday is Friday the 29th.
    first = parse_cron("cron(0 0 1W * ? *)")
    assert first.matching_days(2022, 1) == (3,)            # Sat 1 Jan 2022
    last = parse_cron("cron(0 0 31W * ? *)")
    assert last.matching_days(2021, 10) == (29,)           # Sun 31 Oct 2021
    assert last.matching_days(2021, 11) == ()              # November has no 31st
    assert parse_cron("cron(0 0 LW * ? *)").matching_days(2024, 6) == (28,)


def test_rotation_interval_days():
    assert rotation_interval_days(automatically_after_days=30) == 30.0
    assert rotation_interval_days(automatically_after_days=30.0) == 30.0
    assert rotation_interval_days(schedule_expression="cron(0 0 1 */3 ? *)") == 92.0
    for bad in ({}, {"automatically_after_days": 30, "schedule_expression": "rate(1 day)"},
                {"automatically_after_days": 0}, {"automatically_after_days": 2.5},
                {"automatically_after_days": True}, {"automatically_after_days": "30"}):
        with pytest.raises(ScheduleError):
            rotation_interval_days(**bad)


def test_secrets_manager_problems():
    assert secrets_manager_problems("rate(4 hours)") == []
    assert secrets_manager_problems("cron(0 4 ? * SUN *)") == []
    assert secrets_manager_problems("rate(2 hours)") == ["Secrets Manager rotates at most every 4 hours"]
    assert secrets_manager_problems("rate(1001 days)") == ["Secrets Manager rotates at least every 1000 days"]
    assert secrets_manager_problems("cron(30 4 * * ? *)") == [
        "the minutes field must be 0: rotation windows open on the hour"]
    assert secrets_manager_problems("cron(0 4 1 1 ? 2030)") == ["the year field must be *"]
    assert secrets_manager_problems("cron(0 */2 * * ? *)") == ["Secrets Manager rotates at most every 4 hours"]


def test_format_days():
    assert [format_days(d) for d in (1, 90, 0.5, H, 1.5, math.inf)] == [
        "1 day", "90 days", "12 hours", "1 hour", "1.50 days", "unbounded (the schedule stops running)"]


# ------------------------------------------------------------------------------------------------
# Property tests
# ------------------------------------------------------------------------------------------------

CRON_ALPHABET = "0123456789*?/,-#LW JANFEBMARSUNMONTUEWEDTHUFRISAT"


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    st.text(max_size=60),
    st.text(alphabet=CRON_ALPHABET, max_size=40).map(lambda body: f"cron({body})"),
    st.lists(st.text(alphabet=CRON_ALPHABET, min_size=1, max_size=8), min_size=6, max_size=6).map(
        lambda fields: "cron(" + " ".join(fields) + ")"),
    st.text(alphabet="0123456789 dayshourminute.", max_size=20).map(lambda body: f"rate({body})"),
))
def test_random_text_only_raises_schedule_error(text):
    try:
        gap = longest_gap(text)
    except ScheduleError:
        return
    assert gap > 0


# A structured generator of valid cron expressions, and an independent (day by day) evaluation of it.
_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


@st.composite
def cron_specs(draw):
    def plain(low, high):
        return st.one_of(
            st.integers(low, high).map(lambda v: (str(v), set([v]))),
            st.tuples(st.integers(low, high), st.integers(low, high)).map(sorted).map(
                lambda ab: (f"{ab[0]}-{ab[1]}", set(range(ab[0], ab[1] + 1)))),
            st.tuples(st.integers(low, high), st.integers(1, high - low + 1)).map(
                lambda a_s: (f"{a_s[0]}/{a_s[1]}", set(range(a_s[0], high + 1, a_s[1])))),
        )

    def field(low, high, max_items=3):
        items = draw(st.lists(plain(low, high), min_size=1, max_size=max_items))
        return ",".join(text for text, _ in items), set().union(*(values for _, values in items))

    minutes = field(0, 59)
    hours = field(0, 23)
    months = draw(st.one_of(st.just(("*", set(range(1, 13)))), st.builds(lambda: None).map(lambda _: field(1, 12))))
    if draw(st.booleans()):
        items = draw(st.lists(st.one_of(
            plain(1, 31).map(lambda p: ("days",) + p),
            st.just(("last", "L", None)),
            st.just(("lastweekday", "LW", None)),
            st.integers(0, 5).map(lambda n: ("offset", f"L-{n}", n)),
            st.integers(1, 31).map(lambda d: ("nearest", f"{d}W", d)),
        ), min_size=1, max_size=3))
        dom, dow = ",".join(i[1] for i in items), "?"
        spec = ("dom", items)
    else:
        items = draw(st.lists(st.one_of(
            plain(1, 7).map(lambda p: ("days",) + p),
            st.integers(1, 7).map(lambda w: ("days", _NAMES[w - 1], {w})),
            st.integers(1, 7).map(lambda w: ("lastof", f"{w}L", w)),
            st.tuples(st.integers(1, 7), st.integers(1, 5)).map(lambda wk: ("nth", f"{wk[0]}#{wk[1]}", wk)),
        ), min_size=1, max_size=3))
        dom, dow = "?", ",".join(i[1] for i in items)
        spec = ("dow", items)
    expression = f"cron({minutes[0]} {hours[0]} {dom} {months[0]} {dow} *)"
    return expression, minutes[1], hours[1], months[1], spec


def _month_matches(spec, length, weekday_of):
    """Days of one month matching the day-of-month / day-of-week items, evaluated day by day."""
    mode, items = spec
    days = range(1, length + 1)
    weekdays = [d for d in days if weekday_of(d) not in (1, 7)]
    found = set()
    for kind, _, value in items:
        if mode == "dom":
            if kind == "days":
                found |= {d for d in days if d in value}
            elif kind == "last":
                found.add(length)
            elif kind == "offset":
                found |= {d for d in days if d == length - value}
            elif kind == "lastweekday":
                found.add(max(weekdays))
            elif kind == "nearest" and value <= length:
                # the weekday of the same month closest to `value` (ties cannot happen for a weekend day)
                found.add(min(weekdays, key=lambda d: (abs(d - value), d)))
        else:
            if kind == "days":
                found |= {d for d in days if weekday_of(d) in value}
            elif kind == "lastof":
                found |= {d for d in days if weekday_of(d) == value and d + 7 > length}
            elif kind == "nth":
                found |= {d for d in days if weekday_of(d) == value[0] and (d - 1) // 7 + 1 == value[1]}
    return found


def _brute_force_gap(expression, minutes, hours, months, spec):
    run_days = []
    for year in range(CYCLE_BASE_YEAR, CYCLE_BASE_YEAR + 400):
        for month in sorted(months):
            length = calendar.monthrange(year, month)[1]
            first = dt.date(year, month, 1)
            base = (first.weekday() + 1) % 7  # 0 = Sunday

            def weekday_of(d, base=base):
                return (base + d - 1) % 7 + 1

            run_days.extend(first.toordinal() + day - 1 for day in sorted(_month_matches(spec, length, weekday_of)))
    if not run_days:
        return None
    run_days.append(run_days[0] + 146097)
    times = sorted(h * 60 + m for h in hours for m in minutes)
    best = max((b - a) * 1440 - (times[-1] - times[0]) for a, b in zip(run_days, run_days[1:]))
    best = max([best] + [b - a for a, b in zip(times, times[1:])])
    return best / 1440


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cron_specs())
def test_cron_matches_brute_force(case):
    expression, minutes, hours, months, spec = case
    expected = _brute_force_gap(expression, minutes, hours, months, spec)
    if expected is None:
        with pytest.raises(ScheduleError):
            longest_gap(expression)
    else:
        assert longest_gap(expression) == pytest.approx(expected, abs=1e-9)


def test_many_secrets_are_cheap():
    """1000 secrets sharing a handful of schedules cost one analysis per distinct expression."""
    expressions = [f"cron(0 {h} ? * {d}#2 *)" for h in range(4) for d in range(1, 8)]
    for i in range(1000):
        longest_gap(expressions[i % len(expressions)])
    assert longest_gap("cron(0 3 ? * 7#2 *)") == pytest.approx(35)
