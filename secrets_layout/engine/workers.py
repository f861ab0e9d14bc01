"""Simulations side by side, each in a worker process of its own, stopped at once when the preview stops.

The Pulumi SDK's runtime (settings, config, root resource, the stack's RPC manager) is global to a
process, so two simulations can only run at once in two processes. Each simulation gets a fresh
"spawn" interpreter (no inherited threads or gRPC state) that ends after it, so its memory goes back
as soon as its answer is in, and sends its answer back on a pipe of its own.

Not `concurrent.futures.ProcessPoolExecutor`: its workers share one call queue, and an idle worker
waits for work holding that queue's lock (multiprocessing/queues.py, `Queue.get`), so terminating
workers (a failed or interrupted preview stops its simulations; the executor has no public way to do
it before Python 3.14's `terminate_workers`, python/cpython gh-128041) can leave the lock taken; with
`max_tasks_per_child=1` the executor meanwhile starts a worker to replace each one that finished,
which then waits on that lock forever, and so does the shutdown (seen here: a Ctrl-C at the wrong
moment hung the preview). Processes that share nothing can be terminated at any moment.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from multiprocessing import resource_tracker
from typing import Any

from secrets_layout.engine.interrupts import children_spared_ctrl_c

MOST_WORKERS = 3
"""A preview runs at most three simulations (dry run, deployment, base)."""


class WorkerFailed(RuntimeError):
    """A simulation's worker process ended without an answer (killed, or out of memory)."""


def _simulate_in_worker(answer: Any, arguments: dict[str, Any]) -> None:
    """The worker process: one simulation, its Simulation or its exception sent back on `answer`."""
    from secrets_layout.engine.program_failure import program_line
    from secrets_layout.engine.simulation import simulate

    try:
        outcome: tuple[bool, Any] = (True, simulate(**arguments))
    except BaseException as error:  # noqa: BLE001 (raised again in the preview's process)
        # The traceback stays here (it is not pickled): the program's line goes with the exception.
        program = arguments.get("program")
        if isinstance(program, (str, os.PathLike)):
            error.program_line = program_line(error, program)
        outcome = (False, error)
    try:
        answer.send(outcome)
    except Exception as error:  # noqa: BLE001 (an exception that cannot be pickled)
        answer.send((False, RuntimeError(f"{type(outcome[1]).__name__}: {outcome[1]}"
                                         if not outcome[0] else f"the simulation's answer cannot be sent: {error}")))
    finally:
        answer.close()


class InProcess:
    """A simulation run in this process, when first asked for (the serial form of a worker's future).
    Several threads may ask: the first runs it, the others wait for its result (or its exception)."""

    def __init__(self, run: Callable[..., Any], arguments: dict[str, Any]) -> None:
        self._run = run
        self._arguments: dict[str, Any] | None = arguments
        self._future: Future[Any] = Future()
        self._lock = threading.Lock()

    def result(self) -> Any:
        with self._lock:
            if self._arguments is not None:
                arguments, self._arguments = self._arguments, None
                try:
                    self._future.set_result(self._run(**arguments))
                except BaseException as error:
                    self._future.set_exception(error)
        return self._future.result()


class SimulationRunner:
    """Runs simulations side by side, at most `workers` at once, each in a process of its own; use as a
    context manager. With one CPU, or `parallel=False`, `submit` gives an `InProcess` instead, run in
    this process when its result is asked for. Leaving the block normally waits for every simulation;
    leaving it with an exception terminates them."""

    def __init__(self, *, parallel: bool = True, workers: int | None = None) -> None:
        cpus = os.cpu_count() or 1
        self._workers = max(1, min(workers or cpus, cpus, MOST_WORKERS)) if parallel else 1
        self._slots = threading.BoundedSemaphore(self._workers)
        self._lock = threading.Lock()
        self._stopping = False
        self._processes: list[multiprocessing.process.BaseProcess] = []
        self._threads: list[threading.Thread] = []

    @property
    def workers(self) -> int:
        return self._workers

    def __enter__(self) -> SimulationRunner:
        return self

    def __exit__(self, error_type: type[BaseException] | None, *_: object) -> None:
        if error_type is not None:
            self.stop()
        for thread in self._threads:
            thread.join()

    def submit(self, arguments: dict[str, Any]) -> Future[Any] | InProcess:
        if self._workers == 1:
            from secrets_layout.engine.simulation import simulate

            return InProcess(simulate, arguments)
        future: Future[Any] = Future()
        future.set_running_or_notify_cancel()
        # multiprocessing's resource tracker first, here: the thread that starts it has SIGINT unblocked
        # afterwards (multiprocessing/resource_tracker.py, `ensure_running`, unblocks what it blocked
        # around its spawn), and would then start the worker with it unblocked.
        resource_tracker.ensure_running()
        # The thread, and through it the worker, starts with SIGINT blocked (engine/interrupts.py).
        with children_spared_ctrl_c():
            thread = threading.Thread(target=self._run, args=(arguments, future), daemon=True,
                                      name=f"simulation-{len(self._threads) + 1}")
            thread.start()
        self._threads.append(thread)
        return future

    def stop(self) -> None:
        """Terminate every worker now (they ignore Ctrl-C); a simulation not started yet never starts."""
        with self._lock:
            self._stopping = True
            processes = list(self._processes)
        for process in processes:
            with contextlib.suppress(Exception):
                process.terminate()

    def _run(self, arguments: dict[str, Any], future: Future[Any]) -> None:
        with self._slots:
            with self._lock:
                if self._stopping:
                    future.set_exception(WorkerFailed("the preview stopped before this simulation started"))
                    return
                receiving, sending = multiprocessing.Pipe(duplex=False)
                process = multiprocessing.get_context("spawn").Process(
                    target=_simulate_in_worker, args=(sending, arguments), daemon=True)
                process.start()
                self._processes.append(process)
            sending.close()
            try:
                succeeded, outcome = receiving.recv()
            except (EOFError, OSError):
                process.join()
                future.set_exception(WorkerFailed(f"the simulation's worker process ended without an answer "
                                                  f"(exit code {process.exitcode})"))
                return
            finally:
                receiving.close()
            process.join()
            if succeeded:
                future.set_result(outcome)
            else:
                future.set_exception(outcome)
