"""The two simulation modes and how the pull-request preview combines them.

"up" is a deployment: every output known.  "preview" is what `pulumi preview` of a stack that does
not exist yet knows: the program runs with dry_run set, a resource being created has no ID, and what
its provider computes on create is the engine's unknown sentinel, while inputs (and outputs equal to
them) stay known; a resource adopted with import_id is read, so it stays known.  Sources: see
secrets_layout/engine/fake_cloud.py (preview_outputs) and tests/engine_payloads.py.
"""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import Future

import pytest

from policy_support import ROOT, config_file
from secrets_layout.declaration.loader import load_declaration
from secrets_layout.engine.packs import PolicyPacks
from secrets_layout.engine.fake_cloud import preview_outputs
from secrets_layout.engine.recorded_values import UNKNOWN, SecretValue
from secrets_layout.engine.programs import evaluate_declaration
from secrets_layout.engine.policy_check import check_policies, is_cannot_check
from test_simulation import run_small

SECRET = "aws:secretsmanager/secret:Secret"
SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"


@pytest.mark.parametrize("inputs, computed, planned, expected", [
    pytest.param({"name": "a"}, {"arn": "arn:x", "name": "a"}, {}, {"name": "a", "arn": UNKNOWN}, id="computed-unknown"),
    pytest.param({"name": "a"}, {"name": "b"}, {}, {"name": "a"}, id="an-input-wins"),
    pytest.param({"replicas": [{"region": "us-west-2"}]}, {"replicas": [{"region": "us-west-2", "status": "InSync"}]}, {},
                 {"replicas": [{"region": "us-west-2", "status": UNKNOWN}]}, id="nested-computed-fields-unknown"),
    pytest.param({"replicas": []}, {"replicas": [{"region": "x"}]}, {}, {"replicas": []}, id="an-empty-input-wins"),
    pytest.param({"enableKeyRotation": True}, {}, {}, {"enableKeyRotation": True}, id="nothing-computed"),
    pytest.param({}, {"region": "", "arn": ""}, {"region": "us-west-2"}, {"region": "us-west-2", "arn": UNKNOWN},
                 id="planned-known"),
    pytest.param({"region": "eu-west-1"}, {"region": ""}, {"region": "us-west-2"}, {"region": "eu-west-1"},
                 id="an-input-wins-over-planned"),
])
def test_preview_outputs_are_inputs_and_unknown_computed_values(inputs, computed, planned, expected):
    assert preview_outputs(inputs, computed, planned) == expected


def test_preview_mode_makes_computed_outputs_of_creates_unknown():
    run = run_small(mode="preview")
    assert run.mode == "preview"
    key = run.get("key")
    assert key.id is None
    # Every output the SDK says the provider computes is unknown, but the region it plans (the provider's).
    assert key.outputs == {"enableKeyRotation": True, "keyId": UNKNOWN, "arn": UNKNOWN, "description": UNKNOWN,
                           "multiRegion": UNKNOWN, "policy": UNKNOWN, "rotationPeriodInDays": UNKNOWN,
                           "region": "us-west-2", "tagsAll": {}}
    # An input built from an unknown output is unknown, as the SDK sends it.
    assert run.get("secret").inputs["kmsKeyId"] == UNKNOWN
    # The adopted secret is read during a preview: its identity is known.
    assert run.get("secret").id == "arn:aws:secretsmanager:us-west-2:111111111111:secret:prod/app/token-AbCdEf"
    assert run.outputs["secret_arn"] == run.get("secret").id
    # A provider being created has no ID during a preview either (the engine's UnknownID).
    assert run.get("west").id is None
    assert run.get("password").outputs["result"] == SecretValue(UNKNOWN)


def test_up_mode_knows_every_output():
    run = run_small()
    assert run.mode == "up"
    key = run.get("key")
    assert key.id and UNKNOWN not in (key.outputs["arn"], key.outputs["keyId"])
    assert run.get("secret").inputs["kmsKeyId"] == key.outputs["arn"]


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="mode must be one of up, preview, not 'plan'"):
        run_small(mode="plan")


@pytest.fixture(scope="module")
def prod_runs():
    loaded = load_declaration(ROOT / "environments" / "prod.yaml")
    return evaluate_declaration(loaded, mode="preview"), evaluate_declaration(loaded)


@pytest.mark.slow
def test_the_union_keeps_a_verdict_only_the_dry_run_gives(prod_runs):
    """A policy that misjudged an unknown would give a mandatory violation in the dry run only: the
    preview reports it (here the dry run's secret stands in for such a misjudgement)."""
    dry_run, full = prod_runs
    broken = [dataclasses.replace(r, inputs={**r.inputs, "recoveryWindowInDays": 0}) if r.type == SECRET else r
              for r in dry_run.resources]
    found = check_policies((dataclasses.replace(dry_run, resources=broken), full), config_file("prod")).violations
    secrets = [r.urn for r in dry_run.resources if r.type == SECRET]
    assert sorted((v.policy, v.level, v.urn) for v in found) == sorted(
        ("secret-recovery-window", "mandatory", urn) for urn in secrets)


@pytest.mark.slow
def test_each_violation_is_reported_once(prod_runs):
    dry_run, full = prod_runs
    unprotect = lambda run: dataclasses.replace(  # noqa: E731
        run, resources=[dataclasses.replace(r, protect=False) if r.type == SECRET else r for r in run.resources])
    found = check_policies((unprotect(dry_run), unprotect(full)), config_file("prod")).violations
    secrets = [r.urn for r in full.resources if r.type == SECRET]
    assert sorted(v.urn for v in found if v.policy == "secret-protected") == sorted(secrets)
    assert len(found) == len(secrets)


@pytest.mark.slow
def test_the_dry_run_of_the_example_decides_every_policy(prod_runs):
    """Unknown key ARNs of keys the layout creates are decided (customer managed): a real `pulumi
    preview` of prod gives no "cannot check" advisory either."""
    dry_run, _ = prod_runs
    assert check_policies((dry_run,), config_file("prod")).violations == []


@pytest.mark.slow
def test_dry_run_cannot_check_advisories_are_left_to_the_full_run(prod_runs):
    """A value a policy cannot decide in the dry run (here a secret policy whose document is still
    unknown, as when it is built from another resource's output) is decided by the full run."""
    dry_run, full = prod_runs
    unknown_policies = dataclasses.replace(dry_run, resources=[
        dataclasses.replace(r, inputs={**r.inputs, "policy": UNKNOWN}) if r.type == SECRET_POLICY else r
        for r in dry_run.resources])
    alone = check_policies((unknown_policies,), config_file("prod")).violations
    assert alone and all(is_cannot_check(v) for v in alone)
    assert check_policies((unknown_policies, full), config_file("prod")).violations == []




def _finished(simulation) -> Future:
    job = Future()
    job.set_result(simulation)
    return job


@pytest.mark.slow
def test_a_runs_analyze_stack_is_sent_as_soon_as_its_simulation_exists(prod_runs, monkeypatch):
    """AnalyzeStack is the pack's longest call: the deployment's goes out when the deployment is done,
    while the dry run's Analyze calls go on, not after them. The violations, and their order, are the
    ones of the finished simulations checked one after the other."""
    dry_run, full = (dataclasses.replace(run, resources=[dataclasses.replace(r, protect=False) if r.type == SECRET
                                                         else r for r in run.resources]) for run in prod_runs)
    deployment: Future = Future()
    events: list[str] = []
    deployment_stack_sent = threading.Event()
    original_stack, original_many = PolicyPacks.analyze_stack, PolicyPacks.analyze_many

    def analyze_stack(self, states, on=0):
        events.append(f"stack {('dry run', 'deployment')[on]}")
        answer = original_stack(self, states, on=on)
        if on == 1:
            deployment_stack_sent.set()
        return answer

    def analyze_many(self, inputs, memo=None):
        run = ("dry run", "deployment")[sum(event.startswith("analyze") for event in events) // 2]
        events.append(f"analyze {run}")
        if run == "dry run":  # the deployment finishes while the dry run is being checked
            deployment.set_result(full)
            deployment_stack_sent.wait(timeout=20)
        answer = original_many(self, inputs, memo)
        events.append(f"analyzed {run}")
        return answer

    monkeypatch.setattr(PolicyPacks, "analyze_stack", analyze_stack)
    monkeypatch.setattr(PolicyPacks, "analyze_many", analyze_many)
    found = check_policies((_finished(dry_run), deployment), config_file("prod"), with_full_run=True).violations
    assert events == ["stack dry run", "analyze dry run", "stack deployment", "analyzed dry run",
                      "analyze deployment", "analyzed deployment"]
    monkeypatch.undo()
    assert found == check_policies((dry_run, full), config_file("prod")).violations
    assert {violation.policy for violation in found} == {"secret-protected"}
