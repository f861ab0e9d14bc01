"""`preview --format markdown`: a pull-request comment.

Summary first, then what widens access and what removes a safeguard, what blocks the merge
(violations, each linked to its YAML line), the changes, the policy statements that change, who
can read each secret before and after, and the cost delta. Unchanged resources fold away. A
failing report (a mandatory violation, a step protect blocks) never shows a success mark.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from secrets_layout.preview import PreviewReport
from secrets_layout.reports import markdown_escape as escape
from secrets_layout.reports import review_markdown, review_rows

MARKER = "<!-- secrets-layout-preview -->"
FOLD_ABOVE = 25
"""Change lists longer than this start folded, so violations stay on the first screen."""
"""Lets a workflow find and update its own comment instead of adding a new one per push."""
LEVEL_ICON = {"mandatory": "🔴", "advisory": "🟡"}
CHANGE_ICON = {"create": "➕", "update": "✏️", "replace": "♻️", "delete": "➖", "import": "📥", "same": ""}
COUNTED = ("create", "update", "replace", "delete", "import")


def render(report: PreviewReport, *, link_base: str | None = None) -> str:
    """`link_base`: where file links point (e.g. https://github.com/org/repo/blob/<sha>); relative if None."""
    lines = [f"{MARKER}", f"### secrets-layout preview: {escape.code(report.environment)} ({escape.text(report.file)})", ""]
    lines.append(_headline(report))
    lines.extend(f"> ⚠️ {escape.cell(warning)}" for warning in report.warnings)
    lines.append("")
    lines.extend(review_markdown.widenings(report))
    lines.extend(review_markdown.safeguards(report))
    lines.extend(_violations(report, link_base))
    lines.extend(_changes(report, link_base))
    lines.extend(review_markdown.policy_changes(report, fold_above=FOLD_ABOVE))
    lines.extend(review_markdown.access(report))
    lines.extend(_cost(report))
    lines.append(f"<sub>Simulated offline with the policy config {escape.code(report.policy_config)}; "
                 "secret values are never shown.</sub>")
    return "\n".join(lines) + "\n"


def _headline(report: PreviewReport) -> str:
    mandatory = len(report.mandatory)
    verdict = f"❌ **{mandatory} mandatory policy violation{'s' if mandatory != 1 else ''}**" if mandatory else "✅ no mandatory policy violation"
    if report.fails and not mandatory:
        # A step protect blocks fails the report as `pulumi preview` fails: no success mark for it.
        verdict = "❌ no mandatory policy violation, but the engine refuses a step"
    unprotected = len(review_rows.unprotected(report))
    if unprotected:
        verdict += f" · ⛔ **{unprotected} safeguard{'s' if unprotected != 1 else ''} removed** (`protect` true → false)"
    if report.access is not None and report.access.widened:
        widened = len(review_rows.widening_rows(report)) + len(review_rows.deny_rows(report))
        verdict += f" · ⚠️ **{widened} access widening{'s' if widened != 1 else ''}**"
    changes = " · ".join(f"{report.count(change)} to {change}" for change in COUNTED if report.count(change))
    changes = changes or "no resource changes"
    blocked = len(report.blocked)
    if blocked:
        changes = f"⛔ **{blocked} blocked by protect** · {changes}"
    cost = f"**{report.cost.monthly_usd:.2f} USD/month**"
    if report.base_cost is not None:
        cost += f" ({report.cost.monthly_usd - report.base_cost.monthly_usd:+.2f} against {escape.code(report.base)})"
    return f"{verdict} · {len(report.advisory)} advisory · {changes} · {cost}"


def _link(file: str, line: int | None, link_base: str | None) -> str:
    """`[file:line](target#Lline)`: the text escaped, the target percent-encoded (a name may hold a
    newline, a space, a parenthesis), so a file name can neither end the link nor the table row."""
    if line is None:
        return escape.text(file)
    target = f"{link_base.rstrip('/')}/{quote(file)}" if link_base else quote(file)
    return f"[{escape.text(file)}:{line}]({target}#L{line})"


def _violations(report: PreviewReport, link_base: str | None) -> list[str]:
    if not report.violations:
        return []
    lines = ["#### Policy violations", "", "| level | policy | where | message |", "|---|---|---|---|"]
    for violation in sorted(report.violations, key=lambda found: (found.level != "mandatory", found.line)):
        lines.append(f"| {LEVEL_ICON.get(violation.level, '')} {violation.level} | {escape.code(violation.policy)} | "
                     f"{_link(violation.file, violation.line, link_base)} | {escape.cell(violation.message)} |")
    return lines + [""]


def _changes(report: PreviewReport, link_base: str | None) -> list[str]:
    changed = [resource for resource in report.resources if resource.change.shown]
    lines = ["#### Changes", ""]
    if len(changed) > FOLD_ABOVE:
        lines += [f"<details><summary>{len(changed)} changed resources</summary>", ""]
    if changed:
        lines += ["| change | resource | type | declared at | details |", "|---|---|---|---|---|"]
        for resource in changed:
            change = resource.change
            kind = f"{CHANGE_ICON[change.change]} {'**' + change.change + '**' if change.change in EMPHASIZED else change.change}"
            if change.blocked:
                kind = f"⛔ {kind} (blocked)"
            lines.append(f"| {kind} | {escape.code(change.name)} | {escape.code(change.type)} | "
                         f"{_link(resource.file, resource.line, link_base)} | {_details(change)} |")
    else:
        lines.append("No resource changes.")
    if len(changed) > FOLD_ABOVE:
        lines += ["", "</details>"]
    unchanged = [resource for resource in report.resources if not resource.change.shown]
    if unchanged:
        lines += ["", f"<details><summary>{len(unchanged)} unchanged resources</summary>", ""]
        lines += [f"- {escape.code(resource.change.name)} ({escape.text(resource.change.type)})" for resource in unchanged]
        lines += ["", "</details>"]
    return lines + [""]


EMPHASIZED = ("replace", "delete")


def _details(change) -> str:
    forcing = set(change.replace_properties)
    names = [*change.changed_properties, *(["provider"] if "provider" in forcing else [])]
    parts = [", ".join(f"{escape.code(name)} (forces replacement)" if name in forcing else escape.code(name) for name in names)]
    parts.append(", ".join(f"{escape.code(option.option)}: {_value(option.before)} → {_value(option.after)}"
                           for option in change.changed_options))
    parts.append(escape.cell(change.note) if change.note else "")
    return "; ".join(part for part in parts if part)


def _value(value) -> str:
    if isinstance(value, bool):
        return escape.code(str(value).lower())
    if isinstance(value, str) and value.startswith("urn:pulumi:"):
        return escape.code(value.rsplit("::", 1)[-1])
    return escape.code(str(value))


def _cost(report: PreviewReport) -> list[str]:
    lines = [f"#### Monthly cost (AWS list prices of {report.cost.prices_as_of.isoformat()})", "",
             "| item | USD/month |", "|---|---:|"]
    lines += [f"| {escape.cell(item.what)} | {item.monthly_usd:.2f} |" for item in report.cost.items]
    lines.append(f"| **total** | **{report.cost.monthly_usd:.2f}** |")
    if report.base_cost is not None:
        lines.append(f"| at {escape.code(report.base)} | {report.base_cost.monthly_usd:.2f} |")
        lines.append(f"| **change** | **{report.cost.monthly_usd - report.base_cost.monthly_usd:+.2f}** |")
    return lines + [""]


def render_invalid(issues) -> str:
    """The comment for a declaration that does not validate: every problem, one per line, in a
    fenced block no line of which can close it (a fence longer than any run of backticks in it)."""
    problems = [issue.as_text() for issue in issues]
    fence = "`" * max(3, 1 + max((len(run) for text in problems for run in re.findall("`+", text)), default=0))
    lines = [MARKER, "### secrets-layout preview: ❌ the declaration is not valid", "", fence, *problems, fence]
    lines += ["", "Run `secrets-layout validate` locally; nothing was previewed."]
    return "\n".join(lines) + "\n"
