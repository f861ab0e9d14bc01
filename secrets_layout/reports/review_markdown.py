"""The review sections of the markdown comment: access widenings, safeguards removed, policy
statement changes, who can read each secret (rows from review_rows).

Names and values are escaped as the rest of the comment escapes them (reports/markdown_escape.py):
`cell` for text in a table cell, `code` for a code span, fenced past any backtick the value holds
(CommonMark code spans), so a principal, a condition value or a secret's name can neither end a cell
nor start a construct.
"""

from __future__ import annotations

from secrets_layout.preview import PreviewReport
from secrets_layout.reports import markdown_escape as escape
from secrets_layout.reports import review_rows


def widenings(report: PreviewReport) -> list[str]:
    """Every widening of access, before anything else: who may now do what, where."""
    rows, denies = review_rows.widening_rows(report), review_rows.deny_rows(report)
    if not rows and not denies:
        return []
    lines = ["#### ⚠️ Access widened", "",
             "Who may do more than before, from the secrets' resource policies and their keys' policies:", ""]
    if rows:
        lines += ["| widening | account | principal | gains | on |", "|---|---|---|---|---|"]
        for row in rows:
            depends = f" (depending on {escape.cell(', '.join(row.depends_on))})" if row.depends_on else ""
            lines.append(f"| **{row.kind}** | {escape.code(row.account)} | {escape.code(row.principal)} | {escape.cell(row.gained)}{depends} | "
                         f"{escape.cell(review_rows.places_text(row.places))} |")
        lines.append("")
    if denies:
        lines += ["| widening | statement | change | in |", "|---|---|---|---|"]
        for deny in denies:
            details = "<br>".join(escape.code(detail) for detail in deny.details)
            lines.append(f"| **{deny.kind}** | {escape.code(deny.statement)} | {details} | "
                         f"{escape.cell(review_rows.names_text(deny.resources))} |")
        lines.append("")
    return lines


def safeguards(report: PreviewReport) -> list[str]:
    unprotected = review_rows.unprotected(report)
    if not unprotected:
        return []
    lines = ["#### ⛔ Safeguards removed", ""]
    lines += [f"- `protect`: `true` → `false` on {escape.code(resource.change.name)} ({escape.code(resource.change.type)}): "
              f"{review_rows.SAFEGUARD}" for resource in unprotected]
    return lines + [""]


def policy_changes(report: PreviewReport, *, fold_above: int) -> list[str]:
    """Changed policy documents statement by statement (`cdk diff`'s IAM Statement Changes)."""
    groups = review_rows.policy_groups(report.resources)
    if not groups:
        return []
    lines = ["#### Policy statement changes", ""]
    if len(groups) > fold_above:
        lines += [f"<details><summary>{len(groups)} changed policies</summary>", ""]
    for group in groups:
        lines.append(f"**{escape.cell(review_rows.names_text(group.resources))}** ({escape.code(group.type)} {escape.code(group.diff.property)})")
        lines.append("")
        if group.diff.unreadable:
            lines += [escape.cell(group.diff.unreadable), ""]
            continue
        lines += ["| | statement | effect | principal | action | resource | condition |", "|---|---|---|---|---|---|---|"]
        for statement in group.diff.statements:
            cells = {element: [] for element in ("principal", "action", "resource", "condition")}
            for element, mark, value in review_rows.statement_lines(statement):
                key = element.removeprefix("not ")
                prefix = "not " if element.startswith("not ") else ""
                if key in cells:
                    cells[key].append(f"{_MARKS[mark]}{escape.code(prefix + value)}")
            sign = {"added": "➕", "removed": "➖", "changed": "✏️"}[statement.change]
            effect = " → ".join(statement.values("effect").removed + statement.values("effect").added) or statement.effect
            lines.append(f"| {sign} | {escape.code(statement.label)} | {escape.cell(effect)} | "
                         + " | ".join("<br>".join(cells[name]) for name in cells) + " |")
        lines.append("")
    if len(groups) > fold_above:
        lines += ["</details>", ""]
    return lines


_MARKS = {"+": "+ ", "-": "− ", " ": ""}


def access(report: PreviewReport) -> list[str]:
    """Who can read each secret: the readers whose access changes, then every reader, folded."""
    if report.access is None:
        return []
    lines = ["#### Who can read each secret", "",
             "From each secret's resource policy and its key's policy in each region (each reader's own IAM policy "
             "must allow it too: `secrets-layout consumer-policy`).", ""]
    changed = review_rows.access_rows(report.access.changed)
    header = ["| secret | regions | account | principal | before | after |", "|---|---|---|---|---|---|"]
    if changed:
        lines += header + [_access_row(row) for row in changed]
    else:
        lines.append("No change.")
    every = review_rows.access_rows(report.access.changes)
    if every:
        lines += ["", f"<details><summary>every reader ({len(every)} rows)</summary>", ""]
        lines += header + [_access_row(row) for row in every]
        lines += ["", "</details>"]
    lines += [f"> ⚠️ {escape.cell(problem)}" for problem in report.access.problems]
    return lines + [""]


def _access_row(row: review_rows.AccessRow) -> str:
    after = f"**{escape.cell(row.after)}** ({row.widening})" if row.widening else escape.cell(row.after)
    depends = f" (depending on {escape.cell(', '.join(row.depends_on))})" if row.depends_on else ""
    return (f"| {escape.code(row.secret)} | {escape.cell(', '.join(row.regions))} | {escape.code(row.account)} | {escape.code(row.principal)} | "
            f"{escape.cell(row.before)} | {after}{depends} |")
