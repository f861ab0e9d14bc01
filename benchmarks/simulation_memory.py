"""Where one simulation's memory goes: `python benchmarks/simulation_memory.py DECLARATION [up|preview]`.

A diagnostic, not a benchmark (tracemalloc slows the run several times): runs one simulation in this
process, snapshots the traced heap every 50 registrations and around the SDK's `wait_for_rpcs`, and
prints the largest snapshot by source line and the live objects by type at that point. The figures
in benchmarks/README.md, "Memory per simulation", come from it.
"""

from __future__ import annotations

import collections
import gc
import resource
import sys
import threading
import tracemalloc

from secrets_layout.engine import programs
from secrets_layout.declaration import loader
from secrets_layout.engine import recording_monitor, sdk_patches, simulation


def main(path: str, mode: str = "up") -> None:
    arguments = programs.simulation_arguments(loader.load_declaration(path), mode)
    largest: dict = {"size": 0, "where": None, "snapshot": None, "counts": None, "registrations": 0}
    lock = threading.Lock()

    def check(where: object) -> None:
        current, _ = tracemalloc.get_traced_memory()
        with lock:
            if current > largest["size"] + 3_000_000:
                largest.update(size=current, where=where, snapshot=tracemalloc.take_snapshot(),
                               counts=collections.Counter(type(o).__qualname__ for o in gc.get_objects()))

    register = recording_monitor.RecordingMonitor.RegisterResource
    wait = sdk_patches._wait_for_rpcs_together

    def counted_register(self, request):
        largest["registrations"] += 1
        if largest["registrations"] % 50 == 0:
            check(("registration", largest["registrations"]))
        return register(self, request)

    async def watched_wait(*args, **kwargs):
        check("wait_for_rpcs starts")
        await wait(*args, **kwargs)
        check("wait_for_rpcs ends")

    recording_monitor.RecordingMonitor.RegisterResource = counted_register
    sdk_patches._wait_for_rpcs_together = watched_wait
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start(12)
    try:
        result = simulation.simulate(**arguments)
    finally:
        recording_monitor.RecordingMonitor.RegisterResource = register
        sdk_patches._wait_for_rpcs_together = wait
    _, peak = tracemalloc.get_traced_memory()
    print(f"{len(result.resources)} resources; RSS before {before:.1f} MB; traced peak {peak / 1e6:.1f} MB; "
          f"largest snapshot {largest['size'] / 1e6:.1f} MB at {largest['where']}")
    snapshot = largest["snapshot"].filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
    for statistic in snapshot.statistics("lineno")[:25]:
        print(f"{statistic.size / 1e6:6.1f} MB {statistic.count:7} {statistic.traceback}")
    for name, count in largest["counts"].most_common(30):
        print(f"{count:7} {name}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
