"""`secrets-layout preview`: an offline plan, policy report and cost for one declaration.

`run_preview` is a pipeline of named stages:

1. plan: load and validate the declaration (nothing else runs on an invalid one), find its policy
   config (policies/config/<environment>.json unless another is given) and its program; with a base
   revision, the declaration as it was there (read from git while the head is evaluated), or the
   deployment a previous preview of the same content stored (`--cache`, engine/cache.py);
2. evaluate: what the program registers, as a dry run (mode "preview": what `pulumi preview` of a new
   stack sends, computed outputs unknown) and as a deployment (mode "up": every output known), and the
   base's deployment; the packaged program's plan is evaluated without the SDK
   (engine/plan_evaluation.py), any other program runs on the SDK's mock engine in worker processes;
3. check: drive the real policy pack over Pulumi's analyzer protocol (Analyze per resource, then
   AnalyzeStack) on both runs and report the union of their violations (each once), so a policy that
   misjudges an unknown value fails here rather than in the first real `pulumi preview`;
4. compare: classify each resource's change against the base, and who can read each secret before and after;
5. locate: trace each violation to the declaration field that causes it (falling back to the line that
   produced the resource), and give its fix in the declaration's terms;
6. report: the steps at their lines, the violations, and the monthly cost of both sides.
No network, no cloud credentials, no Pulumi CLI. Secret values stay inside the simulation.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from secrets_layout.declaration.cost import CostEstimate, estimate
from secrets_layout.declaration.loader import LoadedDeclaration, load_declaration
from secrets_layout.declaration.revision import declaration_at, write_at
from secrets_layout.declaration.yaml_source import Position
from secrets_layout.engine.analyzer_client import DEFAULT_PACK_DIR
from secrets_layout.engine.analyzer_messages import Violation as AnalyzerViolation
from secrets_layout.engine.cache import PreviewCache, access_key, comparable_resources, simulation_key, verdict_key
from secrets_layout.engine.changes import PlannedChange, plan_changes
from secrets_layout.engine.interrupts import StopSignal
from secrets_layout.engine.packs import pack_count
from secrets_layout.engine.policy_check import PolicyCheck, check_policies
from secrets_layout.engine.policy_config import PolicyConfigProblem, check_policy_config
from secrets_layout.engine.program_failure import program_failure
from secrets_layout.engine.programs import PACKAGED_PROGRAM, find_program, registrations, simulation_arguments
from secrets_layout.engine.recorded_values import RegisteredResource, Simulation
from secrets_layout.engine.sdk_patches import no_full_collections
from secrets_layout.engine.tracing import LocatedViolation, ViolationLocator, locate_resources, made_by_declaration
from secrets_layout.engine.verdict_memo import VerdictMemo
from secrets_layout.engine.workers import InProcess, SimulationRunner
from secrets_layout.errors import DeclarationError, printable, printable_file
from secrets_layout.files import shown
from secrets_layout.repository import find_policy_config
from secrets_layout.findings.fields import author_message, inheriting_secret, once_per_line
from secrets_layout.findings.parity import parity_issues
from secrets_layout.findings.recheck import FindingResolver
from secrets_layout.policies.resources import KMS_KEYS, NATIVE_KMS_KEY, SECRET_POLICIES, SECRETS
from secrets_layout.review.access import AccessMap, who_can_read
from secrets_layout.review.access_diff import AccessReview, review_access

COSTLY_KEYS = (*KMS_KEYS, NATIVE_KMS_KEY)
"""Customer managed keys, each billed per month (declaration/cost.py)."""
Progress = Callable[[str], None]


class PreviewUsageError(Exception):
    """The preview cannot start: no policy config, an unknown base revision. Exit 2."""


@dataclass(frozen=True)
class Violation:
    policy: str
    level: str
    urn: str
    message: str
    file: str
    line: int
    column: int
    inherited_by: tuple[str, ...] = ()
    """Located under `defaults:`: the secrets that inherit the line (reported once for all of them);
    `urn` is the first one's resource."""


@dataclass(frozen=True)
class PlannedResource:
    change: PlannedChange
    file: str
    line: int | None
    """Declaration line of what made it; None for a deleted resource (it is no longer declared)."""


@dataclass(frozen=True)
class PreviewReport:
    environment: str
    file: str
    policy_config: str
    resources: list[PlannedResource]
    violations: list[Violation]
    cost: CostEstimate
    base: str | None = None
    base_cost: CostEstimate | None = None
    warnings: list[str] = field(default_factory=list)
    access: AccessReview | None = None
    """Who can read each secret before and after (with a base): review/access_diff.py."""

    @property
    def mandatory(self) -> list[Violation]:
        return [violation for violation in self.violations if violation.level == "mandatory"]

    @property
    def advisory(self) -> list[Violation]:
        return [violation for violation in self.violations if violation.level == "advisory"]

    @property
    def blocked(self) -> list[PlannedResource]:
        """Steps protect forbids: the engine fails the whole `pulumi preview`/`up` on any of them."""
        return [resource for resource in self.resources if resource.change.blocked]

    @property
    def fails(self) -> bool:
        """What fails the pull request: a mandatory violation, or a step the engine would refuse."""
        return bool(self.mandatory or self.blocked)

    def count(self, change: str) -> int:
        return sum(1 for resource in self.resources if resource.change.change == change)


def run_preview(path: str | os.PathLike[str], *, policy_config: str | os.PathLike[str] | None = None,
                base: str | None = None, today: date | None = None, progress: Progress | None = None,
                program: str | os.PathLike[str] | None = None, parallel: bool = True,
                stack_traces: bool = False, cache: str | os.PathLike[str] | None = None) -> PreviewReport:
    """Preview one declaration. Raises DeclarationError (invalid) or PreviewUsageError.

    policy_config: default policies/config/<environment>.json of the declaration's repository.
    program: the Pulumi program to run (default: `find_program`).
    parallel: run the simulations in worker processes side by side (`SimulationRunner`); False runs
        them one after the other in this process. The report is the same either way.
    stack_traces: let the SDK capture a stack trace per registration (`simulate`); no effect on
        the report, only on the time.
    cache: a folder (created if missing) where the deployment of the previewed declaration, the
        pack's verdicts and who can read each secret are stored by content (engine/cache.py); with
        `base`, a stored deployment of the base's content replaces its simulation, its verdicts answer
        identical requests, and its access map leaves only the secrets the change touches to evaluate.
        The report is the same with or without it (but for a warning about an unusable entry).

    The stages, in order: plan, evaluate, check, compare, locate, report. The check runs beside the
    evaluation of the base and the comparison (a thread of its own when simulations run in workers).
    """
    report_progress = progress or (lambda message: None)
    file = os.fspath(path)
    if base is not None and not os.path.lexists(file):
        return _preview_deletion(Path(file), base, today, report_progress, program)
    plan = plan_head(file, policy_config=policy_config, program=program, base=base, stack_traces=stack_traces)
    with _program_failures_told(plan.program_file), contextlib.ExitStack() as scope:
        # Full collections walk the simulations' resources again and again (see simulation.simulate).
        scope.enter_context(no_full_collections())
        runner = scope.enter_context(SimulationRunner(parallel=parallel))
        # Ctrl-C (or a failure) in this thread stops the workers and the packs before the block waits for
        # the threads that use them (engine/interrupts.StopSignal).
        stopping = StopSignal()
        stopping.register(runner.stop)
        stored = PreviewCache(cache) if cache is not None else None
        # Keyed before the simulations read the files, and again before storing (_stored_unchanged).
        head_key = plan.cache_key(plan.loaded) if stored is not None else None
        # The head's evaluation starts first; the base is read (git, the cache) while it runs.
        head = start_head_evaluation(plan, runner)
        based = plan_base(plan, base, scope, stored)
        report_progress(_evaluation_started(plan, based))
        runs = start_base_evaluation(plan, based, head, runner)
        check = start_check(plan, runs, based.memo, scope, runner=runner, stopping=stopping,
                            progress=report_progress, parallel=parallel)
        evaluation = evaluated(runs, based)
        comparison = compare(plan, based, evaluation, today or date.today(), storing=stored is not None)
        locations = locate_deployment(plan, evaluation)
        head_stored = store_evaluation(stored, plan, head_key, based, evaluation, comparison)
        checked = check.result()
        if head_stored:
            store_verdicts(stored, plan, head_key, based.memo)
        warnings = based.warnings + (stored.warnings if stored is not None else [])
    violations = locate_violations(checked, locations, plan.loaded)
    return build_report(plan, based, evaluation, comparison, locations, violations, warnings)


# -- the stages -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewPlan:
    """What the plan stage settles before anything runs: the declaration, the policy config and the
    program that deploys it, each checked, so that a usage error stops the preview before any work."""

    file: str
    loaded: LoadedDeclaration
    config_file: Path
    program_file: Path
    own_program: Path | None
    """The user's `--program`: the program lines that register resources are located too (engine/tracing.py)."""
    stack_traces: bool

    def traced(self, mode: str) -> bool:
        """Whether the run of `mode` records a stack trace per registration. A program of the user's own:
        where it registers each resource, for what the declaration did not make (engine/tracing.py); the
        deployment is the run that is located."""
        return self.stack_traces or (self.own_program is not None and mode == "up")

    def simulation_arguments(self, declared: LoadedDeclaration, mode: str = "up") -> dict[str, Any]:
        return simulation_arguments(declared, mode, program=self.program_file, stack_traces=self.traced(mode))

    def cache_key(self, declared: LoadedDeclaration) -> str:
        """The deployment's key in the preview cache (engine/cache.py): the content it is computed from."""
        return simulation_key(declared.declaration_path, self.simulation_arguments(declared), PACKAGED_PROGRAM)


def plan_head(file: str, *, policy_config: str | os.PathLike[str] | None, program: str | os.PathLike[str] | None,
              base: str | None, stack_traces: bool) -> PreviewPlan:
    """Plan stage: load the declaration and find what it is previewed with. Every usage error (no policy
    config, an invalid one, no program, an unknown base revision) is raised here, before anything runs."""
    loaded = load_declaration(file)
    environment = loaded.declaration.environment
    config_file = Path(policy_config) if policy_config is not None else find_policy_config(file, environment)
    if config_file is None:
        raise PreviewUsageError(f"{shown(file)}: no policies/config/{environment}.json in the declaration's repository; "
                                "pass --policy-config FILE")
    if not config_file.is_file():
        raise PreviewUsageError(f"{shown(config_file)}: no such policy config; pass --policy-config FILE")
    program_file = Path(program) if program is not None else find_program(file)
    if not program_file.is_file():
        raise PreviewUsageError(f"{shown(program_file)}: no such program; pass --program FILE")
    try:
        check_policy_config(config_file)
    except PolicyConfigProblem as problem:
        raise PreviewUsageError("invalid policy config:\n  " + "\n  ".join(problem.problems)) from None
    if base is not None:
        _check_base(Path(file), base)
    return PreviewPlan(file=file, loaded=loaded, config_file=config_file, program_file=program_file,
                       own_program=program_file if program is not None else None, stack_traces=stack_traces)


@dataclass(frozen=True)
class BasePlan:
    """The declaration at `--base`, and what the preview cache already holds of it."""

    revision: str | None
    loaded: LoadedDeclaration | None
    """None without a base, or when the declaration is missing or invalid there (an empty layout)."""
    cost: CostEstimate | None
    """The declaration's own estimate at the base (None without a base)."""
    warnings: list[str]
    key: str | None
    """Its deployment's key in the cache (with a cache and a base declaration)."""
    cached: list[RegisteredResource] | None
    """Its deployment as the cache stored it, in the form `plan_changes` compares; None: not cached."""
    memo: VerdictMemo
    """The pack's verdicts: those stored with the cached base, which answer identical requests of the head."""
    access: AccessMap | None = None
    """Who can read each secret of its deployment, as the cache stored it beside it; None: not cached."""


def plan_base(plan: PreviewPlan, revision: str | None, scope: contextlib.ExitStack,
              stored: PreviewCache | None) -> BasePlan:
    """Plan stage, the base's part: the declaration at `revision` (git), and its deployment and verdicts when
    the cache holds them. Runs while the head is evaluated: reading git and the cache takes a while."""
    loaded, cost, warnings = None, None, []
    if revision is not None:
        loaded, cost, warnings = _base_declaration(Path(plan.file), revision, scope)
    key, cached, memo, access = None, None, VerdictMemo(), None
    if stored is not None and loaded is not None:
        key = plan.cache_key(loaded)
        cached = stored.load_simulation(key)
        if cached is not None:
            memo = VerdictMemo(stored.load_verdicts(verdict_key(key, DEFAULT_PACK_DIR, plan.config_file)))
            access = stored.load_access(access_key(key, loaded.declaration.security_account))
    return BasePlan(revision=revision, loaded=loaded, cost=cost, warnings=warnings, key=key, cached=cached, memo=memo,
                    access=access)


def _evaluation_started(plan: PreviewPlan, based: BasePlan) -> str:
    """The progress line of the evaluate stage: what is simulated, and whether the base comes from the cache."""
    base = based.revision
    return (f"simulating the deployment of {shown(plan.file)} and a dry run (pulumi preview)"
            + (f", and the deployment at {base}" if based.loaded is not None and based.cached is None
               else f"; the deployment at {base} is in the cache" if based.cached is not None else ""))


Pending = Future[Simulation] | InProcess
"""A simulation when asked for: a worker's future, or one run in this process (`registrations`)."""


@dataclass(frozen=True)
class Runs:
    """The evaluate stage once started: the head's dry run and deployment, and the base's deployment
    when it is to be simulated (not cached, and there is a base declaration)."""

    dry_run: Pending
    deployment: Pending
    base: Pending | None = None


def start_head_evaluation(plan: PreviewPlan, runner: SimulationRunner) -> Runs:
    """Evaluate stage: start the head's dry run and deployment (`registrations`). A worker starts at once;
    the packaged program's plan is evaluated when first asked for (by the check, or by `evaluated`)."""
    return Runs(registrations(runner, plan.loaded, "preview", plan.program_file, plan.traced("preview")),
                registrations(runner, plan.loaded, "up", plan.program_file, plan.traced("up")))


def start_base_evaluation(plan: PreviewPlan, based: BasePlan, head: Runs, runner: SimulationRunner) -> Runs:
    """Evaluate stage: the base's deployment too, unless the cache holds it or there is none."""
    if based.loaded is None or based.cached is not None:
        return head
    return replace(head, base=registrations(runner, based.loaded, "up", plan.program_file, plan.traced("up")))


def start_check(plan: PreviewPlan, runs: Runs, memo: VerdictMemo, scope: contextlib.ExitStack, *,
                runner: SimulationRunner, stopping: StopSignal, progress: Progress, parallel: bool) -> Future[PolicyCheck]:
    """Check stage: the policy pack over the head's dry run and deployment (`check_policies`).

    The pack starts while the simulations run, and checks the dry run while the deployment (and the
    base) may still be running: same calls, same order as one after the other. The check runs beside
    the preview's thread, which compares the deployment with its base meanwhile (while the pack
    answers AnalyzeStack, this process has nothing else to do).
    """
    check_arguments = dict(
        simulations=(runs.dry_run, runs.deployment), config_file=plan.config_file,
        with_full_run=True, progress=progress, memo=memo,
        pack_processes=pack_count(secrets=len(plan.loaded.declaration.secrets)) if parallel else 1,
        stopping=stopping)
    check: Future[PolicyCheck] = Future()
    if runner.workers > 1:
        checking = scope.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="policy-check"))
        scope.push(stopping.on_error)  # left before `checking` is: its thread stops, then is waited for
        check = checking.submit(check_policies, **check_arguments)
    else:
        # The simulations run in this process, when asked for: one at a time, in one thread (the
        # SDK's runtime is global to a process).
        check.set_result(check_policies(**check_arguments))
    return check


@dataclass(frozen=True)
class Evaluation:
    """The evaluate stage's answer: the head's deployment, and both sides in the form the cache stores
    (secret values as digests, assets as content hashes), with or without a cache: the comparison is the
    same code either way."""

    deployment: Simulation
    head: list[RegisteredResource]
    base: list[RegisteredResource] | None
    """None without --base; empty when the declaration is missing or invalid at the base."""


def evaluated(runs: Runs, based: BasePlan) -> Evaluation:
    """Evaluate stage: wait for the head's deployment and the base's, and put both in comparable form."""
    deployment = runs.deployment.result()
    base = None if based.revision is None else [] if based.loaded is None else (
        based.cached if based.cached is not None else comparable_resources(runs.base.result().resources))
    return Evaluation(deployment=deployment, head=comparable_resources(deployment.resources), base=base)


@dataclass(frozen=True)
class Comparison:
    """The compare stage's answer: each resource's step, and who can read each secret before and after."""

    changes: list[PlannedChange]
    access: AccessReview | None
    """With --base only."""
    head_access: AccessMap | None = None
    """Who can read each secret at the head: with --base, or with --cache (to store it)."""
    base_access: AccessMap | None = None
    """The base's, when it was evaluated here rather than read from the cache (to store it)."""


def compare(plan: PreviewPlan, based: BasePlan, evaluation: Evaluation, today: date, *, storing: bool) -> Comparison:
    """Compare stage: the head's deployment against the base's (every resource new without one).
    storing: the head's access map is wanted for the cache even without a base (the push to the
    default branch fills the cache for its pull requests); without a cache and a base none is computed."""
    changes = plan_changes(evaluation.head, evaluation.base, today)
    account = plan.loaded.declaration.security_account
    if evaluation.base is None:
        return Comparison(changes=changes, access=None,
                          head_access=who_can_read(evaluation.head, account) if storing else None)
    base_account = based.loaded.declaration.security_account if based.loaded is not None else account
    before, after = _access_maps(evaluation.head, account, evaluation.base, base_account, based.access)
    return Comparison(changes=changes, access=_review_access(before, after, evaluation.head, changes),
                      head_access=after, base_access=before if based.access is None else None)


@dataclass(frozen=True)
class Locations:
    """Locate stage, its first half: where each resource of the deployment comes from (a declaration line,
    or the user's program), ready before the pack's answers are."""

    positions: dict[str, Position]
    locator: ViolationLocator


def locate_deployment(plan: PreviewPlan, evaluation: Evaluation) -> Locations:
    """Locate stage: the declaration (or program) line of each resource, while the pack still runs."""
    resources = evaluation.deployment.resources
    return Locations(positions=locate_resources(resources, plan.loaded, plan.own_program),
                     locator=ViolationLocator(resources, plan.loaded, plan.own_program))


def store_evaluation(stored: PreviewCache | None, plan: PreviewPlan, head_key: str | None, based: BasePlan,
                     evaluation: Evaluation, comparison: Comparison) -> bool:
    """The head's deployment and access map (when its files did not change meanwhile), and a base simulated
    or evaluated for want of an entry, into the cache. Whether the head was stored: its verdicts follow when
    the check ends."""
    if stored is None:
        return False
    head_unchanged = _stored_unchanged(stored, head_key, plan.cache_key(plan.loaded), plan.file)
    if head_unchanged:
        _store(stored, stored.store_simulation, head_key, evaluation.head)
        if comparison.head_access is not None:
            _store(stored, stored.store_access, access_key(head_key, plan.loaded.declaration.security_account),
                   comparison.head_access)
    if based.cached is None and based.loaded is not None:
        _store(stored, stored.store_simulation, based.key, evaluation.base)
    if comparison.base_access is not None and based.loaded is not None:
        _store(stored, stored.store_access, access_key(based.key, based.loaded.declaration.security_account),
               comparison.base_access)
    return head_unchanged


def store_verdicts(stored: PreviewCache, plan: PreviewPlan, head_key: str, memo: VerdictMemo) -> None:
    """The pack's verdicts of the head (those it used, asked or remembered) into the cache, beside its
    deployment, once the check has ended."""
    _store(stored, stored.store_verdicts, verdict_key(head_key, DEFAULT_PACK_DIR, plan.config_file), memo.used)


def locate_violations(checked: PolicyCheck, locations: Locations, loaded: LoadedDeclaration) -> list[Violation]:
    """Locate stage: each violation at the declaration field that causes it (its finding, looked up in what
    the pack was sent), a `defaults:` line once for every secret inheriting it."""
    configured = checked.configured
    resolver = FindingResolver(checked.runs, configured)
    located = [(found, locations.locator.locate(found.policy, found.urn, found.detail,
                                                resolver.finding(found.policy, found.urn, found.detail),
                                                configured.get(found.policy, {}).get("properties")))
               for found in checked.violations]
    return [_violation(group, loaded) for group in _once_per_line(located, loaded)]


def build_report(plan: PreviewPlan, based: BasePlan, evaluation: Evaluation, comparison: Comparison,
           locations: Locations, violations: list[Violation], warnings: list[str]) -> PreviewReport:
    """Report stage: the steps at their declaration lines, the violations, both costs and the warnings."""
    loaded, positions = plan.loaded, locations.positions
    resources = [
        # Of an environment folder, the file that declares what made the resource.
        PlannedResource(change, positions[change.urn].file or loaded.file if change.urn in positions else plan.file,
                        positions[change.urn].line if change.urn in positions else None)
        for change in comparison.changes
    ]
    base_cost = based.cost if evaluation.base is None or based.loaded is None else estimate(
        based.loaded.declaration, **_beyond_the_declaration(evaluation.base, {}))
    return PreviewReport(
        environment=loaded.declaration.environment, file=plan.file, policy_config=_shown(plan.config_file),
        resources=resources, violations=violations,
        cost=estimate(loaded.declaration, **_beyond_the_declaration(evaluation.deployment.resources, positions)),
        base=based.revision, base_cost=base_cost, warnings=warnings + parity_made(loaded, based.loaded),
        access=comparison.access,
    )


@contextlib.contextmanager
def _program_failures_told(program: Path) -> Iterator[None]:
    """A failure of the program's own (a syntax error, an exception, sys.exit or os._exit in it) as a
    PreviewUsageError at its file and line (engine/program_failure.py); anything else as it is."""
    try:
        yield
    except (Exception, SystemExit) as error:
        failure = program_failure(error, program)
        if failure is None:
            raise
        raise PreviewUsageError(failure) from None


def parity_made(head: LoadedDeclaration, base: LoadedDeclaration | None) -> list[str]:
    """Rotation parity with the lower environments (findings/parity.py) that this change makes: every
    difference of the head's without --base, else those the base revision did not have (compared by what
    they say, which names the secret and its counterpart, not by where they are)."""
    read: dict[str, Any] = {}
    before = ({issue.message for issue in parity_issues(base, read, beside=head.declaration_path)}
              if base is not None else set())
    return [f"rotation parity: {printable_file(issue.file)}:{issue.line}: {issue.path}: {issue.message}"
            for issue in parity_issues(head, read) if issue.message not in before]


def _beyond_the_declaration(resources: list[RegisteredResource], positions: dict[str, Position]) -> dict[str, Any]:
    """The secrets and keys the program makes that no component of the declaration's layout made: the
    cost estimate's `program_secrets` and `program_keys`, each named with the program line that made it."""
    by_urn = {resource.urn: resource for resource in resources}
    secrets, keys = [], []
    for resource in resources:
        if not resource.custom or resource.read or made_by_declaration(resource, by_urn):
            continue
        position = positions.get(resource.urn)
        where = f"{position.file}:{position.line}" if position is not None and position.file.endswith(".py") \
            else "made by the program"
        if resource.type in SECRETS:
            replicas = resource.inputs.get("replicas" if resource.type == SECRETS[0] else "replicaRegions") or []
            secrets.append((f"secret {resource.name} ({where}, not in the declaration)", 1 + len(replicas)))
        elif resource.type in COSTLY_KEYS:
            keys.append(f"KMS key {resource.name} ({where}, not in the declaration)")
    return {"program_secrets": secrets, "program_keys": keys}


def _once_per_line(located: list[tuple[AnalyzerViolation, LocatedViolation]], loaded: LoadedDeclaration
                   ) -> list[list[tuple[AnalyzerViolation, LocatedViolation]]]:
    """The violations a `defaults:` line causes in every secret inheriting it, as one group (fields.once_per_line)."""
    keys = [((found.policy, found.level, *_file_line_and_column(place.position, loaded)), place.context)
            for found, place in located]
    return [[located[index] for index in group] for group in once_per_line(keys)]


def _violation(group: list[tuple[AnalyzerViolation, LocatedViolation]], loaded: LoadedDeclaration) -> Violation:
    found, place = group[0]
    message = place.message
    if len(group) > 1 and place.context is not None:
        message = author_message(place.context, [inheriting_secret(other.context) for _, other in group
                                                 if other.context is not None])
    inheriting = sorted({name for _, other in group if other.context is not None
                         for name in [inheriting_secret(other.context)] if name})
    if len(inheriting) > 1:
        # In the declaration's order; indexed only then (once per violation, it costs seconds at 1,000 secrets).
        order = {secret.name: index for index, secret in enumerate(loaded.declaration.secrets)}
        inheriting.sort(key=order.__getitem__)
    return Violation(found.policy, found.level, found.urn, message, *_file_line_and_column(place.position, loaded),
                     inherited_by=tuple(inheriting))


def _access_maps(head: list[RegisteredResource], account: str, base: list[RegisteredResource], base_account: str,
                 cached_before: AccessMap | None) -> tuple[AccessMap, AccessMap]:
    """Who can read each secret at the base and at the head. Each secret is evaluated once when its
    inputs are the same on both sides: with the base's map from the cache, the head evaluates only the
    secrets the change touches; without it, the base takes the head's answers for its unchanged secrets."""
    if cached_before is not None:
        return cached_before, who_can_read(head, account, known=cached_before)
    after = who_can_read(head, account)
    return who_can_read(base, base_account, known=after), after


def _review_access(before: AccessMap, after: AccessMap, head: list[RegisteredResource],
                   changes: list[PlannedChange]) -> AccessReview:
    """The access review of the two maps, with the changed policies' weakened denies."""
    secrets_kept = {resource.id for resource in head if resource.type in SECRETS}
    adopted = {change.inputs.get("name") for change in changes if change.type in SECRETS and change.change == "import"}
    return review_access(before, after, [(change.type, change.name, change.policy_diffs) for change in changes
                                         if change.policy_diffs and not _gone_with_what_it_governs(change, secrets_kept)],
                         adopted=adopted)


def _gone_with_what_it_governs(change: PlannedChange, secrets_kept: set[str | None]) -> bool:
    """A deleted policy whose secret (or key) is deleted too lets nothing through: its denies are not
    weakened. A secret policy deleted from a secret that stays is (DeleteResourcePolicy)."""
    if change.change != "delete":
        return False
    governed = change.inputs.get("secretArn") or change.inputs.get("secretId")
    return change.type not in SECRET_POLICIES or governed not in secrets_kept


def _stored_unchanged(stored: PreviewCache, before: str | None, after: str, file: str | os.PathLike[str]) -> bool:
    """Whether the head's files (declaration, program, package) are what they were when its
    simulations started: an edit meanwhile may be in the simulations' input, and storing them under
    either key would answer a later preview of the other content wrongly."""
    if before == after:
        return True
    stored.warnings.append(f"preview cache: {file} changed while it was previewed; nothing stored "
                           "(the next preview simulates it again)")
    return False


def _store(stored: PreviewCache, store: Callable[[str, Any], None], key: str | None, entry: Any) -> None:
    """Store one entry of the cache (the head's deployment and verdicts, a base simulated for want of
    an entry); one that cannot be written is a warning in `stored.warnings`, like one that cannot be read."""
    assert key is not None
    try:
        store(key, entry)
    except OSError as error:
        warning = (f"preview cache: {stored.folder} could not be written "
                   f"({error.strerror or type(error).__name__}); the next preview simulates again")
        if warning not in stored.warnings:
            stored.warnings.append(warning)


def _shown(path: Path) -> str:
    """A path as a reader wants it: relative to the working directory when it lies below it."""
    try:
        return path.resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


def _preview_deletion(file: Path, base: str, today: date | None, report_progress: Progress,
                      program: str | os.PathLike[str] | None) -> PreviewReport:
    """A declaration that exists at `base` only (a pull request deletes it): the head is an empty
    stack, so every resource of the base is deleted, and the engine refuses the protected ones
    (changes.plan_changes marks them blocked). There is nothing for the pack to check: no resource
    is registered, so no policy runs (policy_config names no file)."""
    report_progress(f"simulating the deployment of {shown(file)} at {printable(base)}")
    program_file = Path(program) if program is not None else find_program(file)
    _check_base(file, base)
    with _program_failures_told(program_file), contextlib.ExitStack() as scope:
        base_loaded, base_cost, warnings = _base_declaration(file, base, scope)
        if base_loaded is None:
            raise PreviewUsageError(f"{shown(file)}: no such file, and {printable(warnings[-1])}")
        base_resources = comparable_resources(
            registrations(None, base_loaded, "up", program_file).result().resources)
        environment = base_loaded.declaration.environment
    changes = plan_changes([], base_resources, today or date.today())
    return PreviewReport(
        environment=environment, file=os.fspath(file), policy_config="(none: the environment is deleted)",
        resources=[PlannedResource(change, os.fspath(file), None) for change in changes], violations=[],
        cost=CostEstimate(()), base=base, base_cost=base_cost,
        warnings=[f"{_shown(file)} does not exist in the working tree: every resource it had at {base} is deleted"],
        access=_review_access(*_access_maps([], base_loaded.declaration.security_account, base_resources,
                                            base_loaded.declaration.security_account, None), [], changes),
    )


def _locate_in_repository(file: Path) -> tuple[str, str]:
    """The repository's top folder and the file's path in it; the file (and its folder) may be gone."""
    resolved = file.resolve()
    existing = next(folder for folder in resolved.parents if folder.is_dir())
    top = _git(existing, "rev-parse", "--show-toplevel").strip()
    return top, resolved.relative_to(Path(top).resolve()).as_posix()


def _check_base(file: Path, revision: str) -> None:
    """The usage errors of `--base`, before anything starts: git missing, no repository, no such revision."""
    top, _ = _locate_in_repository(file)
    if not _git_succeeds(top, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"):
        raise PreviewUsageError(f"--base {printable(revision)}: not a revision of the repository at {shown(top)}")


def _base_declaration(file: Path, revision: str, scope: contextlib.ExitStack
                      ) -> tuple[LoadedDeclaration | None, CostEstimate, list[str]]:
    """The same declaration (file or environment folder) at `revision`, to be deployed with today's code.

    A declaration that did not exist there, or was invalid there, is an empty layout (None): everything
    is new. The copy lives in a folder removed when `scope` closes. `_check_base` comes first.
    """
    top, relative = _locate_in_repository(file)
    found = declaration_at(top, revision, relative, _git, _git_succeeds)
    if found is None:
        return None, CostEstimate(()), [f"{shown(relative)} does not exist at {revision}: every resource is new"]
    folder = scope.enter_context(tempfile.TemporaryDirectory(prefix="secrets-layout-base-"))
    # The program reads its declaration by path, so the old revision is simulated from a copy.
    copy, notes = write_at(top, revision, found, Path(folder), _git)
    try:
        loaded = load_declaration(copy)
    except DeclarationError as error:
        return None, CostEstimate(()), [
            *notes, f"{shown(found[0])} at {revision} is not a valid declaration ({len(error.issues)} problems): "
            "changes are shown against an empty layout"]
    return loaded, estimate(loaded.declaration), notes


def _file_line_and_column(position: Position | None, loaded: LoadedDeclaration) -> tuple[str, int, int]:
    position = position or loaded.source_map.locate_key(("environment",))
    return position.file or loaded.file, position.line, position.column


def _git(directory: str | Path, *arguments: str, text: bool = True) -> Any:
    try:
        return subprocess.run(["git", "-C", str(directory), *arguments], capture_output=True, text=text,
                              errors="replace" if text else None, check=True).stdout
    except FileNotFoundError:
        raise PreviewUsageError("--base needs git, which is not installed") from None
    except subprocess.CalledProcessError as error:
        stderr = error.stderr if isinstance(error.stderr, str) else error.stderr.decode("utf-8", errors="replace")
        raise PreviewUsageError(f"--base: git {printable(' '.join(arguments))} failed: {printable(stderr.strip())}") from None


def _git_succeeds(directory: str | Path, *arguments: str) -> bool:
    return subprocess.run(["git", "-C", str(directory), *arguments], capture_output=True, check=False).returncode == 0
