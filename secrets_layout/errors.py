"""Validation issues: where in which file, which field, what is wrong and how to fix it."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Iterable

Path = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """Text with control characters escaped, so one issue stays one line."""
    return _CONTROL.sub(lambda match: json.dumps(match.group())[1:-1], text)


def printable_file(name: str) -> str:
    """A file name as it may start a line: escaped, and never starting with `::`, after white space
    or not (a GitHub Actions workflow command such as `::error file=...::` is any output line that
    starts so once the runner has trimmed its leading white space:
    https://docs.github.com/en/actions/reference/workflow-commands-for-github-actions)."""
    text = printable(name)
    return f"./{text}" if text.lstrip().startswith("::") else text


_WORKFLOW_COMMAND_START = re.compile(r"^([^\S\n]*):(?=:)", re.MULTILINE)


def no_workflow_command_lines(text: str) -> str:
    """Text laid out in lines of a width, where a wrapped name may start any line: each line that would
    start with `::` once trimmed gets its first colon escaped as printable escapes (`\\u003a`), so no
    line is a GitHub Actions workflow command (see printable_file)."""
    return _WORKFLOW_COMMAND_START.sub(r"\1\\u003a", text)


def format_path(path: Path) -> str:
    """`("secrets", 0, "rotation", "every_days")` -> `secrets[0].rotation.every_days`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text or "(document)"


@dataclass(frozen=True, order=True)
class Issue:
    """One problem in a declaration, positioned for an editor (lines and columns start at 1)."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def as_text(self) -> str:
        return f"{printable_file(self.file)}:{self.line}:{self.column}: {self.path}: {printable(self.message)}"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, order=True)
class PolicyIssue(Issue):
    """A policy violation found in the declaration: an Issue with the policy and its level (here, not with
    the pack's findings, so that reporting one does not import the layout's plan and the policy catalog)."""

    policy: str = ""
    level: str = "mandatory"

    def as_text(self) -> str:
        return (f"{printable(self.file)}:{self.line}:{self.column}: {self.path}: {self.level} {self.policy}: "
                f"{printable(self.message)}")


class DeclarationError(Exception):
    """A declaration that must not reach Pulumi. Carries every issue found, sorted by position."""

    def __init__(self, issues: Iterable[Issue]):
        self.issues = sorted(set(issues), key=lambda issue: (issue.file, issue.line, issue.column, issue.path))
        super().__init__("\n".join(issue.as_text() for issue in self.issues))
