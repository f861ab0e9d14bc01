"""The policy pack's verdicts on a preview's runs: each run's resources sent as the engine sends them
(Analyze per resource, AnalyzeStack with every state), over one or more pack processes, each violation once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secrets_layout.engine.analyzer_messages import AnalysisResult, Provider, Resource
from secrets_layout.engine.analyzer_messages import Violation as AnalyzerViolation
from secrets_layout.engine.interrupts import StopSignal
from secrets_layout.engine.packs import PolicyPacks
from secrets_layout.engine.recorded_values import RegisteredResource, Simulation, to_wire
from secrets_layout.engine.verdict_memo import VerdictMemo
from secrets_layout.engine.workers import InProcess
from secrets_layout.findings.recheck import Run

@dataclass(frozen=True)
class PolicyCheck:
    violations: list[AnalyzerViolation]
    configured: dict[str, dict[str, Any]]
    """The pack's configuration as the pack reconciled it (policy -> level and properties)."""
    runs: list[Run]
    """What the pack was sent, the deployment's first: where a violation's finding is looked up."""


def check_policies(simulations: Iterable[Simulation | Future[Simulation] | InProcess], config_file: Path, *,
                   with_full_run: bool | None = None, progress: Callable[[str], None] | None = None,
                   memo: VerdictMemo | None = None, pack_processes: int = 1,
                   stopping: StopSignal | None = None) -> PolicyCheck:
    """The pack's violations over every simulation, each (policy, level, resource, message) once, in
    the order found: one pack process, configured once, runs Analyze and AnalyzeStack per simulation.

    A dry run's "can't run policy ... during preview" advisories (pulumi_policy's answer when a policy
    reads an unknown value) are left out when a full run ("up") is among the simulations: it decides
    the same policy on the same resource with every value known. Every verdict of the dry run stays.

    simulations may be jobs still running (a worker's future, `InProcess`): the pack starts before the
    first is asked for; with_full_run then says whether an "up" simulation is among them. Each run's
    AnalyzeStack (one call with the whole stack, the longest the pack answers) is sent as soon as its
    simulation exists, from a thread of its own, so it is answered while an earlier run's Analyze calls
    go on; the Analyze calls go in run order.
    pack_processes: processes of the pack sharing the calls (`engine.packs.PolicyPacks`); the same
    violations in the same order whatever the number.

    An Analyze request identical to one already answered (the deployment repeats about a third of
    the dry run's requests; `memo` may hold a base revision's answers) is answered from `memo`
    (verdict_memo.VerdictMemo) in its place, so the violations come in the same order.
    AnalyzeStack always runs: its request is the whole stack.

    stopping: the packs are registered with it, so that a preview stopping from another thread
    (Ctrl-C) closes them and the calls waiting on them end at once.
    """
    memo = memo if memo is not None else VerdictMemo()
    jobs = list(simulations)
    if with_full_run is None:
        with_full_run = any(_simulation_of(job).mode == "up" for job in jobs)
    decided = with_full_run
    report_progress = progress or (lambda message: None)
    seen: set[tuple[str, str, str, str]] = set()
    found: list[AnalyzerViolation] = []
    packs = PolicyPacks(pack_processes)
    if stopping is not None:
        stopping.register(packs.close)  # before they start: starting takes a second or two
    with packs:
        packs.configure(config_file=config_file)
        # A simulation of this process runs here, in this thread: the SDK's runtime is the process's.
        jobs = [job if isinstance(job, Future) else _simulation_of(job) for job in jobs]
        sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="analyze-stack")
        try:
            runs = [sender.submit(_stack_sent, packs, job, index) for index, job in enumerate(jobs)]
            analysed, sent = [], []
            for run in runs:
                mode, inputs, states, stack = run.result()
                report_progress(f"checking {len(inputs)} resources of the "
                                f"{'dry run' if mode == 'preview' else 'deployment'} against the policy pack")
                # In run order: the memo answers the deployment's repeats of the dry run.
                analysed.append((mode, packs.analyze_many(inputs, memo), stack))
                sent.insert(0 if mode == "up" else len(sent), Run(inputs, states))
        finally:
            # On a failure, a simulation still running is not waited for (its worker is stopped by the caller).
            sender.shutdown(wait=False, cancel_futures=True)
        for mode, analysis, stack in analysed:
            for violation in analysis.extend(stack.result()).violations:
                if decided and mode == "preview" and is_cannot_check(violation):
                    continue
                key = (violation.policy, violation.level, violation.urn, violation.message)
                if key not in seen:
                    seen.add(key)
                    found.append(violation)
        return PolicyCheck(found, packs.configured or {}, sent)


def _simulation_of(job: Simulation | Future[Simulation] | InProcess) -> Simulation:
    return job if isinstance(job, Simulation) else job.result()


def _stack_sent(packs: PolicyPacks, job: Simulation | Future[Simulation], index: int
                ) -> tuple[str, list[Resource], list[Resource], Future[AnalysisResult]]:
    """The run's mode, its Analyze inputs and AnalyzeStack states, and its AnalyzeStack, sent once the
    simulation exists."""
    simulation = _simulation_of(job)
    inputs, states = analyzer_resources(simulation)
    return simulation.mode, inputs, states, packs.analyze_stack(states, on=index)


def is_cannot_check(violation: AnalyzerViolation) -> bool:
    """pulumi_policy's advisory for a policy that read an unknown value (pulumi_policy/policy.py,
    Analyze/AnalyzeStack: "can't run policy '<name>' from policy pack '<pack>@v<version>' during preview: ...")."""
    return (violation.level == "advisory" and violation.message.startswith(f"can't run policy '{violation.policy}' ")
            and " during preview: " in violation.message)


def analyzer_resources(simulation: Simulation) -> tuple[list[Resource], list[Resource]]:
    """What the engine sends the pack: inputs per resource (Analyze), and the resulting state of
    every resource (AnalyzeStack), with their options, parents, providers and dependencies."""
    providers = {resource.urn: resource for resource in simulation.resources if resource.is_provider}
    wired_providers: dict[str, Provider] = {}
    inputs, states = [], []
    for resource in simulation.resources:
        common: dict[str, Any] = dict(
            urn=resource.urn, protect=bool(resource.protect), parent=resource.parent or "",
            dependencies=list(resource.dependencies),
            property_dependencies={name: list(urns) for name, urns in resource.property_dependencies.items()},
            provider=_provider(resource, providers, wired_providers),
            ignore_changes=list(resource.ignore_changes),
            additional_secret_outputs=list(resource.additional_secret_outputs),
        )
        wired_inputs = to_wire(resource.inputs)
        inputs.append(Resource(resource.type, resource.name, wired_inputs, **common))
        state = {**wired_inputs, **to_wire(resource.outputs)}
        if resource.id:
            state["id"] = resource.id
        states.append(Resource(resource.type, resource.name, state, **common))
    return inputs, states


def _provider(resource: RegisteredResource, providers: dict[str, RegisteredResource],
              wired: dict[str, Provider]) -> Provider | None:
    """The resource's provider as the pack is sent it; one object per provider (`wired`), shared by
    every resource it serves."""
    if not resource.provider:
        return None
    # The simulation records the provider's URN (the engine's reference "<urn>::<id>" without its id).
    found = providers.get(resource.provider) or providers.get(resource.provider.rsplit("::", 1)[0])
    if found is None:
        return None
    if found.urn not in wired:
        wired[found.urn] = Provider(found.type, found.name, to_wire(found.inputs), found.urn)
    return wired[found.urn]
