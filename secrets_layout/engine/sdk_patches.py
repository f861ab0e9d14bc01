"""What a simulation changes in the process it runs in, for the length of a run, and restores after it.

Two patches of Pulumi SDK internals, each applied only on the SDK minor version it was tested with
(engine/sdk_versions.py) and only while the internals it replaces are there, else the SDK's own code
runs (slower, the same registrations):

- `outputs_awaited_together`: the SDK's `wait_for_rpcs` (pulumi/runtime/stack.py), quadratic under
  the mock engine, replaced by `_wait_for_rpcs_together`;
- `no_stack_traces`: the SDK's per-registration stack trace capture (pulumi/runtime/resource.py
  `_get_stack_trace`) replaced by `_empty_stack_trace`.

And two changes that patch no SDK internal, so no version guards them:

- `no_full_collections`: the garbage collector's oldest-generation threshold out of reach;
- `os_exit_refused`: `os._exit` raises `ProgramExited` instead of ending the process.

It imports only the Pulumi SDK and engine/sdk_versions.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
from collections.abc import Iterator
from typing import Any, NoReturn

from pulumi.runtime import resource as pulumi_resource
from pulumi.runtime import settings
from pulumi.runtime import stack as pulumi_stack

import secrets_layout.engine.sdk_versions as sdk_versions

__all__ = ["NEVER", "ProgramExited", "no_full_collections", "no_stack_traces", "os_exit_refused",
           "outputs_awaited_together"]


async def _wait_for_rpcs_together(await_all_outstanding_tasks: bool = True) -> None:
    """The SDK's wait_for_rpcs, awaiting each batch of outstanding outputs at once.

    The SDK waits with FIRST_COMPLETED and re-waits on everything still pending, which costs
    time proportional to the pending outputs for each completion: harmless against a real
    engine, where cloud calls dominate, but quadratic under the mock engine, where thousands of
    outputs resolve immediately (1,000 secrets: 120 s instead of 30 s). Awaiting them together
    keeps the same outcome: every RPC and every output finished, the first failure raised.

    Replaces pulumi 3.272.0's pulumi/runtime/stack.py `wait_for_rpcs` (line 154; the re-wait at line 205).
    Upstream fix: none known to this repository (no upstream change or switch found when it was written);
    the patch can go when the SDK awaits its outstanding outputs together (asyncio.gather) instead of
    re-waiting on every pending one per completion.
    """
    rpc_manager = pulumi_stack._get_rpc_manager()
    while True:
        while rpc_manager.rpcs:
            await asyncio.sleep(0)
            await rpc_manager.rpcs.pop()
        if rpc_manager.unhandled_exception is not None:
            raise rpc_manager.unhandled_exception.with_traceback(rpc_manager.exception_traceback)
        while await_all_outstanding_tasks:
            with settings.SETTINGS.lock:
                pending = list(settings.SETTINGS.outputs)
                settings.SETTINGS.outputs.clear()
            if not pending:
                break
            await asyncio.gather(*pending)
        if not rpc_manager.rpcs:
            return


@contextlib.contextmanager
def outputs_awaited_together() -> Iterator[None]:
    """Use `_wait_for_rpcs_together` for this run only; the SDK's own loop on an SDK version it was not
    tested with (`sdk_versions`), or if its internals moved. Restored when the run ends, however it ends."""
    internals = ("wait_for_rpcs", "_get_rpc_manager")
    if not sdk_versions.is_tested("pulumi") or not all(hasattr(pulumi_stack, name) for name in internals) \
            or not hasattr(settings, "SETTINGS"):
        yield
        return
    original = pulumi_stack.wait_for_rpcs
    pulumi_stack.wait_for_rpcs = _wait_for_rpcs_together
    try:
        yield
    finally:
        pulumi_stack.wait_for_rpcs = original


def _empty_stack_trace() -> Any:
    """What the SDK sends when it finds no user frame (`_get_stack_trace`'s own fallback)."""
    from pulumi.runtime.proto import source_pb2

    return source_pb2.StackTrace()


@contextlib.contextmanager
def no_stack_traces() -> Iterator[None]:
    """No Python stack trace per registration for this run; the SDK's own capture if its internals moved.

    The SDK (pulumi 3.272.0, pulumi/runtime/resource.py: `_get_stack_trace` at line 741 calls
    `traceback.extract_stack()` over the whole stack at line 756, once per `register_resource`, line
    1160, and twice per `read_resource`, lines 833 and 837) sends it in the
    request's `stackTrace` and `sourcePosition` for the engine to keep in the state (added by
    pulumi/pulumi#20430, SDK 3.195). The recording monitor never reads either field, and the capture
    is about a quarter of a registration under the mock engine (it reads every frame's source line).
    The SDK has no switch for it (no upstream opt-out found), so it is replaced for the run only, on
    the SDK version it was tested with (`sdk_versions`); any other captures them as the SDK does.
    Restored when the run ends, however it ends.

    Upstream fix: none known to this repository; the patch can go when the SDK lets a monitor that keeps no
    source positions opt out of the capture (or captures lazily).
    """
    if not sdk_versions.is_tested("pulumi") or not callable(getattr(pulumi_resource, "_get_stack_trace", None)):
        yield
        return
    try:
        _empty_stack_trace()
    except ImportError:
        yield
        return
    original = pulumi_resource._get_stack_trace
    pulumi_resource._get_stack_trace = _empty_stack_trace
    try:
        yield
    finally:
        pulumi_resource._get_stack_trace = original


NEVER = 2**31 - 1
"""A collection threshold that is never reached."""


@contextlib.contextmanager
def no_full_collections() -> Iterator[None]:
    """No full (oldest generation) garbage collection during a simulation (or a preview holding several);
    the process's thresholds after it.

    A full collection walks every live object, and a simulation keeps every registration alive to its end
    (the program holds its resources, the SDK their outputs and futures), so each one costs more than the
    last: about a third of the run's CPU time at 1,000 secrets (22 s against 15 s with no collector). The
    young collections stay, and with them the short-lived cycles the SDK makes per property (the
    recursive closure of `rpc.contains_unknowns`, futures and their callbacks), so memory does not grow
    (1,000 secrets: 376 MB against 380 MB with every collection, 396 MB with none). CPython's collector
    runs a full collection only when the number of young collections since the last one passes the
    third threshold (Modules/gcmodule.c, `gc_collect_generations`), so that threshold is set out of
    reach for the run. Only the thresholds change: `gc.disable()` by the caller or the program is left
    as it is. It patches no SDK internal, so no version guards it; no upstream fix applies (the cost is
    the collector's, over objects a simulation must keep).
    """
    young, middle, _ = gc.get_threshold()
    previous = gc.get_threshold()
    gc.set_threshold(young, middle, NEVER)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


class ProgramExited(SystemExit):
    """The program called os._exit(code): in a simulation this ends the program, not the process."""


@contextlib.contextmanager
def os_exit_refused() -> Iterator[None]:
    """os._exit raises ProgramExited while the program runs: called for real it would end the
    simulation's process at once, or the preview's own when the simulation runs in it, with no word
    of why (os._exit skips every handler; there is no other way to see it coming). It patches no SDK
    internal, so no version guards it; no upstream fix applies (the program, not the SDK, calls it).
    Restored when the run ends, however it ends."""
    original = os._exit

    def refused(code: int) -> NoReturn:
        raise ProgramExited(code)

    os._exit = refused
    try:
        yield
    finally:
        os._exit = original
