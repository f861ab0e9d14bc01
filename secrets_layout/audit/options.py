"""The audit's inputs: the command line's dates, day counts, S3 URI, table and policy config, checked
before any AWS call (each problem an AuditUsageError: exit 2)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

from secrets_layout.audit.errors import AuditUsageError
from secrets_layout.audit.trail import athena_query, parse_s3_uri
from secrets_layout.declaration.models import Declaration

DEFAULT_PERIOD_DAYS = 90
DEFAULT_UNREAD_DAYS = 90
MOST_UNREAD_DAYS = 36500
"""A hundred years: longer means "never report unread secrets" and would overflow date arithmetic."""
DEFAULT_MAXIMUM_DAYS = 90
"""policies' secret-rotation-max-interval default (SPEC section 5)."""
ROTATION_POLICY = "secret-rotation-max-interval"
DEFAULT_ATHENA_TABLE = "cloudtrail_logs"
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(9999, 12, 30, 23, 59, 59, tzinfo=timezone.utc)
"""Dates the audit accepts: a day is added to --until and 90 days taken from it, within Python's
datetime range (years 1-9999); CloudTrail itself began in 2013."""


@dataclass(frozen=True)
class AuditOptions:
    since: datetime
    until: datetime
    maximum_days: int
    unread_days: int = DEFAULT_UNREAD_DAYS
    trail_bucket: str | None = None
    athena_workgroup: str | None = None
    athena_table: str = DEFAULT_ATHENA_TABLE
    lookup_events: bool = True
    policy_config: str | None = None


def parse_date(text: str, flag: str, *, end: bool = False) -> datetime:
    """YYYY-MM-DD (the whole day; --until includes it) or an ISO 8601 time; UTC unless it says otherwise."""
    out_of_range = AuditUsageError(f"{flag} {text!r} is out of range; write a date from {EARLIEST:%Y-%m-%d} to "
                                   f"{LATEST:%Y-%m-%d}")
    whole_day = re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) is not None
    try:
        if whole_day:
            moment = datetime.combine(datetime.fromisoformat(text).date(), time.min, tzinfo=timezone.utc)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            moment = moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    except ValueError:
        raise AuditUsageError(f"{flag} {text!r} is not a date; write YYYY-MM-DD or 2026-11-30T12:00:00Z") from None
    except OverflowError:
        raise out_of_range from None
    if not EARLIEST <= moment <= LATEST:
        raise out_of_range
    return moment + timedelta(days=1) if end and whole_day else moment


def period(since: str | None, until: str | None, now: datetime) -> tuple[datetime, datetime]:
    end = parse_date(until, "--until", end=True) if until else now
    start = parse_date(since, "--since") if since else end - timedelta(days=DEFAULT_PERIOD_DAYS)
    if start >= end:
        raise AuditUsageError(f"--since ({start:%Y-%m-%d %H:%M}) must be before --until ({end:%Y-%m-%d %H:%M})")
    return start, min(end, now)


def maximum_rotation_days(declaration: Declaration, policy_config: str | None,
                          declaration_file: str | os.PathLike[str] | None = None) -> tuple[int, str | None]:
    """maximumDays of secret-rotation-max-interval from the pack's config (the default when absent):
    `policy_config`, else policies/config/<environment>.json of the declaration's repository."""
    from secrets_layout.repository import find_policy_config

    found = find_policy_config(declaration_file, declaration.environment) if declaration_file is not None else None
    path = Path(policy_config) if policy_config else found
    if path is None or not path.is_file():
        if policy_config:
            raise AuditUsageError(f"{policy_config}: no such file")
        return DEFAULT_MAXIMUM_DAYS, (f"no policies/config/{declaration.environment}.json in the declaration's "
                                      f"repository; maximumDays {DEFAULT_MAXIMUM_DAYS} (the pack's default)")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise AuditUsageError(f"{path}: not a policy config ({error})") from None
    settings = document.get(ROTATION_POLICY, {}) if isinstance(document, dict) else {}
    value = settings.get("maximumDays", DEFAULT_MAXIMUM_DAYS) if isinstance(settings, dict) else DEFAULT_MAXIMUM_DAYS
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1000:
        raise AuditUsageError(f"{path}: {ROTATION_POLICY}.maximumDays must be a whole number of days (1-1000)")
    return value, None


def validate_options(options: AuditOptions) -> None:
    """Usage errors surface before any AWS call."""
    if options.trail_bucket:
        parse_s3_uri(options.trail_bucket)
    if options.athena_workgroup:
        athena_query(options.athena_table, account="000000000000", since=options.since, until=options.until)
    if not 1 <= options.unread_days <= MOST_UNREAD_DAYS:
        raise AuditUsageError(f"--unread-days must be a whole number of days from 1 to {MOST_UNREAD_DAYS}")
