"""`validate` and `preview`: rotation parity with the lower environments, located in the declaration.

Loads each environment of `lower_environments:` from beside the declaration (declaration.parity.sibling_path),
once per run, and places each ParityFinding at the field it names, as written (`defaults.rotation` when the
secret inherits it). The findings are advisory: a difference between environments can be on purpose.
"""

from __future__ import annotations

from collections.abc import MutableMapping

from secrets_layout.declaration.loader import LoadedDeclaration, load_declaration
from secrets_layout.declaration.parity import CHECK, Lower, Unreadable, parity_findings, sibling_path
from secrets_layout.errors import DeclarationError, PolicyIssue, format_path
from secrets_layout.findings.fields import written_path

LowerDeclarations = MutableMapping[str, Lower]
"""Declarations read so far, by path: each read once however many declarations name it."""


def lower_declarations(loaded: LoadedDeclaration, read: LowerDeclarations,
                       beside: str | None = None) -> dict[str, Lower]:
    """Each lower environment's declaration; None where none is beside this one (or beside `beside`, the
    working tree's path of a declaration read at another revision), Unreadable where it cannot be read
    (validating it says why)."""
    found = {}
    for environment in loaded.declaration.lower_environments:
        path = sibling_path(beside or loaded.declaration_path, environment)
        if path is None:
            found[environment] = None
            continue
        key = str(path)
        if key not in read:
            try:
                read[key] = load_declaration(path).declaration
            except (DeclarationError, OSError):
                read[key] = Unreadable(str(path))
        found[environment] = read[key]
    return found


def parity_issues(loaded: LoadedDeclaration, read: LowerDeclarations, beside: str | None = None) -> list[PolicyIssue]:
    """The advisory parity findings of one declaration, at their lines (`beside`: see lower_declarations)."""
    if not loaded.declaration.lower_environments:
        return []
    source_map = loaded.source_map
    issues = []
    for finding in parity_findings(loaded.declaration, lower_declarations(loaded, read, beside)):
        path = written_path(finding.path, source_map)
        position = source_map.locate_key(path)
        issues.append(PolicyIssue(position.file or loaded.file, position.line, position.column,
                                  format_path(source_map.local_path(path)), finding.message, CHECK, "advisory"))
    return sorted(issues)
