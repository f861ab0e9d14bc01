"""The access history's sources, each read whole or reported as not read.

One source that cannot be read (LookupEvents refused, or not implemented by an emulator; a bucket that
is not there; an Athena query that fails) never voids the audit: the others are read, and the report
names the missing source, the reason and how to run without it. The audit exits by its findings; only
what the inventory needs (Secrets Manager, KMS) stops it (run.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from secrets_layout.audit.collect import AwsClients, error_reason
from secrets_layout.audit.errors import AuditError, AuditUsageError, ReadOnlyViolation
from secrets_layout.audit.findings import AccessEvent, KmsDenial, UnavailableSource
from secrets_layout.audit.messages import printable
from secrets_layout.audit.options import AuditOptions
from secrets_layout.audit.trail import (
    LOOKUP_EVENTS_DAYS,
    athena_query,
    athena_records,
    events_from_records,
    lookup_records,
    s3_records,
)
from secrets_layout.declaration.models import Declaration

Note = Callable[[str], None]


@dataclass(frozen=True)
class AccessSource:
    name: str
    """As the report names it: "CloudTrail LookupEvents (us-east-1)"."""
    skip: str
    """How to run without it: "add --no-lookup-events"."""
    records: Callable[[Note], Iterable[Mapping[str, Any]]]
    """The CloudTrail records; the argument hears notes about what was (not) found."""


@dataclass(frozen=True)
class AccessHistory:
    access: tuple[AccessEvent, ...]
    rotation_failures: tuple[tuple[str, datetime, str | None], ...]
    kms_denials: tuple[KmsDenial, ...]
    sources: tuple[str, ...]
    """The sources read."""
    unavailable: tuple[UnavailableSource, ...]
    notes: tuple[str, ...]


def planned_sources(declaration: Declaration, options: AuditOptions, clients: AwsClients, now: datetime
                    ) -> tuple[list[AccessSource], list[str]]:
    """The sources the options ask for, in the report's order, and notes about what they cannot cover."""
    account, regions, primary = declaration.security_account, declaration.regions, declaration.primary_region
    sources: list[AccessSource] = []
    notes: list[str] = []
    if options.lookup_events:
        horizon = now - timedelta(days=LOOKUP_EVENTS_DAYS)
        since = max(options.since, horizon)
        if options.since < horizon and not (options.trail_bucket or options.athena_workgroup):
            notes.append(f"CloudTrail LookupEvents keeps {LOOKUP_EVENTS_DAYS} days: access before "
                         f"{horizon:%Y-%m-%d} needs --trail-bucket or --athena-workgroup")
        if since < options.until:
            sources += [
                AccessSource(f"CloudTrail LookupEvents ({region})", "add --no-lookup-events",
                             lambda note, region=region, since=since: lookup_records(
                                 clients("cloudtrail", region), since, options.until))
                for region in regions
            ]
    if options.trail_bucket:
        sources.append(AccessSource(
            f"trail log files in {options.trail_bucket}", "leave out --trail-bucket",
            lambda note: s3_records(clients("s3", primary), options.trail_bucket, account=account, regions=regions,
                                    since=options.since, until=options.until, note=note)))
    if options.athena_workgroup:
        query = athena_query(options.athena_table, account=account, since=options.since, until=options.until)
        sources.append(AccessSource(
            f"Athena {options.athena_table} (workgroup {options.athena_workgroup})", "leave out --athena-workgroup",
            lambda note: athena_records(clients("athena", primary), workgroup=options.athena_workgroup, query=query)))
    return sources, notes


def read_history(sources: Iterable[AccessSource]) -> AccessHistory:
    """Every source read to its end; one that fails part way counts as not read (no partial history)."""
    access: list[AccessEvent] = []
    failures: list[tuple[str, datetime, str | None]] = []
    denials: list[KmsDenial] = []
    read: list[str] = []
    unavailable: list[UnavailableSource] = []
    notes: list[str] = []
    for source in sources:
        heard: list[str] = []
        try:
            found = events_from_records(source.records(heard.append))
        except (ReadOnlyViolation, AuditUsageError):
            raise
        except (ClientError, BotoCoreError) as error:
            unavailable.append(UnavailableSource(source.name, error_reason(error), source.skip))
            continue
        except AuditError as error:
            unavailable.append(UnavailableSource(source.name, printable(str(error)), source.skip))
            continue
        read.append(source.name)
        access += found.access
        failures += found.failures
        denials += found.kms_denials
        notes += [printable(note) for note in heard]
    return AccessHistory(tuple(access), tuple(failures), tuple(denials), tuple(read), tuple(unavailable), tuple(notes))
