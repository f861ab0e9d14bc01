"""`preview --format sarif`: SARIF 2.1.0 for code scanning; each violation at its YAML line.

Invalid declarations are reported the same way (rule `declaration-invalid`), so a pull request
shows a broken file where it is broken.
"""

from __future__ import annotations

import json
from pathlib import PurePath
from urllib.parse import quote

from secrets_layout.errors import Issue
from secrets_layout.preview import PreviewReport

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL = "secrets-layout"
LEVELS = {"mandatory": "error", "advisory": "warning", "remediate": "error"}
INVALID_RULE = "declaration-invalid"


def _result(rule: str, level: str, message: str, file: str, line: int, column: int, **properties: str) -> dict:
    result = {
        "ruleId": rule,
        "level": level,
        "message": {"text": message},
        "locations": [{"physicalLocation": {
            # A URI reference (SARIF 2.1.0, 3.4.3): a name's spaces, newlines and the like percent-encoded.
            "artifactLocation": {"uri": quote(PurePath(file).as_posix()), "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": line, "startColumn": column},
        }}],
    }
    if properties:
        result["properties"] = properties
    return result


def _document(rules: dict[str, str], results: list[dict]) -> str:
    driver = {
        "name": TOOL,
        "informationUri": "https://www.pulumi.com/docs/iac/using-pulumi/crossguard/",
        "rules": [{"id": rule, "shortDescription": {"text": text}} for rule, text in sorted(rules.items())],
    }
    document = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": results}]}
    return json.dumps(document, indent=2) + "\n"


CHANGE_RULES = {
    "change-blocked-by-protect": "The engine refuses this delete or replace: the resource is protected",
    "secret-replaced": "A secret is replaced: a new secret with a new ARN, and the old one deleted",
}


def render(report: PreviewReport) -> str:
    violations = [violation for violation in report.violations if violation.level in LEVELS]
    rules = {violation.policy: f"Policy {violation.policy} of the secrets-layout policy pack" for violation in violations}
    results = [
        _result(violation.policy, LEVELS[violation.level], violation.message, violation.file, violation.line,
                violation.column, urn=violation.urn, enforcementLevel=violation.level)
        for violation in violations
    ]
    for resource in report.resources:
        change = resource.change
        rule = ("change-blocked-by-protect" if change.blocked else
                "secret-replaced" if change.change == "replace" and change.type == "aws:secretsmanager/secret:Secret"
                else None)
        if rule is None:
            continue
        rules[rule] = CHANGE_RULES[rule]
        # A deletion has no declaration line any more: it is reported at the top of the file.
        message = f"{change.change} of {change.name} ({change.type}): {change.note}"
        results.append(_result(rule, "error" if change.blocked else "warning", message, resource.file,
                               resource.line or 1, 1, urn=change.urn, change=change.change))
    return _document(rules, results)


def render_invalid(issues: list[Issue]) -> str:
    results = [_result(INVALID_RULE, "error", f"{issue.path}: {issue.message}", issue.file, issue.line, issue.column)
               for issue in issues]
    return _document({INVALID_RULE: "The declaration is not valid (secrets-layout validate)"}, results)
