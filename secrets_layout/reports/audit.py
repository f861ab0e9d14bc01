"""The audit report as text (a terminal), JSON (machines) and markdown (an issue or a PR comment).

Nothing here can print a secret value: the report never holds one.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from secrets_layout.audit.findings import AuditReport, PrincipalAccess, UnavailableSource

AUDIT_JSON_VERSION = 2
"""2: access items report reads and failed attempts apart (last_read, failed, last_failed, errors,
denied, denied_by_kms, last_denied instead of last_seen); unavailable_sources."""


def _when(moment: datetime | None, *, with_time: bool = False) -> str:
    if moment is None:
        return "-"
    return f"{moment:%Y-%m-%d %H:%M}" if with_time else f"{moment:%Y-%m-%d}"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def as_dict(report: AuditReport) -> dict[str, Any]:
    return {
        "version": AUDIT_JSON_VERSION,
        "environment": report.environment,
        "security_account": report.security_account,
        "regions": list(report.regions),
        "period": {"since": _iso(report.since), "until": _iso(report.until)},
        "generated_at": _iso(report.generated_at),
        "compliant": report.compliant,
        "maximum_rotation_days": report.maximum_rotation_days,
        "unread_days": report.unread_days,
        "secrets": [
            {
                "name": status.name, "region": status.region, "declared": status.declared,
                "rotation_enabled": status.rotation_enabled, "last_rotated": _iso(status.last_rotated),
                "next_rotation": _iso(status.next_rotation), "last_accessed": _iso(status.last_accessed),
                "rotation_stuck": status.stuck, "last_rotation_failure": _iso(status.last_failure),
                "last_rotation_failure_message": status.last_failure_message,
            }
            for status in report.statuses
        ],
        "findings": [
            {"secret": item.secret, "region": item.region, "kind": item.kind, "message": item.message}
            for item in report.findings
        ],
        "access": [
            {"secret": item.secret, "account": item.account, "principal": item.principal,
             "reads": item.reads, "last_read": _iso(item.last_read),
             "failed": item.failed, "last_failed": _iso(item.last_failed), "errors": dict(item.errors),
             "denied": item.denied, "denied_by_kms": item.denied_by_kms, "last_denied": _iso(item.last_denied)}
            for item in report.access
        ],
        "access_sources": list(report.access_sources),
        "unavailable_sources": [
            {"source": item.source, "reason": item.reason, "skip": item.skip} for item in report.unavailable_sources
        ],
        "notes": list(report.notes),
        "summary": {"secrets": len(report.statuses), "findings": len(report.findings),
                    "by_kind": dict(sorted(Counter(item.kind for item in report.findings).items()))},
    }


def render_json(report: AuditReport) -> str:
    return json.dumps(as_dict(report), indent=2) + "\n"


def _header(report: AuditReport) -> str:
    return (f"environment {report.environment}, account {report.security_account}, "
            f"regions {', '.join(report.regions)}; access {_when(report.since)} .. {_when(report.until)}; "
            f"maximumDays {report.maximum_rotation_days}, unread after {report.unread_days} days")


def _rotation_cell(status) -> str:
    if status.stuck:
        return "STUCK"
    return "on" if status.rotation_enabled else "off"


def _errors(item: PrincipalAccess) -> str:
    return ", ".join(f"{code} {count}" for code, count in item.errors)


def _access_counts(item: PrincipalAccess) -> str:
    reads = f"{item.reads} read(s)" + (f", last read {_when(item.last_read, with_time=True)}" if item.last_read else "")
    if not item.failed:
        return reads
    return (f"{reads}; {item.failed} failed ({_errors(item)}), last failed "
            f"{_when(item.last_failed, with_time=True)}")


def _no_reads(report: AuditReport) -> str:
    return "no reads in the period" if report.access_sources else "no source was read: the access history is unknown"


def _unavailable(item: UnavailableSource) -> str:
    return f"{item.source}: {item.reason}; to skip it, {item.skip}"


def render_text(report: AuditReport) -> str:
    lines = [f"secrets-layout audit: {_header(report)}", "", "Rotation and usage:"]
    rows = [("secret", "region", "rotation", "last rotated", "next", "last read", "last failure")]
    rows += [(status.name + ("" if status.declared else " (undeclared)"), status.region, _rotation_cell(status),
              _when(status.last_rotated), _when(status.next_rotation), _when(status.last_accessed),
              _when(status.last_failure, with_time=True)) for status in report.statuses]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines += ["  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines += ["", f"Access ({', '.join(report.access_sources) or 'no source read'}):"]
    lines += [f"  not read: {_unavailable(item)}" for item in report.unavailable_sources]
    lines += [f"  {item.secret}: {item.principal} (account {item.account}): {_access_counts(item)}"
              for item in report.access] or [f"  {_no_reads(report)}"]
    lines += ["", f"Findings ({len(report.findings)}):"]
    lines += [f"  {item.kind}  {item.secret} ({item.region}): {item.message}" for item in report.findings] or ["  none"]
    if report.notes:
        lines += ["", "Notes:"] + [f"  {note}" for note in report.notes]
    verdict = "compliant" if report.compliant else f"{len(report.findings)} finding(s)"
    lines += ["", f"Result: {verdict}"]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(report: AuditReport) -> str:
    verdict = "compliant" if report.compliant else f"{len(report.findings)} finding(s)"
    lines = [f"## secrets-layout audit: {report.environment} ({verdict})", "", _md(_header(report)), "",
             "### Findings", ""]
    if report.findings:
        lines += ["| kind | secret | region | what and how to fix |", "|---|---|---|---|"]
        lines += [f"| `{item.kind}` | `{_md(item.secret)}` | {item.region} | {_md(item.message)} |"
                  for item in report.findings]
    else:
        lines.append("None.")
    lines += ["", "### Rotation and usage", "",
              "| secret | region | rotation | last rotated | next | last read | last failure |",
              "|---|---|---|---|---|---|---|"]
    lines += [f"| `{_md(status.name)}`{'' if status.declared else ' (undeclared)'} | {status.region} | "
              f"{_rotation_cell(status)} | {_when(status.last_rotated)} | {_when(status.next_rotation)} | "
              f"{_when(status.last_accessed)} | {_when(status.last_failure, with_time=True)} |"
              for status in report.statuses]
    lines += ["", f"### Access ({_md(', '.join(report.access_sources) or 'no source read')})", ""]
    lines += [f"- not read: {_md(_unavailable(item))}" for item in report.unavailable_sources]
    if report.unavailable_sources:
        lines.append("")
    if report.access:
        lines += ["| secret | account | principal | reads | last read | failed | last failed |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| `{_md(item.secret)}` | {item.account} | `{_md(item.principal)}` | {item.reads} | "
                  f"{_when(item.last_read, with_time=True)} | {item.failed}"
                  + (f" ({_md(_errors(item))})" if item.failed else "")
                  + f" | {_when(item.last_failed, with_time=True)} |" for item in report.access]
    else:
        lines.append(_no_reads(report).capitalize() + ".")
    if report.notes:
        lines += ["", "### Notes", ""] + [f"- {_md(note)}" for note in report.notes]
    return "\n".join(lines) + "\n"


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown}
