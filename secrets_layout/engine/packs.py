"""The policy pack as several processes answering one run's calls, to use every core.

A pack serves its calls from one Python process (pulumi_policy's gRPC server, a thread pool under
one interpreter lock), so one pack uses one core however many calls are in flight: at 1,000 secrets
the dry run's and the deployment's 10,746 ``Analyze`` calls take about 29 s one pack after the other,
and 16.5 s on two packs side by side. `PolicyPacks` starts the same pack several times, configures
each the same way, spreads one run's ``Analyze`` calls over them in contiguous runs of resources, and
gives the answers back in resource order, so the violations come out in the order one pack gives.

The pack's answer to a request depends on the request and the configuration only: pulumi_policy
builds every policy's arguments afresh from the request (pulumi_policy 1.x, `policy.py`,
``_PolicyAnalyzerServicer.Analyze``: properties, options and provider deserialized per policy and
call) and our policies keep no state between calls (`policies/`), so which process answers makes
no difference. A test holds the
two forms equal (tests/test_policy_packs.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from secrets_layout.engine.analyzer_client import DEFAULT_PACK_DIR, AnalyzerClient
from secrets_layout.engine.analyzer_errors import AnalyzerError
from secrets_layout.engine.analyzer_messages import AnalysisResult, Resource
from secrets_layout.engine.verdict_memo import VerdictMemo

MOST_PACKS = 4
"""More processes than cores only add start-up time and memory."""


SECRETS_PER_EXTRA_PACK = 100
"""About 500 registrations, a second of one pack's time per run: what another process's start-up costs."""


def pack_count(cpus: int | None = None, *, secrets: int | None = None) -> int:
    """One pack per core, at least one and at most `MOST_PACKS`; for a declaration of `secrets`
    secrets, no more than it keeps busy (small ones, as in most tests, get one)."""
    count = max(1, min(cpus if cpus is not None else (os.cpu_count() or 1), MOST_PACKS))
    if secrets is not None:
        count = min(count, 1 + secrets // SECRETS_PER_EXTRA_PACK)
    return count


class PolicyPacks:
    """`count` processes of the pack at `pack_dir`, configured alike; use as a context manager."""

    def __init__(self, count: int | None = None, pack_dir: str | os.PathLike[str] = DEFAULT_PACK_DIR,
                 **client_options: Any) -> None:
        self._clients = [AnalyzerClient(pack_dir, **client_options) for _ in range(count or pack_count())]
        self._calls = ThreadPoolExecutor(max_workers=len(self._clients) + 1, thread_name_prefix="policy-packs")
        self._configured: dict[str, dict[str, Any]] | None = None
        self._closed = False

    @property
    def count(self) -> int:
        return len(self._clients)

    def __enter__(self) -> PolicyPacks:
        try:
            # Each start waits for the process to print its port: start them side by side.
            for started in [self._calls.submit(client.start) for client in self._clients]:
                started.result()
            if self._closed:
                # Closed from another thread while they started (a preview stopping): one may have started
                # after the close looked at it.
                raise AnalyzerError("the policy packs were closed while they started")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop every process; from any thread, also while they start (see __enter__). Safe to call twice."""
        self._closed = True
        # The processes first: a call still in flight (on a pack that hangs, when another failed)
        # is cancelled with its channel instead of being waited for until its deadline.
        for client in self._clients:
            client.close()
        self._calls.shutdown(wait=True, cancel_futures=True)

    def configure(self, *, config_file: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
        """``Configure`` every process with the same policy config; what the first reconciled."""
        answers = [self._calls.submit(client.configure, config_file=Path(config_file)) for client in self._clients]
        configured = [answer.result() for answer in answers]
        self._configured = configured[0]
        return configured[0]

    @property
    def configured(self) -> dict[str, dict[str, Any]] | None:
        return self._configured

    def analyze_many(self, resources: Iterable[Resource], memo: VerdictMemo | None = None) -> AnalysisResult:
        """``Analyze`` every resource, each process taking a contiguous share; results in resource order.
        The memo is shared (`AnalyzerClient.analyze_many`): a request one process answered is not sent
        again by another, unless both have it in flight at once (then the same answer comes twice)."""
        listed = list(resources)
        shares = _shares(listed, self.count)
        answers = [self._calls.submit(client.analyze_many, share, memo)
                   for client, share in zip(self._clients, shares)]
        # A pack that failed is said at once, not after the shares before it are answered (or, on a
        # pack that hangs, time out): the caller's exit then closes every pack.
        wait(answers, return_when=FIRST_EXCEPTION)
        for answer in answers:
            failure = answer.exception() if answer.done() else None
            if failure is not None:
                raise failure
        result = AnalysisResult()
        for answer in answers:
            result.extend(answer.result())
        return result

    def analyze_stack(self, resources: Sequence[Resource], *, on: int = 0) -> Future[AnalysisResult]:
        """``AnalyzeStack`` on process `on` (modulo the count), answered while other calls go on."""
        return self._calls.submit(self._clients[on % self.count].analyze_stack, list(resources))


def _shares(resources: list[Resource], count: int) -> list[list[Resource]]:
    """`count` contiguous runs of nearly equal length, in order (some empty when there are fewer resources)."""
    size, extra = divmod(len(resources), count)
    shares, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        shares.append(resources[start:end])
        start = end
    return shares
