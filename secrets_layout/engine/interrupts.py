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
import threading
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def children_spared_ctrl_c() -> Iterator[None]:
    """Processes and threads started inside start with SIGINT blocked; a SIGINT to this process
    meanwhile is held and delivered on leaving (this thread's mask is restored)."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class StopSignal:
    """What to stop at once when a preview fails or is interrupted, from whichever thread started it.

    The preview's main thread takes Ctrl-C (KeyboardInterrupt) while other threads wait on simulation
    workers and pack processes; leaving its block then waits for those threads. Each registers how to
    stop what it started (terminate the workers, close the packs), so that `stop()` ends their waits
    at once instead of after the simulations and the pack's calls finish. A stop registered after
    `stop()` runs at once: a pack that starts while the preview stops is closed as soon as it exists.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stops: list[Callable[[], object]] = []
        self._stopped = False

    @property
    def stopped(self) -> bool:
        return self._stopped

    def register(self, stop: Callable[[], object]) -> None:
        with self._lock:
            if not self._stopped:
                self._stops.append(stop)
                return
        with contextlib.suppress(Exception):
            stop()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            stops, self._stops = self._stops, []
        for stop in reversed(stops):
            with contextlib.suppress(Exception):
                stop()

    def on_error(self, error_type: type[BaseException] | None, *_: object) -> None:
        """An ExitStack exit callback: stop everything when the block is left by an exception."""
        if error_type is not None:
            self.stop()
