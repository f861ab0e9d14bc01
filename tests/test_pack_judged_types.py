"""The pack says which resource types its resource policies judge, and the preview asks it about no other.

For a resource no resource policy judges, pulumi_policy's Analyze answer is empty: each resource policy of
the pack returns at once for a type it does not declare (tests/test_pack_host.py holds every one to that),
and Analyze asks no stack policy (pulumi_policy 1.21.0, `policy.py`, ``Analyze``). The pack host reads the
policies from `PolicyPack`'s own argument and writes their types before the pack serves
(`pack_host.judged_types_told`); the analyzer client then leaves those calls out. The answers must not
change: compared here for every example environment, as a deployment and as a dry run, with and without.
"""

from __future__ import annotations

import dataclasses
import json
import textwrap

import pytest
from pulumi_policy import policy as pulumi_policy

from policy_support import ROOT, config_file
from secrets_layout.declaration.loader import load_declaration
from secrets_layout.engine import pack_host
from secrets_layout.engine.analyzer_client import AnalyzerClient
from secrets_layout.engine.policy_check import analyzer_resources
from secrets_layout.engine.programs import evaluate_declaration
from secrets_layout.engine.verdict_memo import VerdictMemo
from secrets_layout.policies.catalog import POLICIES

EXAMPLES = sorted(path.stem for path in (ROOT / "environments").glob("*.yaml"))
CATALOG_TYPES = sorted({resource_type for policy in POLICIES if not policy.stack for resource_type in policy.resource_types})


def _policy(kind, name, types=None, validate=lambda args, report_violation: None):
    built = kind(name=name, description="d", validate=validate)
    if types is not None:
        built.resource_types = frozenset(types)
    return built


def _remediation_only(name, types):
    built = pulumi_policy.ResourceValidationPolicy(name=name, description="d", remediate=lambda args: None)
    built.resource_types = frozenset(types)
    return built


RESOURCE, STACK = pulumi_policy.ResourceValidationPolicy, pulumi_policy.StackValidationPolicy
CASES = {
    "typed resource policies: their types": ([_policy(RESOURCE, "a", ["t:b"]), _policy(RESOURCE, "b", ["t:a", "t:b"])],
                                             ["t:a", "t:b"]),
    "stack policies are not asked by Analyze": ([_policy(RESOURCE, "a", ["t:a"]), _policy(STACK, "s")], ["t:a"]),
    "one without types: any type": ([_policy(RESOURCE, "a", ["t:a"]), _policy(RESOURCE, "b")], None),
    "one without a validation: any type": ([_policy(RESOURCE, "a", ["t:a"]), _remediation_only("r", ["t:r"])], None),
    "no resource policy: none": ([_policy(STACK, "s", ["t:s"])], []),
}


@pytest.mark.parametrize(("policies", "expected"), CASES.values(), ids=CASES.keys())
def test_the_types_the_pack_judges(policies, expected):
    assert pack_host.judged_types(policies, RESOURCE) == expected


def test_the_host_writes_them_before_the_pack_serves_and_puts_the_constructor_back(tmp_path, monkeypatch):
    built = []
    # The real constructor serves forever: stand in for it, as the wrapped one calls it after writing.
    monkeypatch.setattr(pulumi_policy.PolicyPack, "__init__",
                        lambda self, name, policies, *args, **kwargs: built.append((name, len(policies), kwargs)))
    constructor = pulumi_policy.PolicyPack.__init__
    told = tmp_path / "judged.json"
    with pack_host.judged_types_told(str(told)) as telling:
        assert telling
        pulumi_policy.PolicyPack("pack", [_policy(RESOURCE, "a", ["t:a"])], description="x")
    assert json.loads(told.read_text()) == {"judged": ["t:a"]}
    assert built == [("pack", 1, {"description": "x"})]
    assert pulumi_policy.PolicyPack.__init__ is constructor
    assert list(tmp_path.iterdir()) == [told]  # no temporary left beside it


def test_without_a_path_nothing_is_changed():
    constructor = pulumi_policy.PolicyPack.__init__
    with pack_host.judged_types_told(None) as telling:
        assert not telling
        assert pulumi_policy.PolicyPack.__init__ is constructor


def test_the_client_knows_the_packs_types_through_the_host_and_none_without_it():
    with AnalyzerClient() as hosted:
        assert hosted.judged_types == frozenset(CATALOG_TYPES)
    with AnalyzerClient(launcher="pulumi") as as_the_cli_runs_it:
        assert as_the_cli_runs_it.judged_types is None


def test_a_pack_with_a_policy_of_any_type_is_asked_about_every_resource(tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (pack / "__main__.py").write_text(textwrap.dedent("""\
        from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

        def seen(args, report_violation):
            report_violation("seen " + args.resource_type, None)

        PolicyPack(name="any-type", enforcement_level=EnforcementLevel.ADVISORY,
                   policies=[ResourceValidationPolicy(name="every-resource", description="d", validate=seen)])
        """))
    inputs, _ = analyzer_resources(evaluate_declaration(load_declaration(ROOT / "environments" / "dev.yaml"), "up"))
    memo = VerdictMemo()
    with AnalyzerClient(pack) as client:
        assert client.judged_types is None
        result = client.analyze_many(inputs, memo)
    assert memo.sent == len(inputs)
    assert len(result.violations) == len(inputs)


@pytest.fixture(scope="module")
def hosted_pack():
    with AnalyzerClient() as client:
        yield client


def _unprotected(run):
    """Every resource unprotected: violations of secret-protected, so that leaving out a judged resource shows."""
    return dataclasses.replace(run, resources=[dataclasses.replace(resource, protect=False) for resource in run.resources])


@pytest.mark.parametrize("mode", ["up", "preview"])
@pytest.mark.parametrize(("example", "changed"), [(example, None) for example in EXAMPLES] + [("prod", _unprotected)],
                         ids=[*EXAMPLES, "prod-unprotected"])
def test_every_example_gets_the_answers_of_asking_about_every_resource(hosted_pack, example, changed, mode):
    configured = ROOT / "policies" / "config" / f"{example}.json"
    hosted_pack.configure(config_file=configured if configured.exists() else config_file("prod"))
    run = evaluate_declaration(load_declaration(ROOT / "environments" / f"{example}.yaml"), mode)
    inputs, _ = analyzer_resources(changed(run) if changed else run)
    judged = hosted_pack.judged_types
    left_out = [resource for resource in inputs if resource.type not in judged]
    try:
        asked, everything = VerdictMemo(), VerdictMemo()
        skipping = hosted_pack.analyze_many(inputs, asked)
        hosted_pack.judged_types = None
        asking_all = hosted_pack.analyze_many(inputs, everything)
    finally:
        hosted_pack.judged_types = judged
    assert skipping == asking_all
    assert asked.sent + asked.reused == len(inputs) - len(left_out) and left_out
    assert all(not answer.diagnostics and not answer.not_applicable for key, answer in everything.used.items()
               if key not in asked.used)
    if changed:
        assert {violation.policy for violation in asking_all.violations} >= {"secret-protected"}


@pytest.mark.parametrize(("version", "telling"), [
    pytest.param("1.21.0", True, id="tested-minor"),
    pytest.param("1.22.0", False, id="next-minor"),
    pytest.param(None, False, id="not-installed-as-a-distribution"),
])
def test_the_types_are_told_only_on_the_pulumi_policy_minor_that_was_tested(version, telling, tmp_path, monkeypatch):
    monkeypatch.setattr(pack_host, "installed_pulumi_policy", lambda: version)
    constructor = pulumi_policy.PolicyPack.__init__
    with pack_host.judged_types_told(str(tmp_path / "judged.json")) as told:
        assert told is telling
        assert (pulumi_policy.PolicyPack.__init__ is constructor) is not telling


def test_without_a_temporary_folder_the_pack_is_asked_about_every_resource(monkeypatch):
    """A read-only or full temporary folder is no failure: the types are just not told."""
    import tempfile

    def no_folder(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(tempfile, "TemporaryDirectory", no_folder)
    with AnalyzerClient() as client:
        assert client.judged_types is None
        assert client.info().policies


def test_a_file_that_cannot_be_written_leaves_the_pack_serving_untold(tmp_path, monkeypatch):
    built = []
    monkeypatch.setattr(pulumi_policy.PolicyPack, "__init__", lambda self, name, policies, *a, **k: built.append(name))
    with pack_host.judged_types_told(str(tmp_path / "missing-folder" / "judged.json")) as telling:
        assert telling
        pulumi_policy.PolicyPack("pack", [_policy(RESOURCE, "a", ["t:a"])])
    assert built == ["pack"] and not (tmp_path / "missing-folder").exists()
