"""`secrets-layout validate` output: one line per error (FILE:LINE:COLUMN: PATH: MESSAGE) or JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from secrets_layout.errors import Issue, printable_file


@dataclass(frozen=True)
class FileResult:
    file: str
    issues: list[Issue] = field(default_factory=list)
    secrets: int = 0
    parameters: int = 0
    warnings: list[Issue] = field(default_factory=list)
    """Advisory findings (the policy pack's advisory violations, rotation parity): shown, not failing."""
    policy_config: str | None = None
    """The policy config the declaration was also checked against."""

    @property
    def valid(self) -> bool:
        return not self.issues


def as_text(results: list[FileResult]) -> str:
    lines = []
    for result in results:
        if result.valid:
            checked = f"; checked against {result.policy_config}" if result.policy_config else ""
            lines.append(f"{printable_file(result.file)}: valid ({_count(result.secrets, 'secret')}, "
                         f"{_count(result.parameters, 'parameter')}{checked})")
        lines.extend(issue.as_text() for issue in result.issues)
        lines.extend(issue.as_text() for issue in result.warnings)
    return "\n".join(lines) + "\n"


def as_json(results: list[FileResult]) -> str:
    document: dict[str, object] = {
        "valid": all(result.valid for result in results),
        "errors": [issue.as_dict() for result in results for issue in result.issues],
    }
    if any(result.policy_config for result in results):
        # validate --policy-config: advisory violations, which do not make a file invalid
        document["warnings"] = [issue.as_dict() for result in results for issue in result.warnings]
    return json.dumps(document, indent=2) + "\n"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
