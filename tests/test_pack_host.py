"""The pack host (secrets_layout/engine/pack_host.py) runs the pack as `python -u PACK/__main__.py` does,
pulumi_policy converts each message of a request once per call instead of once per policy, and a policy
that declares the resource types it judges is given only those.

pulumi_policy 1.21.0 (`pulumi_policy/policy.py`, `_PolicyAnalyzerServicer.Analyze` line 997,
`AnalyzeStack` line 1049, `_get_provider_resource` line 1410) calls `json_format.MessageToDict` on the
request's properties and its provider's for every policy. The answers must not change: compared here
byte for byte, in process and against the pack started exactly as the Pulumi CLI starts it
(`launcher="pulumi"`: `python -u -m pulumi.policy ENGINE PACK`, no host), over requests shaped as the
engine sends them (the prod example, with violations, as a deployment and as a dry run with unknowns).
"""

from __future__ import annotations

import contextlib
import dataclasses
from concurrent.futures import ThreadPoolExecutor

import pytest
from google.protobuf import json_format
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import policy as pulumi_policy

from policy_support import ROOT, config_file
from secrets_layout.declaration.loader import load_declaration
from secrets_layout.engine import pack_host
from secrets_layout.engine.analyzer_client import AnalyzerClient
from secrets_layout.engine.analyzer_messages import UNKNOWN
from secrets_layout.policies.catalog import POLICIES
from secrets_layout.policies.pack import build_policies
from secrets_layout.engine.programs import evaluate_declaration
from secrets_layout.engine.policy_check import analyzer_resources

SECRET = "aws:secretsmanager/secret:Secret"
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
KEY = "aws:kms/key:Key"


def _broken_prod(mode: str):
    """The prod example with its secrets unprotected, one without a recovery window, no rotation and a key
    pending deletion: violations from Analyze and from two stack policies of AnalyzeStack (and, as a dry run,
    policies that cannot decide yet)."""
    run = evaluate_declaration(load_declaration(ROOT / "environments" / "prod.yaml"), mode)
    secrets = [resource for resource in run.resources if resource.type == SECRET]
    key = next(resource for resource in run.resources if resource.type == KEY)
    changed = {secrets[0].urn: {"recoveryWindowInDays": 0}}

    def broken(resource):
        if resource.type == SECRET:
            return dataclasses.replace(resource, protect=False, inputs={**resource.inputs, **changed.get(resource.urn, {})})
        if resource.urn == key.urn:
            return dataclasses.replace(resource, outputs={**resource.outputs, "keyState": "PendingDeletion"})
        return resource

    return analyzer_resources(dataclasses.replace(run, resources=[
        broken(resource) for resource in run.resources if resource.type != ROTATION]))


@pytest.fixture(scope="module", params=["up", "preview"])
def requests(request):
    """(mode, Analyze requests, one AnalyzeStack request), built by the client that sends them."""
    inputs, states = _broken_prod(request.param)
    builder = AnalyzerClient()
    return (request.param, [builder._analyze_request(resource) for resource in inputs],
            builder._analyze_stack_request(states))


def _servicer():
    return pulumi_policy._PolicyAnalyzerServicer("secrets-layout", "1.0.0", build_policies(),
                                                 pulumi_policy.EnforcementLevel.ADVISORY)


def _answers(servicer, analyze_requests, stack_request) -> list[bytes]:
    answers = [servicer.Analyze(request, None) for request in analyze_requests]
    answers.append(servicer.AnalyzeStack(stack_request, None))
    return [answer.SerializeToString(deterministic=True) for answer in answers]


HOSTED = {
    "converted once": lambda: [pack_host.messages_converted_once()],
    "given their types": lambda: [pack_host.policies_given_their_types()],
    "both, as the host runs": lambda: [pack_host.messages_converted_once(), pack_host.policies_given_their_types()],
}


@pytest.mark.parametrize("patches", HOSTED.values(), ids=HOSTED.keys())
def test_in_process_every_answer_is_the_one_without_the_host(requests, patches):
    mode, analyze_requests, stack_request = requests
    servicer = _servicer()
    alone = _answers(servicer, analyze_requests, stack_request)
    with contextlib.ExitStack() as stack:
        assert all(stack.enter_context(patch) for patch in patches())
        hosted = _answers(servicer, analyze_requests, stack_request)
    assert hosted == alone
    # Not a comparison of empty answers: violations from both calls; a dry run's requests carry unknowns.
    decoded = [analyzer_pb2.AnalyzeResponse.FromString(answer) for answer in alone]
    assert {"secret-rotation-required", "kms-key-not-pending-deletion"} <= {found.policyName for found in decoded[-1].diagnostics}
    assert sum(len(answer.diagnostics) for answer in decoded[:-1]) > 0
    assert any(UNKNOWN in str(request.properties) for request in analyze_requests) == (mode == "preview")


def test_the_pack_through_the_host_answers_as_the_pack_the_cli_starts(requests):
    """Process level: the same requests to the pack run by the host and to the pack run by `python -m
    pulumi.policy`, both configured with the prod policy config, give the same bytes back."""
    _, analyze_requests, stack_request = requests
    answers = {}
    for launcher in ("script", "pulumi"):
        with AnalyzerClient(launcher=launcher) as client:
            client.configure(config_file=config_file("prod"))
            replies = [client._call("Analyze", request) for request in analyze_requests]
            replies.append(client._call("AnalyzeStack", stack_request))
            answers[launcher] = [reply.SerializeToString(deterministic=True) for reply in replies]
    assert answers["script"] == answers["pulumi"]


def _conversions(monkeypatch) -> list[object]:
    """Every message the real MessageToDict converts, wherever it is called from."""
    converted = []
    original = json_format.MessageToDict

    def counting(message, *args, **kwargs):
        converted.append(message)
        return original(message, *args, **kwargs)

    monkeypatch.setattr(json_format, "MessageToDict", counting)
    return converted


def test_each_message_is_converted_once_per_call_instead_of_once_per_policy(requests, monkeypatch):
    _, analyze_requests, stack_request = requests
    request = next(request for request in analyze_requests if request.HasField("provider"))
    servicer = _servicer()
    converted = _conversions(monkeypatch)
    policies = sum(isinstance(policy, pulumi_policy.ResourceValidationPolicy) for policy in build_policies())

    servicer.Analyze(request, None)
    assert len(converted) == 2 * policies  # properties and provider, for every resource policy
    converted.clear()
    with pack_host.messages_converted_once():
        servicer.Analyze(request, None)
        assert len(converted) == 2
        converted.clear()
        servicer.Analyze(request, None)  # a new call converts again: nothing is kept between calls
        assert len(converted) == 2
        converted.clear()
        servicer.AnalyzeStack(stack_request, None)
    with_provider = sum(item.HasField("provider") for item in stack_request.resources)
    assert len(converted) == len(stack_request.resources) + with_provider


def test_a_message_changed_between_two_calls_is_converted_again(requests):
    """The memo lives for one call: the same request object, edited after a call, is answered anew."""
    _, analyze_requests, _ = requests
    secret = next(request for request in analyze_requests
                  if request.type == SECRET and request.properties.fields["recoveryWindowInDays"].number_value)
    fresh = _servicer()
    with pack_host.messages_converted_once():
        servicer = _servicer()
        before = servicer.Analyze(secret, None)
        secret.properties.fields["recoveryWindowInDays"].number_value = 0
        after = servicer.Analyze(secret, None)
    assert after == fresh.Analyze(secret, None)
    assert len(after.diagnostics) == len(before.diagnostics) + 1


@pytest.mark.parametrize("patches", HOSTED.values(), ids=HOSTED.keys())
def test_calls_on_several_threads_each_get_their_own_answer(requests, patches):
    """pulumi_policy serves calls on a thread pool; each thread's call has its own memo and its own policies."""
    _, analyze_requests, _ = requests
    servicer = _servicer()
    alone = [servicer.Analyze(request, None) for request in analyze_requests]
    with contextlib.ExitStack() as stack, ThreadPoolExecutor(max_workers=8) as threads:
        assert all(stack.enter_context(patch) for patch in patches())
        for _ in range(3):
            assert list(threads.map(lambda request: servicer.Analyze(request, None), analyze_requests)) == alone


@pytest.mark.parametrize("patches", HOSTED.values(), ids=HOSTED.keys())
def test_pulumi_policy_is_restored_after_the_block_even_when_it_fails(patches):
    methods = {name: getattr(pulumi_policy._PolicyAnalyzerServicer, name) for name in pack_host.CONVERTING_METHODS}
    with pytest.raises(RuntimeError, match="the pack failed"):
        with contextlib.ExitStack() as stack:
            for patch in patches():
                stack.enter_context(patch)
            assert {name: getattr(pulumi_policy._PolicyAnalyzerServicer, name) for name in methods} != methods
            raise RuntimeError("the pack failed")
    assert pulumi_policy.json_format is json_format
    assert {name: getattr(pulumi_policy._PolicyAnalyzerServicer, name) for name in methods} == methods


MOVED = {
    "no json_format": lambda monkeypatch: monkeypatch.delattr(pulumi_policy, "json_format"),
    "no AnalyzeStack": lambda monkeypatch: monkeypatch.delattr(pulumi_policy._PolicyAnalyzerServicer, "AnalyzeStack"),
    "no servicer": lambda monkeypatch: monkeypatch.delattr(pulumi_policy, "_PolicyAnalyzerServicer"),
    "no ResourceValidationPolicy": lambda monkeypatch: monkeypatch.delattr(pulumi_policy, "ResourceValidationPolicy"),
}


@pytest.mark.parametrize(("moved", "patch"), [
    pytest.param(MOVED[moved], patch, id=f"{moved}-{name}")
    for name, patch, moves in [
        ("converted once", pack_host.messages_converted_once, ["no json_format", "no AnalyzeStack", "no servicer"]),
        ("given their types", pack_host.policies_given_their_types,
         ["no ResourceValidationPolicy", "no AnalyzeStack", "no servicer"]),
    ] for moved in moves])
def test_nothing_is_changed_when_pulumi_policy_internals_moved(moved, patch, monkeypatch):
    moved(monkeypatch)
    before = dict(vars(pulumi_policy))
    servicer = getattr(pulumi_policy, "_PolicyAnalyzerServicer", None)
    methods = dict(vars(servicer)) if servicer else None
    with patch() as patched:
        assert not patched
        assert dict(vars(pulumi_policy)) == before
        assert (dict(vars(servicer)) if servicer else None) == methods


def test_the_memo_is_only_active_inside_a_call():
    """Outside Analyze/AnalyzeStack (Configure converts config messages too) every call converts."""
    converted = pack_host._ConvertedOnce(json_format)
    message = analyzer_pb2.AnalyzeRequest(type="t").properties
    assert converted.MessageToDict(message) is not converted.MessageToDict(message)
    seen = []
    converted.scoped(lambda servicer, request, context: seen.extend(
        [converted.MessageToDict(message), converted.MessageToDict(message),
         converted.MessageToDict(message, preserving_proto_field_name=True)]))(None, None, None)
    assert seen[0] is seen[1] and seen[2] is not seen[0]
    # and nothing is kept after the call (no message held, none answered from an old call)
    assert converted.MessageToDict(message) is not converted.MessageToDict(message)


@pytest.mark.parametrize(("version", "converting"), [
    pytest.param("1.21.0", True, id="tested-minor"),
    pytest.param("1.21.7", True, id="tested-minor-other-patch"),
    pytest.param("1.22.0", False, id="next-minor"),
    pytest.param("1.20.3", False, id="previous-minor"),
    pytest.param(None, False, id="not-installed-as-a-distribution"),
])
def test_pulumi_policy_is_patched_only_on_the_minor_version_it_was_tested_with(version, converting, monkeypatch):
    monkeypatch.setattr(pack_host, "installed_pulumi_policy", lambda: version)
    before = dict(vars(pulumi_policy))
    methods = dict(vars(pulumi_policy._PolicyAnalyzerServicer))
    with pack_host.messages_converted_once() as converted:
        assert converted is converting
        assert (dict(vars(pulumi_policy)) == before) is not converting
    with pack_host.policies_given_their_types() as given:
        assert given is converting
        assert (dict(vars(pulumi_policy._PolicyAnalyzerServicer)) == methods) is not converting


def test_on_an_untested_pulumi_policy_the_answers_are_the_packs_own(requests, monkeypatch):
    """The fallback (the version check failing) leaves pulumi_policy as it is: the same answers."""
    _, analyze_requests, stack_request = requests
    alone = _answers(_servicer(), analyze_requests, stack_request)
    monkeypatch.setattr(pack_host, "installed_pulumi_policy", lambda: "1.22.0")
    with pack_host.messages_converted_once() as converting, pack_host.policies_given_their_types() as given:
        assert not converting and not given
        assert _answers(_servicer(), analyze_requests, stack_request) == alone


# -- A policy given only the resource types it judges ------------------------------------------------

def _every_type() -> set[str]:
    """Every resource type a layout registers or a user's program may: the installed providers' (engine/
    sdk_classes.json), aws-native's the policies name, and the layout's components."""
    from secrets_layout.engine.sdk_classes import load_profiles
    named = {resource_type for policy in POLICIES for resource_type in policy.resource_types}
    return set(load_profiles()) | named | {"secrets-layout:layout:SecretsLayout", "pulumi:providers:aws"}


class _OnlyTheType:
    """Validation arguments that answer their type and fail on anything else a policy might read."""

    def __init__(self, resource_type: str) -> None:
        self.resource_type = resource_type

    def __getattr__(self, name: str):
        raise AssertionError(f"a policy read {name!r} of a resource of a type it does not judge")


def test_each_resource_policy_of_the_pack_returns_at_once_for_a_type_it_does_not_judge():
    """What makes leaving it out sound: for any other type, it reads nothing, reports nothing, and does not
    mark itself not applicable (each would change pulumi_policy's answer)."""
    resource_policies = [policy for policy in build_policies()
                         if isinstance(policy, pulumi_policy.ResourceValidationPolicy)]
    reported = []
    types = _every_type()
    assert len(types) > 25 and len(resource_policies) > 10
    for policy in resource_policies:
        for resource_type in sorted(types - set(policy.resource_types)):
            assert policy.validate(_OnlyTheType(resource_type), lambda *found: reported.append(found)) is None
    assert reported == []


def test_each_policy_of_the_pack_declares_the_types_of_its_definition():
    built = {policy.name: policy for policy in build_policies()}
    assert {name: set(policy.resource_types) for name, policy in built.items()} == \
        {definition.name: set(definition.resource_types) for definition in POLICIES}


def test_a_call_builds_arguments_only_for_the_policies_that_judge_its_type(requests, monkeypatch):
    """Counted by conversions of the request's properties and provider (one pair per policy given it)."""
    _, analyze_requests, _ = requests
    by_type = {request.type: request for request in analyze_requests if request.HasField("provider")}
    servicer = _servicer()
    converted = _conversions(monkeypatch)
    with pack_host.policies_given_their_types():
        for resource_type, request in sorted(by_type.items()):
            converted.clear()
            servicer.Analyze(request, None)
            judging = [policy for policy in POLICIES if not policy.stack and policy.applies_to(resource_type)]
            assert len(converted) == 2 * len(judging), resource_type
    assert {"aws:secretsmanager/secret:Secret", "aws:kms/key:Key"} <= set(by_type)


def test_a_stack_policy_reads_only_its_types_and_one_that_declares_none_reads_every_resource(requests):
    _, _, stack_request = requests
    seen: dict[str, list[str]] = {}

    def counting(name):
        def validate(args, report_violation):
            seen[name] = sorted({resource.resource_type for resource in args.resources})
        return validate

    typed = pulumi_policy.StackValidationPolicy(name="typed", description="d", validate=counting("typed"))
    typed.resource_types = frozenset({"aws:kms/key:Key"})
    untyped = pulumi_policy.StackValidationPolicy(name="untyped", description="d", validate=counting("untyped"))
    servicer = pulumi_policy._PolicyAnalyzerServicer("pack", "1.0.0", [typed, untyped],
                                                     pulumi_policy.EnforcementLevel.ADVISORY)
    with pack_host.policies_given_their_types():
        servicer.AnalyzeStack(stack_request, None)
    assert seen["typed"] == ["aws:kms/key:Key"]
    assert seen["untyped"] == sorted({resource.type for resource in stack_request.resources})


def test_a_resource_policy_that_declares_no_types_judges_every_resource(requests):
    """A policy a team adds without `resource_types` (a pulumi_policy policy of its own) keeps pulumi_policy's
    behaviour: it is given every resource, so it reports on every one it would."""
    _, analyze_requests, _ = requests
    everyone = pulumi_policy.ResourceValidationPolicy(
        name="everyone", description="d", validate=lambda args, report_violation: report_violation("seen", None))
    policies = [*build_policies(), everyone]
    servicer = pulumi_policy._PolicyAnalyzerServicer("pack", "1.0.0", policies, pulumi_policy.EnforcementLevel.ADVISORY)
    with pack_host.policies_given_their_types():
        answers = [servicer.Analyze(request, None) for request in analyze_requests]
    assert all(any(diagnostic.policyName == "everyone" for diagnostic in answer.diagnostics) for answer in answers)


def test_a_servicer_without_its_policies_where_they_were_is_called_as_it_is(requests, monkeypatch):
    """Internals moved under the same minor version: the servicer keeps its policies elsewhere. The patch
    then calls pulumi_policy's own methods, whatever they do."""
    _, analyze_requests, stack_request = requests
    servicer = _servicer()
    moved = vars(servicer).pop(pack_host._POLICIES)
    calls = []
    monkeypatch.setattr(pulumi_policy._PolicyAnalyzerServicer, "Analyze",
                        lambda self, request, context: calls.append(request.type) or analyzer_pb2.AnalyzeResponse())
    monkeypatch.setattr(pulumi_policy._PolicyAnalyzerServicer, "AnalyzeStack",
                        lambda self, request, context: calls.append("stack") or analyzer_pb2.AnalyzeResponse())
    with pack_host.policies_given_their_types() as given:
        assert given
        _answers(servicer, analyze_requests[:3], stack_request)
    assert calls == [request.type for request in analyze_requests[:3]] + ["stack"]
    setattr(servicer, pack_host._POLICIES, moved)
