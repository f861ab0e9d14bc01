"""`preview --format json`: the SPEC section 7 document, stable keys, sorted for diffing.

Everything SPEC names is there with its name; additions (changed_properties, notes, the base
cost and delta, counts per change, each resource's inputs with secrets masked and the options
that decide what the engine does with it, its policy document's statement changes, and who can
read each secret before and after with every widening) only add keys. The document's JSON Schema is
secrets_layout/reports/preview.schema.json, and a test holds every output to it.
"""

from __future__ import annotations

import json
from decimal import Decimal

from secrets_layout.declaration.cost import CostEstimate
from secrets_layout.engine.changes import CHANGES
from secrets_layout.preview import PreviewReport
from secrets_layout.review.access_diff import AccessChange, AccessReview
from secrets_layout.review.policy_diff import PolicyDiff


def as_document(report: PreviewReport) -> dict:
    document = {
        "environment": report.environment,
        "file": report.file,
        "policy_config": report.policy_config,
        "base": report.base,
        "resources": [
            {
                "urn": resource.change.urn,
                "type": resource.change.type,
                "name": resource.change.name,
                "change": resource.change.change,
                "changed_properties": list(resource.change.changed_properties),
                "replace_properties": list(resource.change.replace_properties),
                "changed_options": [
                    {"option": option.option, "before": option.before, "after": option.after}
                    for option in resource.change.changed_options
                ],
                "blocked": resource.change.blocked,
                "previous_urn": resource.change.previous_urn,
                "note": resource.change.note,
                "file": resource.file,
                "line": resource.line,
                "inputs": resource.change.inputs,
                "options": resource.change.options,
                "policy_diffs": [_policy_diff(diff) for diff in resource.change.policy_diffs],
            }
            for resource in report.resources
        ],
        "violations": [
            {
                "policy": violation.policy,
                "level": violation.level,
                "urn": violation.urn,
                "message": violation.message,
                "file": violation.file,
                "line": violation.line,
                "column": violation.column,
                "inherited_by": list(violation.inherited_by),
            }
            for violation in report.violations
        ],
        "cost": _cost(report.cost, report.base_cost),
        "summary": {
            "resources": len(report.resources),
            "mandatory": len(report.mandatory),
            "advisory": len(report.advisory),
            **{change: report.count(change) for change in CHANGES},
            "blocked": sum(1 for resource in report.resources if resource.change.blocked),
            "widenings": 0 if report.access is None else len(report.access.widenings) + len(report.access.denies),
        },
        "warnings": list(report.warnings),
        "access": None if report.access is None else _access(report.access),
    }
    return document


def _policy_diff(diff: PolicyDiff) -> dict:
    return {
        "property": diff.property,
        "unreadable": diff.unreadable,
        "statements": [
            {"change": statement.change, "sid": statement.sid, "label": statement.label, "effect": statement.effect,
             "weakens_deny": statement.weakens_deny,
             "elements": [{"element": element.element, "added": list(element.added), "removed": list(element.removed),
                           "kept": list(element.kept)} for element in statement.elements]}
            for statement in diff.statements
        ],
    }


def _access(access: AccessReview) -> dict:
    return {
        "widenings": [_reader(change) for change in access.widenings],
        "weakened_denies": [{"kind": deny.kind, "resource": deny.resource, "type": deny.resource_type,
                             "statement": deny.statement, "details": list(deny.details)} for deny in access.denies],
        "readers": [_reader(change) for change in access.changes],
        "problems": list(access.problems),
    }


def _reader(change: AccessChange) -> dict:
    return {
        "secret": change.secret, "region": change.region, "account": change.reader.account,
        "principal": change.reader.principal, "before": list(change.before), "after": list(change.after),
        "depends_on_before": list(change.depends_before), "depends_on_after": list(change.depends_after),
        "widening": change.widening,
    }


def _cost(cost: CostEstimate, base: CostEstimate | None) -> dict:
    document = {
        "monthly_usd": _usd(cost.monthly_usd),
        "prices_as_of": cost.prices_as_of.isoformat(),
        "items": [{"what": item.what, "monthly_usd": _usd(item.monthly_usd)} for item in cost.items],
    }
    if base is not None:
        document["base_monthly_usd"] = _usd(base.monthly_usd)
        document["delta_monthly_usd"] = _usd(cost.monthly_usd - base.monthly_usd)
    return document


def _usd(amount: Decimal) -> float:
    return float(amount.quantize(Decimal("0.0001")))


def render(report: PreviewReport) -> str:
    return json.dumps(as_document(report), indent=2) + "\n"
