"""What a long command is doing, on stderr: on a terminal, the current phase and the time it has taken,
redrawn in place; otherwise (CI logs), one line per phase once it ends, with how long it took.

Phases are announced by the preview (`Progress`, a callable taking the new phase's text); a phase ends
when the next one starts or the command ends. stdout, where the report goes, is never written.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import TextIO

from secrets_layout.errors import printable


class PhaseLog:
    """One line per finished phase: `<command>: <phase>: <seconds> s`."""

    def __init__(self, command: str, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self._command = command
        self._stream = stream
        self._clock = clock
        self._phase: str | None = None
        self._started = 0.0

    def __call__(self, phase: str) -> None:
        self.end()
        self._phase, self._started = phase, self._clock()

    def end(self) -> None:
        if self._phase is not None:
            self._stream.write(f"{self._command}: {printable(self._phase)}: {self._clock() - self._started:.1f} s\n")
            self._stream.flush()
            self._phase = None


class _Elapsed:
    """The status line's text, rendered anew at each refresh of the line (rich calls `__rich__`)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.phase = "starting"
        self.started = clock()

    def __rich__(self) -> str:
        return f"{printable(self.phase)} · {self._clock() - self.started:.1f} s"


@contextlib.contextmanager
def progress_on_stderr(command: str, clock: Callable[[], float] = time.monotonic) -> Iterator[Callable[[str], None]]:
    """The command's progress callback: a status line on a terminal, phase lines elsewhere."""
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        log = PhaseLog(command, console.file, clock)
        yield log
        log.end()  # not on an error: the phase did not end, the error says why
        return
    shown = _Elapsed(clock)
    with console.status(shown):

        def update(phase: str) -> None:
            shown.phase, shown.started = phase, clock()

        yield update
