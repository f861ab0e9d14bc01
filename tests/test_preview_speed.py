"""The preview's speed-ups change no result: the preview as it ran before them (every simulation
one after the other in this process, the SDK capturing a stack trace per registration) and the
optimised preview (simulations side by side in worker processes, the pack checking the dry run
while the deployment runs, no stack traces) give the same JSON report, with and without --base."""

from __future__ import annotations

import gc
import json
from datetime import date
from pathlib import Path

import pytest

from preview_support import DEV, git, repository_with
from secrets_layout.engine.workers import InProcess
from secrets_layout.preview import SimulationRunner, run_preview
from secrets_layout.reports import preview_json

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
DEV_CONFIG = ROOT / "policies" / "config" / "dev.json"
TODAY = date(2026, 11, 30)

# A rename (a delete and a create), an update, and a rotation the dev config refuses (a violation).
CHANGED = (DEV.replace("description: Stripe test-mode key", "description: Stripe test-mode key of dev")
              .replace("  - name: dev/tools/feature-flag-sdk-key", "  - name: dev/tools/flag-sdk-key")
              .replace("rotation: {every_days: 7}", "rotation: {every_days: 400}"))


def json_report(file: Path, *, base: str | None, optimised: bool) -> dict:
    report = run_preview(file, policy_config=DEV_CONFIG, base=base, today=TODAY,
                         parallel=optimised, stack_traces=not optimised)
    return json.loads(preview_json.render(report))


@pytest.mark.parametrize("base", [None, "HEAD~1"], ids=["full", "against-a-base"])
def test_the_optimised_preview_gives_the_report_of_the_full_one(tmp_path, monkeypatch, base):
    """The optimised preview also shares the pack's calls between two processes (a declaration this
    small gets one otherwise: `engine.packs.pack_count`)."""
    repository, file = repository_with(tmp_path, "dev", DEV)
    file.write_text(CHANGED)
    git(repository, "commit", "--quiet", "-am", "second")
    full = json_report(file, base=base, optimised=False)
    monkeypatch.setattr("secrets_layout.preview.pack_count", lambda cpus=None, secrets=None: 2)
    thresholds = gc.get_threshold()
    optimised = json_report(file, base=base, optimised=True)
    assert gc.get_threshold() == thresholds, "the preview restores the collector's thresholds"
    assert optimised == full
    assert full["violations"], "the change must carry a violation for the comparison to cover them"
    if base is not None:
        assert {resource["change"] for resource in full["resources"]} >= {"same", "update", "create", "delete"}


def test_a_base_missing_at_the_revision_gives_the_same_report_either_way(tmp_path):
    repository, _ = repository_with(tmp_path, "dev", DEV)
    other = repository / "copies" / "dev.yaml"
    other.parent.mkdir()
    other.write_text(DEV)
    git(repository, "add", ".")
    git(repository, "commit", "--quiet", "-m", "staging")
    full = json_report(other, base="HEAD~1", optimised=False)
    assert json_report(other, base="HEAD~1", optimised=True) == full
    assert {resource["change"] for resource in full["resources"]} == {"create"}


@pytest.mark.parametrize(("parallel", "cpus", "workers"), [(True, 2, 2), (True, 8, 3), (True, 1, 1), (False, 2, 1)])
def test_simulations_run_side_by_side_on_the_cores_there_are(monkeypatch, parallel, cpus, workers):
    """One worker process per simulation, at most one per core and at most the three a preview runs;
    one core (or parallel=False): no worker process, the simulations run in this process."""
    monkeypatch.setattr("os.cpu_count", lambda: cpus)
    with SimulationRunner(parallel=parallel) as runner:
        assert runner.workers == workers
        assert isinstance(runner.submit({"program": "never-run.py"}), InProcess) == (workers == 1)
