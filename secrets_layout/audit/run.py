"""One audit from start to end: parse the inputs, collect, analyse, return an AuditReport."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from secrets_layout.audit.analysis import (
    audit_secrets,
    denied_findings,
    last_failures,
    secret_name_of,
    summarise_access,
)
from secrets_layout.audit.collect import AwsClients, KeyResolver, describe_error, list_live_secrets
from secrets_layout.audit.errors import AuditUsageError
from secrets_layout.audit.findings import AccessEvent, AuditReport
from secrets_layout.audit.trail import (
    LOOKUP_EVENTS_DAYS,
    athena_query,
    athena_records,
    events_from_records,
    lookup_records,
    parse_s3_uri,
    s3_records,
)
from secrets_layout.declaration.models import Declaration

DEFAULT_PERIOD_DAYS = 90
DEFAULT_UNREAD_DAYS = 90
DEFAULT_MAXIMUM_DAYS = 90
"""policies' secret-rotation-max-interval default (SPEC section 5)."""
ROTATION_POLICY = "secret-rotation-max-interval"
DEFAULT_ATHENA_TABLE = "cloudtrail_logs"


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
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = datetime.fromisoformat(text).date()
            moment = datetime.combine(day, time.min, tzinfo=timezone.utc)
            return moment + timedelta(days=1) if end else moment
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise AuditUsageError(f"{flag} {text!r} is not a date; write YYYY-MM-DD or 2026-11-30T12:00:00Z") from None
    return moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


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
    from secrets_layout.findings.declared import find_policy_config

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
    if options.unread_days < 1:
        raise AuditUsageError("--unread-days must be at least 1")


def run_audit(
    declaration: Declaration, options: AuditOptions, clients: AwsClients, *, now: datetime | None = None
) -> AuditReport:
    now = now or datetime.now(timezone.utc)
    validate_options(options)
    notes: list[str] = []
    resolver = KeyResolver(clients)
    prefix = f"{declaration.environment}/"
    regions = declaration.regions
    expected_keys = {}
    for region in regions:
        reference = declaration.kms.keys.get(region) or f"alias/secrets/{declaration.environment}"
        expected_keys[region] = resolver(region, reference)
        if expected_keys[region] is None:
            notes.append(f"{region}: the key {reference} does not exist; key drift was not checked there")
    live_by_region = {region: list_live_secrets(clients, region, prefix, resolver) for region in regions}

    events: list[AccessEvent] = []
    failures: list[tuple[str, datetime, str | None]] = []
    sources: list[str] = []
    for source, records in _trail_sources(declaration, options, clients, now, notes):
        sources.append(source)
        found = events_from_records(records)
        events.extend(found.access)
        failures.extend(found.failures)
    access = summarise_access(_unique(events), [secret.name for secret in declaration.secrets])
    statuses, findings = audit_secrets(
        declaration, live_by_region, expected_keys=expected_keys, now=now, maximum_days=options.maximum_days,
        unread_days=options.unread_days, failures=_failures_by_name(failures),
    )
    findings = sorted(set(findings) | set(denied_findings(access, declaration.primary_region)))
    return AuditReport(
        environment=declaration.environment, security_account=declaration.security_account, regions=tuple(regions),
        since=options.since, until=options.until, generated_at=now, maximum_rotation_days=options.maximum_days,
        unread_days=options.unread_days, statuses=tuple(statuses), findings=tuple(findings), access=tuple(access),
        access_sources=tuple(sources), notes=tuple(notes),
    )


def _failures_by_name(failures: Iterable[tuple[str, datetime, str | None]]):
    return last_failures((secret_name_of(arn), when, message) for arn, when, message in failures)


def _unique(events: Iterable[AccessEvent]) -> list[AccessEvent]:
    """The same read seen by two sources (LookupEvents and the trail) counts once."""
    return list(dict.fromkeys(events))


def _trail_sources(declaration: Declaration, options: AuditOptions, clients: AwsClients, now: datetime,
                   notes: list[str]):
    account = declaration.security_account
    regions = declaration.regions
    if options.lookup_events:
        horizon = now - timedelta(days=LOOKUP_EVENTS_DAYS)
        since = max(options.since, horizon)
        if options.since < horizon and not (options.trail_bucket or options.athena_workgroup):
            notes.append(f"CloudTrail LookupEvents keeps {LOOKUP_EVENTS_DAYS} days: access before "
                         f"{horizon:%Y-%m-%d} needs --trail-bucket or --athena-workgroup")
        if since < options.until:
            for region in regions:
                yield f"CloudTrail LookupEvents ({region})", _guarded(
                    lookup_records(clients("cloudtrail", region), since, options.until),
                    f"cloudtrail LookupEvents in {region}")
    if options.trail_bucket:
        yield f"trail log files in {options.trail_bucket}", _guarded(
            s3_records(clients("s3", declaration.primary_region), options.trail_bucket, account=account,
                       regions=regions, organization_id=declaration.organization_id, since=options.since,
                       until=options.until),
            f"s3 {options.trail_bucket}")
    if options.athena_workgroup:
        query = athena_query(options.athena_table, account=account, since=options.since, until=options.until)
        yield f"Athena {options.athena_table} (workgroup {options.athena_workgroup})", _guarded(
            athena_records(clients("athena", declaration.primary_region), workgroup=options.athena_workgroup,
                           query=query),
            f"athena workgroup {options.athena_workgroup}")


def _guarded(records, what: str):
    try:
        yield from records
    except (ClientError, BotoCoreError) as error:
        raise describe_error(error, what) from None
