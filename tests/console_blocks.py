"""The console blocks of README.md and docs/*.md, and how a block is replayed and compared.

A console block is a fenced block tagged `console`, or an untagged one whose first line is a command
(`$ ...`). The line before it says what it is:

    <!-- replayed: NAME -->          tests/test_console_blocks.py sets up the situation NAME, runs the
                                     block's commands and compares their output with the block
    <!-- illustrative: REASON -->    it cannot run here (REASON says why)

Each `$ ` line of a replayed block runs in one bash session (so `cd` carries over), in a copy of the
repository, with this checkout's `.venv/bin` first on PATH: `secrets-layout` is the installed console
script. What a command prints is its stdout, then its stderr, as the pages show them. The comparison is
line by line, exact, except for:

- a line that is exactly `...` in the block stands for any number of printed lines (none included);
- trailing white space, which rich pads table cells with and the pages leave out;
- the VOLATILE patterns below, replaced on both sides by the same placeholder; and since `ls` lists
  preview cache entries in the order of their keys, a run of cache entry names is compared sorted;
- the lines a preview writes on stderr at the end of each phase when stderr is no terminal (as here):
  on a terminal they are a status line that disappears, so a block shows them only where it is about
  them (when it shows one, they are compared, durations normalised).
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cli_support import COMMAND, ROOT

DOCUMENTS = ("README.md", *sorted(f"docs/{page.name}" for page in (ROOT / "docs").glob("*.md")))
ELLIPSIS = "..."
WIDTH = "120"
"""COLUMNS for every replay: rich lays its tables out for it."""

VOLATILE = (
    # how long a phase took, at the end of a preview's phase line on stderr
    (re.compile(r"^(secrets-layout [a-z-]+: .+: )[0-9]+\.[0-9] s$"), r"\1<seconds> s"),
    # the end of a recovery window: the day of the preview plus the window
    (re.compile(r"\b(recoverable until )[0-9]{4}-[0-9]{2}-[0-9]{2}\b"), r"\1<date>"),
    # a preview cache entry's key: the SHA-256 of the code and the inputs, so it changes with every commit
    (re.compile(r"^[0-9a-f]{64}(\.(?:simulation|verdicts|access)\.json)$"), r"<key>\1"),
)
CACHE_ENTRY = re.compile(r"^<key>\.[a-z]+\.json$")
PHASE_LINE = re.compile(r"^secrets-layout [a-z-]+: .+: [0-9]+\.[0-9] s$")
MARKER = re.compile(r"^<!-- (replayed|illustrative): (.+?) -->$")
FENCE = re.compile(r"^( *)```(\w*)\s*$")


@dataclass(frozen=True)
class Step:
    command: str
    """The text after `$ `."""
    shown: tuple[str, ...]
    """The lines the block shows after the command, up to the next command."""


@dataclass(frozen=True)
class ConsoleBlock:
    document: str
    line: int
    """The line of the opening fence."""
    marker: tuple[str, str] | None
    """("replayed", NAME) or ("illustrative", REASON); None when the line before says neither."""
    lines: tuple[str, ...]

    @property
    def where(self) -> str:
        return f"{self.document}:{self.line}"

    @property
    def steps(self) -> tuple[Step, ...]:
        steps: list[Step] = []
        for line in self.lines:
            if line.startswith("$ "):
                steps.append(Step(line[2:], ()))
            elif steps:
                steps[-1] = Step(steps[-1].command, (*steps[-1].shown, line))
            else:
                raise ValueError(f"{self.where}: the block starts with output, not with a `$ ` command")
        return tuple(steps)


def console_blocks(document: str, text: str | None = None) -> list[ConsoleBlock]:
    """The console blocks of a page (`text`, else the file), in order."""
    lines = (ROOT / document).read_text().splitlines() if text is None else text.splitlines()
    blocks: list[ConsoleBlock] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        indent, language = opening.groups()
        end = next((number for number in range(index + 1, len(lines)) if lines[number] == f"{indent}```"), len(lines))
        content = tuple(line[len(indent):] for line in lines[index + 1:end])
        if language == "console" or (not language and content and content[0].startswith("$ ")):
            before = MARKER.match(lines[index - 1].strip()) if index else None
            blocks.append(ConsoleBlock(document, index + 1, before.groups() if before else None, content))
        index = end + 1
    return blocks


def every_console_block() -> list[ConsoleBlock]:
    return [block for document in DOCUMENTS for block in console_blocks(document)]


def normalised(line: str) -> str:
    line = line.rstrip()
    for pattern, replacement in VOLATILE:
        line = pattern.sub(replacement, line)
    return line


def with_cache_listings_sorted(lines: Sequence[str]) -> list[str]:
    """Each run of consecutive (normalised) cache entry names, sorted."""
    result: list[str] = []
    run: list[str] = []
    for line in (*lines, None):
        if line is not None and CACHE_ENTRY.match(line):
            run.append(line)
            continue
        result.extend(sorted(run))
        run = []
        if line is not None:
            result.append(line)
    return result


def matches(shown: Sequence[str], printed: Sequence[str]) -> bool:
    """Whether the printed lines are the shown ones, an `...` line standing for any number of lines."""
    # Positions in `printed` that the shown lines so far can reach (a glob match over lines).
    reachable = {0}
    for line in shown:
        if line == ELLIPSIS:
            reachable = set(range(min(reachable), len(printed) + 1)) if reachable else set()
        else:
            reachable = {position + 1 for position in reachable
                         if position < len(printed) and printed[position] == line}
    return len(printed) in reachable


def comparable(shown: Sequence[str], printed: str) -> tuple[list[str], list[str]]:
    """Both sides as they are compared: normalised, and phase lines dropped where the block shows none."""
    printed_lines = printed.splitlines()
    if not any(PHASE_LINE.match(line.rstrip()) for line in shown):
        printed_lines = [line for line in printed_lines if not PHASE_LINE.match(line.rstrip())]
    return (with_cache_listings_sorted([normalised(line) for line in shown]),
            with_cache_listings_sorted([normalised(line) for line in printed_lines]))


def difference(block: ConsoleBlock, printed: Sequence[str]) -> str | None:
    """None when every step printed what the block shows; else what differs and what was printed."""
    reports = []
    for step, output in zip(block.steps, printed, strict=True):
        shown, actual = comparable(step.shown, output)
        if not matches(shown, actual):
            diff = "\n".join(difflib.unified_diff(shown, actual, "shown", "printed", lineterm="", n=2))
            reports.append(f"$ {step.command}\n{diff}\n--- printed, in full:\n{output}")
    return "\n".join(reports) or None


def replay(commands: Sequence[str], directory: Path, outputs: Path, timeout: float = 600) -> list[str]:
    """Run the commands in one bash session in `directory`; what each printed (its stdout, then its stderr)."""
    outputs.mkdir(parents=True, exist_ok=True)
    script = "".join(f"{{ {command}\n}} >{outputs}/{number}.out 2>{outputs}/{number}.err\n"
                     for number, command in enumerate(commands))
    environment = {
        **os.environ, "PATH": f"{COMMAND.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "COLUMNS": WIDTH, "NO_COLOR": "1",
        "GIT_AUTHOR_NAME": "docs", "GIT_AUTHOR_EMAIL": "docs@example.invalid",
        "GIT_COMMITTER_NAME": "docs", "GIT_COMMITTER_EMAIL": "docs@example.invalid",
    }
    subprocess.run(["bash", "--noprofile", "--norc"], input=script, cwd=directory, env=environment, text=True,
                   timeout=timeout, check=False, capture_output=True)
    return [(outputs / f"{number}.out").read_text() + (outputs / f"{number}.err").read_text()
            for number in range(len(commands))]
