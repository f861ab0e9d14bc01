"""`preview --format text`: rich tables for a terminal or a CI log."""

from __future__ import annotations

import io
import os

from rich.console import Console
from rich.table import Table
from rich.text import Text

from secrets_layout.errors import printable, printable_file
from secrets_layout.preview import PreviewReport

# The signs of `pulumi preview`: + create, ~ update, +- replace, - delete, = import.
CHANGE_STYLE = {"create": ("+", "green"), "update": ("~", "yellow"), "replace": ("+-", "bold magenta"),
                "delete": ("-", "red"), "import": ("=", "cyan"), "same": (" ", "dim")}
COUNTED = ("create", "update", "replace", "delete", "import")
LEVEL_STYLE = {"mandatory": "bold red", "advisory": "yellow"}


def render(report: PreviewReport, *, color: bool = False, width: int = 160) -> str:
    buffer = io.StringIO()
    # Names such as "secrets-layout:secret:ManagedSecret" must not become emoji or markup.
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False,
                      emoji=False, markup=False)
    base = f", against {printable(report.base)}" if report.base else ""
    console.print(f"secrets-layout preview of {printable_file(report.file)} (environment {report.environment}, "
                  f"policy config {printable(report.policy_config)}{base})")
    for warning in report.warnings:
        # Notes name files (a team file left out of --base, the cache's folder): one line each.
        console.print(f"warning: {printable(warning)}", style="yellow")
    console.print(_resources(report))
    console.print(_violations(report) if report.violations else "No policy violations.", soft_wrap=True)
    console.print(_cost(report))
    console.print(_summary(report), soft_wrap=True)
    return buffer.getvalue()


def _resources(report: PreviewReport) -> Table:
    table = Table(title="Resources", title_justify="left", show_edge=False)
    for column in ("", "type", "name", "line", "changes"):
        table.add_column(column, overflow="fold")
    for resource in report.resources:
        change = resource.change
        if not change.shown:
            continue
        sign, style = CHANGE_STYLE[change.change]
        label = f"{sign} {change.change}" + (" BLOCKED" if change.blocked else "")
        # Names and notes may come from a program of the user's own (--program): one line each.
        table.add_row(label, printable(change.type), printable(change.name), _declared_at(resource, report),
                      printable(change_details(change)), style="bold red" if change.blocked else style)
    return table


def _declared_at(resource, report: PreviewReport) -> str:
    """The line; of an environment folder, the file in the folder and the line (`payments.yaml:3`)."""
    if not resource.line:
        return ""
    if resource.file == report.file:
        return str(resource.line)
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
        table.add_row(item.what, f"{item.monthly_usd:.2f}")
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
