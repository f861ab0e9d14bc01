"""The `audit` command's hand-off: arguments -> AuditReport -> report on stdout, exit code.

Exit 0 compliant, 1 findings (or an invalid declaration), 2 usage errors and audits that could
not run (Secrets Manager or KMS refused, no credentials): never a traceback. An access history
source that cannot be read is named in the report and does not change the exit code. Every message
is one line, with any user:password of a URL masked.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from secrets_layout.audit.errors import AuditError, AuditUsageError
from secrets_layout.errors import DeclarationError
from secrets_layout.files import check_regular
from secrets_layout.reports import validation as validation_report

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def aws_clients(endpoint_url: str | None):
    """The boto3 clients of a run (standard credential resolution); tests replace this to stub a service."""
    from secrets_layout.audit.collect import AwsClients

    return AwsClients(endpoint_url=endpoint_url)


def run_audit_command(
    arguments: argparse.Namespace,
    *,
    usage_error: type[Exception],
    load: Callable,
    now: datetime | None = None,
) -> int:
    from secrets_layout.audit.messages import is_endpoint_url, mask_userinfo, printable
    from secrets_layout.audit.options import AuditOptions, maximum_rotation_days, period
    from secrets_layout.audit.run import run_audit
    from secrets_layout.findings.parity import lower_declarations
    from secrets_layout.reports.audit import RENDERERS

    path = Path(arguments.path)
    check_regular(path)
    try:
        loaded = load(path)
    except DeclarationError as error:
        sys.stdout.write(validation_report.as_text([validation_report.FileResult(str(path), error.issues)]))
        return EXIT_FINDINGS
    declaration = loaded.declaration
    lower = lower_declarations(loaded, {})
    now = now or datetime.now(timezone.utc)
    endpoint_url = arguments.endpoint_url
    if endpoint_url is not None and not is_endpoint_url(endpoint_url):
        raise usage_error(f"--endpoint-url {mask_userinfo(endpoint_url)!r} is not an endpoint URL; "
                          "write http://HOST[:PORT] or https://HOST[:PORT]")
    try:
        since, until = period(arguments.since, arguments.until, now)
        maximum_days, note = maximum_rotation_days(declaration, arguments.policy_config, path)
        options = AuditOptions(
            since=since, until=until, maximum_days=maximum_days, unread_days=arguments.unread_days,
            trail_bucket=arguments.trail_bucket, athena_workgroup=arguments.athena_workgroup,
            athena_table=arguments.athena_table, lookup_events=not arguments.no_lookup_events,
            policy_config=arguments.policy_config,
        )
        report = run_audit(declaration, options, aws_clients(endpoint_url), now=now, lower=lower)
    except AuditUsageError as error:
        raise usage_error(printable(str(error))) from None
    except AuditError as error:
        sys.stderr.write(f"secrets-layout audit: cannot audit: {printable(str(error))}\n")
        return EXIT_USAGE
    if note:
        report = dataclasses.replace(report, notes=(*report.notes, note))
    sys.stdout.write(RENDERERS[arguments.format](report))
    return EXIT_OK if report.compliant else EXIT_FINDINGS
