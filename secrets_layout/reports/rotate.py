"""The rotation drill's report as text (a terminal), JSON (machines) and markdown (an issue or a PR comment).

Nothing here can print a secret value: the report never holds one. What AWS said (versions, function
names, status messages) is printed as one line each.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from secrets_layout.audit.messages import printable
from secrets_layout.drill.model import DrillReport, Outcome, ReplicaState, SecretDrill
from secrets_layout.reports.markdown_escape import cell, code

ROTATE_JSON_VERSION = 1


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _text(value: str | None) -> str | None:
    return printable(value) if value is not None else None


def as_dict(report: DrillReport) -> dict[str, Any]:
    return {
        "version": ROTATE_JSON_VERSION,
        "environment": report.environment,
        "security_account": report.security_account,
        "region": report.region,
        "wait_seconds": report.wait_seconds,
        "started_at": _iso(report.started_at),
        "succeeded": report.succeeded,
        "secrets": [_secret_dict(item) for item in report.secrets],
        "notes": list(report.notes),
        "summary": {"secrets": len(report.secrets),
                    "by_outcome": dict(sorted(Counter(item.outcome.value for item in report.secrets).items()))},
    }


def _secret_dict(item: SecretDrill) -> dict[str, Any]:
    return {
        "name": item.name, "region": item.region, "outcome": item.outcome.value, "function": _text(item.function),
        "version": _text(item.version), "previous_version": _text(item.previous_version),
        "seconds": round(item.seconds, 1) if item.seconds is not None else None,
        "current_moved": item.current_moved,
        "replicas": [{"region": state.region, "status": state.status, "caught_up": state.caught_up,
                      "message": _text(state.message)} for state in item.replicas],
        "reason": item.reason,
        "rotation_failed": ({"time": _iso(item.rotation_failed.time), "message": item.rotation_failed.message}
                            if item.rotation_failed else None),
        "function_error": ({"time": _iso(item.function_error.time), "log_group": item.function_error.group,
                            "text": item.function_error.text} if item.function_error else None),
        "what_to_do": item.what_to_do,
    }


def render_json(report: DrillReport) -> str:
    return json.dumps(as_dict(report), indent=2) + "\n"


def _header(report: DrillReport) -> str:
    return (f"environment {report.environment}, account {report.security_account}, {report.region}; "
            f"up to {report.wait_seconds} s per secret")


def _verdict(report: DrillReport) -> str:
    succeeded = sum(item.outcome is Outcome.SUCCEEDED for item in report.secrets)
    return f"{succeeded} of {len(report.secrets)} rotation{'s' if len(report.secrets) != 1 else ''} succeeded"


def _headline(item: SecretDrill) -> str:
    took = f"{item.seconds:.1f} s" if item.seconds is not None else None
    return {
        Outcome.SUCCEEDED: f"succeeded in {took}",
        Outcome.FAILED: f"failed after {took}" if took else "failed",
        Outcome.NOT_FINISHED: f"not finished after {took}" if took else "not finished",
        Outcome.ALREADY_ROTATING: "already rotating, not started again",
        Outcome.NOT_STARTED: "not started",
    }[item.outcome]


def _version_cell(item: SecretDrill) -> str | None:
    if item.version is None:
        return None
    version, previous = printable(item.version), _text(item.previous_version) or "none"
    if item.current_moved:
        return f"{version} is AWSCURRENT (was {previous})"
    if item.outcome is Outcome.ALREADY_ROTATING:
        return f"{version} holds AWSPENDING (AWSCURRENT: {previous})"
    return f"{version}; AWSCURRENT stays on {previous}"


def _replica(state: ReplicaState) -> str:
    if state.caught_up:
        return f"{state.region} caught up"
    return f"{state.region} {state.status}" + (f" ({printable(state.message)})" if state.message else "")


def _rows(item: SecretDrill) -> list[tuple[str, str]]:
    rows = [("function", _text(item.function)), ("version", _version_cell(item))]
    if item.current_moved:
        rows.append(("replicas", "; ".join(_replica(state) for state in item.replicas) or "none"))
    rows += [("reason", item.reason)]
    if item.rotation_failed is not None and (item.reason is None or "RotationFailed" not in item.reason):
        rows.append(("CloudTrail", f"RotationFailed at {item.rotation_failed.time:%Y-%m-%d %H:%M:%S} UTC: "
                                   f"{item.rotation_failed.message or 'no message'}"))
    rows.append(("what to do", item.what_to_do))
    return [(label, value) for label, value in rows if value]


def render_text(report: DrillReport) -> str:
    lines = [f"secrets-layout rotate: {_header(report)}", ""]
    for item in report.secrets:
        lines.append(f"{item.name}: {_headline(item)}")
        lines += [f"  {label:<11} {value}" for label, value in _rows(item)]
    if report.notes:
        lines += ["", "Notes:"] + [f"  {note}" for note in report.notes]
    lines += ["", f"Result: {_verdict(report)}"]
    return "\n".join(lines) + "\n"


def render_markdown(report: DrillReport) -> str:
    # Reasons and notes carry what a rotation function logged: any text, kept inside its cell.
    lines = [f"## secrets-layout rotate: {report.environment} ({_verdict(report)})", "", cell(_header(report)), "",
             "| secret | outcome | version | AWSCURRENT moved | replicas | reason and what to do |",
             "|---|---|---|---|---|---|"]
    for item in report.secrets:
        replicas = "; ".join(_replica(state) for state in item.replicas) if item.current_moved else ""
        what_to_do = f"**What to do:** {cell(item.what_to_do)}" if item.what_to_do else None
        said = ". ".join(part for part in (cell(item.reason) if item.reason else None, what_to_do) if part)
        lines.append(f"| {code(item.name)} | {_headline(item)} | {cell(_version_cell(item) or '-')} | "
                     f"{'yes' if item.current_moved else 'no'} | {cell(replicas or '-')} | {said or '-'} |")
    if report.notes:
        lines += ["", "### Notes", ""] + [f"- {cell(note)}" for note in report.notes]
    return "\n".join(lines) + "\n"


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown}
