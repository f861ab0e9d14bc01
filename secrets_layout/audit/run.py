"""One audit from start to end: check the inputs, collect, read the access history, analyse, report.

Secrets Manager and KMS are the inventory: when they cannot be read the audit cannot say anything
and stops (AuditError, exit 2). The access history's sources are read each on its own
(sources.py): one that cannot be read is named in the report, and the rest is reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone

from secrets_layout.audit.access import Ownership, access_findings, secret_name_of, summarise_access
from secrets_layout.audit.analysis import audit_secrets, last_failures
from secrets_layout.audit.collect import AwsClients, KeyResolver, list_live_secrets
from secrets_layout.audit.findings import AuditReport
from secrets_layout.audit.options import AuditOptions, validate_options
from secrets_layout.audit.parity import untested_below
from secrets_layout.audit.sources import planned_sources, read_history
from secrets_layout.declaration.models import Declaration
from secrets_layout.declaration.parity import Lower


def run_audit(
    declaration: Declaration, options: AuditOptions, clients: AwsClients, *, now: datetime | None = None,
    lower: Mapping[str, Lower] | None = None,
) -> AuditReport:
    """`lower`: the declarations of `declaration.lower_environments` (findings.parity.lower_declarations)."""
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

    sources, source_notes = planned_sources(declaration, options, clients, now)
    history = read_history(sources)
    access = summarise_access(history.access, Ownership.of(declaration, live_by_region),
                              kms_denials=history.kms_denials)
    statuses, findings = audit_secrets(
        declaration, live_by_region, expected_keys=expected_keys, now=now, maximum_days=options.maximum_days,
        unread_days=options.unread_days, failures=_failures_by_name(history.rotation_failures),
    )
    below, below_notes = untested_below(declaration, lower or {}, clients, resolver, now)
    notes.extend(below_notes)
    findings = sorted(set(findings) | set(access_findings(access, declaration)) | set(below))
    return AuditReport(
        environment=declaration.environment, security_account=declaration.security_account, regions=tuple(regions),
        since=options.since, until=options.until, generated_at=now, maximum_rotation_days=options.maximum_days,
        unread_days=options.unread_days, statuses=tuple(statuses), findings=tuple(findings), access=tuple(access),
        access_sources=history.sources, unavailable_sources=history.unavailable,
        notes=(*notes, *source_notes, *history.notes),
    )


def _failures_by_name(failures: Iterable[tuple[str, datetime, str | None]]):
    return last_failures((secret_name_of(arn), when, message) for arn, when, message in failures)
