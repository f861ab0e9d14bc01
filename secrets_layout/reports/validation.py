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

    @property
    def valid(self) -> bool:
        return not self.issues


def as_text(results: list[FileResult]) -> str:
    lines = []
    for result in results:
        if result.valid:
            lines.append(f"{printable_file(result.file)}: valid ({_count(result.secrets, 'secret')}, {_count(result.parameters, 'parameter')})")
        lines.extend(issue.as_text() for issue in result.issues)
    return "\n".join(lines) + "\n"


def as_json(results: list[FileResult]) -> str:
    document = {
        "valid": all(result.valid for result in results),
        "errors": [issue.as_dict() for result in results for issue in result.issues],
    }
    return json.dumps(document, indent=2) + "\n"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
