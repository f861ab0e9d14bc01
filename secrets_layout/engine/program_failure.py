"""A Pulumi program that fails in a simulation, told in one line at its own file and line.

A program the preview runs (`preview --program FILE`, a repository's own `__main__.py`) is the user's
code: a syntax error, an exception or an exit (`sys.exit`, `os._exit`) is its mistake, reported where
it happens (`FILE:LINE: ...`, exit 2), never as a traceback of the preview nor as the preview's own
exit code. The line is the program's frame nearest to the failure: the call into a library that
raised, the `sys.exit` itself.
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path

from secrets_layout.engine.sdk_patches import ProgramExited
from secrets_layout.errors import printable

MESSAGE_CHARACTERS = 300
"""An exception's own message is cut here: the line names the place, the program has the rest."""


def program_line(error: BaseException, program: str | os.PathLike[str]) -> int | None:
    """The line of `program` where `error` happened: a syntax error's own line, else the deepest
    frame of its traceback in the program file; None if the error did not pass through the program."""
    target = os.path.realpath(program)
    if isinstance(error, SyntaxError) and error.filename and os.path.realpath(error.filename) == target:
        return error.lineno or 1
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__)
             if os.path.realpath(frame.filename) == target]
    return lines[-1] if lines else None


def program_failure(error: BaseException, program: str | os.PathLike[str]) -> str | None:
    """`FILE:LINE: what the program did; the fix`, or None for an error that is not the program's.

    `error.program_line`, when set, is the line found where the traceback still was (a simulation
    worker sends the exception back without it: engine/workers.py)."""
    if isinstance(error, KeyboardInterrupt):
        return None
    line = getattr(error, "program_line", None) or program_line(error, program)
    if line is None and not isinstance(error, SystemExit):
        return None
    where = printable(os.fspath(Path(program)))
    return f"{where}{f':{line}' if line else ''}: {_what_happened(error, program)}"


def _what_happened(error: BaseException, program: str | os.PathLike[str]) -> str:
    if isinstance(error, ProgramExited):
        return f"the program called os._exit({error.code!r}), which ends the process at once; remove the call"
    if isinstance(error, SystemExit):
        called = "sys.exit()" if error.code is None else f"sys.exit({printable(repr(error.code))[:MESSAGE_CHARACTERS]})"
        return f"the program called {called}; a Pulumi program ends by returning: remove the call"
    if (isinstance(error, SyntaxError) and error.msg and error.filename
            and os.path.realpath(error.filename) == os.path.realpath(program)):
        return f"the program is not valid Python ({printable(error.msg)}); fix it"
    message = printable(str(error))[:MESSAGE_CHARACTERS]
    return f"the program raised {type(error).__name__}" + (f": {message}" if message else "")
