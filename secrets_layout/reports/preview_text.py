"""`preview --format text`: rich tables for a terminal or a CI log, fitting its width.

What widens access and what removes a safeguard come first; then the resources that change (components
and providers, whose children carry their changes, and unchanged resources only with `show_all`), the
policy statements that change, who can read each secret before and after, the violations, the cost.
A section with nothing to show is one line, never an empty table."""

from __future__ import annotations

import io
import os

from rich.console import Console
from rich.table import Table
from rich.text import Text

from secrets_layout.errors import no_workflow_command_lines, printable, printable_file
from secrets_layout.preview import PlannedResource, PreviewReport
from secrets_layout.reports import review_rows

# The signs of `pulumi preview`: + create, ~ update, +- replace, - delete, = import.
CHANGE_STYLE = {"create": ("+", "green"), "update": ("~", "yellow"), "replace": ("+-", "bold magenta"),
                "delete": ("-", "red"), "import": ("=", "cyan"), "same": (" ", "dim")}
COUNTED = ("create", "update", "replace", "delete", "import")
LEVEL_STYLE = {"mandatory": "bold red", "advisory": "yellow"}


def render(report: PreviewReport, *, color: bool = False, width: int = 160, show_all: bool = False) -> str:
    """width: the terminal's columns (no line is longer); show_all: list unchanged resources, components
    and providers, and every reader of every secret, not only what changes."""
    buffer = io.StringIO()
    # Names such as "secrets-layout:secret:ManagedSecret" must not become emoji or markup.
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False,
                      emoji=False, markup=False)
    base = f", against {printable(report.base)}" if report.base else ""
    console.print(f"secrets-layout preview of {printable_file(report.file)} (environment {report.environment}, "
                  f"policy config {printable(report.policy_config)}{base})", overflow="fold")
    for warning in report.warnings:
        # Notes name files (a team file left out of --base, the cache's folder): one line each.
        console.print(f"warning: {printable(warning)}", style="yellow", overflow="fold")
    for section in (_widenings(report), _safeguards(report)):
        if section is not None:
            console.print(section, overflow="fold")
    shown = [resource for resource in report.resources if show_all or _worth_a_row(resource)]
    console.print(_resources(report, shown) if shown else "No resource changes.", overflow="fold")
    rows = {id(resource) for resource in shown}
    hidden = sum(1 for resource in report.resources if resource.change.shown and id(resource) not in rows)
    if hidden:
        what, its, them = ("component or provider", "its", "it") if hidden == 1 else (
            "components and providers", "their", "them")
        console.print(f"({hidden} {what} not shown: {its} children's rows say what changes; --all shows {them})",
                      style="dim", overflow="fold")
    for section in (_policy_changes(report), _access(report, show_all)):
        if section is not None:
            console.print(section, overflow="fold")
    console.print(_violations(report) if report.violations else "No policy violations.", overflow="fold")
    console.print(_cost(report) if report.cost.items else _no_cost(report), overflow="fold")
    console.print(_summary(report), overflow="fold")
    # Lines wrap at the width, so a name or a policy value after a space may start one.
    return no_workflow_command_lines(buffer.getvalue())


def _worth_a_row(resource: PlannedResource) -> bool:
    """A change of a cloud resource: components and providers only when the engine refuses, replaces or
    deletes them (their children's rows say the rest)."""
    change = resource.change
    if not change.shown:
        return False
    grouping = not change.custom or change.type.startswith("pulumi:providers:")
    return not grouping or change.blocked or change.change in ("replace", "delete")


def _resources(report: PreviewReport, shown: list[PlannedResource]) -> Table:
    table = Table(title="Resources", title_justify="left", show_edge=False)
    for column in ("", "type", "name", "line", "changes"):
        table.add_column(column, overflow="fold")
    for resource in shown:
        change = resource.change
        sign, style = CHANGE_STYLE[change.change]
        label = f"{sign} {change.change}" + (" BLOCKED" if change.blocked else "")
        # Names and notes may come from a program of the user's own (--program): one line each.
        table.add_row(label, printable(change.type), printable(change.name), _declared_at(resource, report),
                      printable(change_details(change)), style="bold red" if change.blocked else style)
    return table


def _widenings(report: PreviewReport) -> Text | None:
    """Every widening of access, first: who may now do what, where; denies that may now let more through."""
    rows, denies = review_rows.widening_rows(report), review_rows.deny_rows(report)
    if not rows and not denies:
        return None
    lines = Text("Access widened: review these first\n", style="bold red")
    for row in rows:
        depends = f" (depending on {', '.join(row.depends_on)})" if row.depends_on else ""
        lines.append(f"  {row.kind}: ", style="bold")
        lines.append(printable(f"{row.account} {row.principal} gains {row.gained} on "
                               f"{review_rows.places_text(row.places)}{depends}") + "\n")
    for deny in denies:
        lines.append(f"  {deny.kind}: ", style="bold")
        lines.append(printable(f"{deny.statement} of {review_rows.names_text(deny.resources)}: "
                               f"{'; '.join(deny.details)}") + "\n")
    return lines


def _safeguards(report: PreviewReport) -> Text | None:
    unprotected = review_rows.unprotected(report)
    if not unprotected:
        return None
    lines = Text("Safeguards removed\n", style="bold red")
    for resource in unprotected:
        lines.append(printable(f"  protect: true -> false on {resource.change.name} ({resource.change.type}): "
                               f"{review_rows.SAFEGUARD}") + "\n")
    return lines


def _policy_changes(report: PreviewReport) -> Text | None:
    """Each changed policy document statement by statement, as `cdk diff` shows IAM statement changes."""
    groups = review_rows.policy_groups(report.resources)
    if not groups:
        return None
    text = Text("Policy statement changes\n", style="italic")
    for group in groups:
        text.append(printable(f"~ {review_rows.names_text(group.resources)} ({group.type}) {group.diff.property}") + "\n",
                    style="bold")
        if group.diff.unreadable:
            text.append(f"    {group.diff.unreadable}\n")
            continue
        for statement in group.diff.statements:
            sign = review_rows.SIGNS[statement.change]
            text.append(printable(f"  {sign} {statement.effect} {statement.label} ({statement.change})") + "\n",
                        style=STATEMENT_STYLE[statement.change])
            for element, mark, value in review_rows.statement_lines(statement):
                text.append(printable(f"      {mark} {element}: {value}") + "\n", style=VALUE_STYLE[mark])
    return text


STATEMENT_STYLE = {"added": "green", "removed": "red", "changed": "yellow"}
VALUE_STYLE = {"+": "green", "-": "red", " ": "dim"}


def _access(report: PreviewReport, show_all: bool) -> Text | None:
    """Who can read each secret: the readers whose access changes (every reader with show_all)."""
    if report.access is None:
        return None
    changes = report.access.changes if show_all else report.access.changed
    rows = review_rows.access_rows(changes)
    title = "Who can read each secret (its resource policy and its key policy in each region)"
    if not rows:
        return Text(f"{title}: no change.\n", style="italic")
    text = Text(f"{title}\n", style="italic")
    for row in rows:
        mark = f" [{row.widening}]" if row.widening else ""
        depends = f" (depending on {', '.join(row.depends_on)})" if row.depends_on else ""
        arrow = row.after if row.before == row.after else f"{row.before} -> {row.after}"
        text.append(printable(f"  {row.secret} ({', '.join(row.regions)}): {row.account} {row.principal}: "
                              f"{arrow}{depends}"), style="bold red" if row.widening else None)
        text.append(f"{mark}\n", style="bold red")
    for problem in report.access.problems:
        text.append(printable(f"  {problem}") + "\n", style="yellow")
    return text


def _declared_at(resource, report: PreviewReport) -> str:
    """The line; of an environment folder, the file in the folder and the line (`payments.yaml:3`); of a
    program's own resource, the program and its line."""
    if not resource.line:
        return ""
    if resource.file == report.file:
        return str(resource.line)
    if resource.file.endswith(".py"):
        # A resource of the user's own program (preview --program), at the line that registered it.
        return f"{printable(resource.file)}:{resource.line}"
    return f"{printable(os.path.relpath(resource.file, report.file))}:{resource.line}"


def change_details(change) -> str:
    """Changed properties (those forcing a replacement marked), changed options, then the note."""
    forcing = set(change.replace_properties)
    parts = [", ".join(f"{name} (forces replacement)" if name in forcing else name
                       for name in (*change.changed_properties, *(["provider"] if "provider" in forcing else [])))]
    parts.append(", ".join(f"{option.option}: {_shown(option.before)} -> {_shown(option.after)}"
                           for option in change.changed_options))
    parts.append(change.note or "")
    return "; ".join(part for part in parts if part)


def _shown(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str) and value.startswith("urn:pulumi:"):
        return value.rsplit("::", 1)[-1]
    return "none" if value is None else str(value)


def _no_cost(report: PreviewReport) -> str:
    change = (f"; {report.cost.monthly_usd - report.base_cost.monthly_usd:+.2f} USD against {printable(report.base)}"
              if report.base_cost is not None else "")
    return f"Monthly cost: 0.00 USD (nothing is deployed){change}"


def _violations(report: PreviewReport) -> Text:
    """One line per violation, FILE:LINE:COLUMN first like `validate`, so editors and CI annotate it."""
    lines = Text("Policy violations\n", style="italic")
    for violation in report.violations:
        lines.append(f"{printable_file(violation.file)}:{violation.line}:{violation.column}: {violation.level} {violation.policy}: ",
                     style=LEVEL_STYLE.get(violation.level))
        lines.append(printable(violation.message) + "\n")
    return lines


def _cost(report: PreviewReport) -> Table:
    table = Table(title=f"Monthly cost (AWS list prices of {report.cost.prices_as_of.isoformat()})",
                  title_justify="left", show_edge=False)
    table.add_column("item", overflow="fold")
    table.add_column("USD/month", justify="right")
    for item in report.cost.items:
        # An item may name a resource of the user's own program (preview --program): one line each.
        table.add_row(printable(item.what), f"{item.monthly_usd:.2f}")
    table.add_row("total", f"{report.cost.monthly_usd:.2f}", style="bold")
    if report.base_cost is not None:
        delta = report.cost.monthly_usd - report.base_cost.monthly_usd
        table.add_row(f"change against {printable(report.base)}", f"{delta:+.2f}", style="bold")
    return table


def _summary(report: PreviewReport) -> str:
    changes = ", ".join(f"{report.count(change)} to {change}" for change in COUNTED)
    unchanged = f", {report.count('same')} unchanged" if report.base else ""
    blocked = f" ({len(report.blocked)} blocked by protect: the engine refuses them)" if report.blocked else ""
    return (f"{changes}{unchanged}{blocked}; {len(report.mandatory)} mandatory and {len(report.advisory)} advisory "
            f"policy violations; {report.cost.monthly_usd:.2f} USD per month")
