"""Ctrl-C reaches the preview alone, which stops its helper processes itself.

A terminal's Ctrl-C sends SIGINT to the whole foreground process group (POSIX, General Terminal
Interface, "Special Characters": INTR), so the simulation workers and the pack processes would each
get it too: a worker in start-up dies with "Fatal Python error: init_import_site", an idle one prints
a KeyboardInterrupt traceback. Processes started with SIGINT blocked never see it: the signal mask
is inherited through fork() and kept across execve() (POSIX, fork and exec: "the new process shall
inherit ... the signal mask"), and Python does not unblock it at start-up. A thread inherits the
mask of the thread that creates it (pthread_create), so the thread that starts a simulation's worker
(engine/workers.py), made inside, starts it with SIGINT blocked as well.

The preview then ends them: the workers are terminated (workers.SimulationRunner), the packs are
closed, and a pack whose preview is gone ends with its stdin (pack_host.stop_with_stdin).
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator


@contextlib.contextmanager
def children_spared_ctrl_c() -> Iterator[None]:
    """Processes and threads started inside start with SIGINT blocked; a SIGINT to this process
    meanwhile is held and delivered on leaving (this thread's mask is restored)."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
