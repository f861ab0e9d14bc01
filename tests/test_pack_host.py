"""The pack host (secrets_layout/engine/pack_host.py) runs the pack as `python -u PACK/__main__.py` does,
and pulumi_policy converts each message of a request once per call instead of once per policy.

pulumi_policy 1.21.0 (`pulumi_policy/policy.py`, `_PolicyAnalyzerServicer.Analyze` line 997,
`AnalyzeStack` line 1049, `_get_provider_resource` line 1410) calls `json_format.MessageToDict` on the
request's properties and its provider's for every policy. The answers must not change: compared here
byte for byte, in process and against the pack started exactly as the Pulumi CLI starts it
(`launcher="pulumi"`: `python -u -m pulumi.policy ENGINE PACK`, no host), over requests shaped as the
engine sends them (the prod example, with violations, as a deployment and as a dry run with unknowns).
"""

from __future__ import annotations

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
from secrets_layout.policies.pack import build_policies
from secrets_layout.engine.programs import evaluate_declaration
from secrets_layout.engine.policy_check import analyzer_resources

SECRET = "aws:secretsmanager/secret:Secret"
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"


def _broken_prod(mode: str):
    """The prod example with its secrets unprotected, one without a recovery window and no rotation:
    violations from Analyze and AnalyzeStack (and, as a dry run, policies that cannot decide yet)."""
    run = evaluate_declaration(load_declaration(ROOT / "environments" / "prod.yaml"), mode)
    secrets = [resource for resource in run.resources if resource.type == SECRET]
    changed = {secrets[0].urn: {"recoveryWindowInDays": 0}}
    broken = dataclasses.replace(run, resources=[
        dataclasses.replace(resource, protect=False, inputs={**resource.inputs, **changed.get(resource.urn, {})})
        if resource.type == SECRET else resource for resource in run.resources if resource.type != ROTATION])
    return analyzer_resources(broken)


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


def test_in_process_every_answer_is_the_one_without_the_host(requests):
    mode, analyze_requests, stack_request = requests
    servicer = _servicer()
    alone = _answers(servicer, analyze_requests, stack_request)
    with pack_host.messages_converted_once() as converting:
        hosted = _answers(servicer, analyze_requests, stack_request)
    assert converting
    assert hosted == alone
    # Not a comparison of empty answers: violations from both calls; a dry run's requests carry unknowns.
    decoded = [analyzer_pb2.AnalyzeResponse.FromString(answer) for answer in alone]
    assert decoded[-1].diagnostics and sum(len(answer.diagnostics) for answer in decoded[:-1]) > 0
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


def test_calls_on_several_threads_each_get_their_own_answer(requests):
    """pulumi_policy serves calls on a thread pool; each thread's call has its own memo."""
    _, analyze_requests, _ = requests
    servicer = _servicer()
    alone = [servicer.Analyze(request, None) for request in analyze_requests]
    with pack_host.messages_converted_once(), ThreadPoolExecutor(max_workers=8) as threads:
        for _ in range(3):
            assert list(threads.map(lambda request: servicer.Analyze(request, None), analyze_requests)) == alone


def test_pulumi_policy_is_restored_after_the_block_even_when_it_fails():
    methods = {name: getattr(pulumi_policy._PolicyAnalyzerServicer, name) for name in pack_host.CONVERTING_METHODS}
    with pytest.raises(RuntimeError, match="the pack failed"):
        with pack_host.messages_converted_once():
            assert pulumi_policy.json_format is not json_format
            raise RuntimeError("the pack failed")
    assert pulumi_policy.json_format is json_format
    assert {name: getattr(pulumi_policy._PolicyAnalyzerServicer, name) for name in methods} == methods


@pytest.mark.parametrize("moved", [
    lambda monkeypatch: monkeypatch.delattr(pulumi_policy, "json_format"),
    lambda monkeypatch: monkeypatch.delattr(pulumi_policy._PolicyAnalyzerServicer, "AnalyzeStack"),
    lambda monkeypatch: monkeypatch.delattr(pulumi_policy, "_PolicyAnalyzerServicer"),
], ids=["no json_format", "no AnalyzeStack", "no servicer"])
def test_nothing_is_changed_when_pulumi_policy_internals_moved(moved, monkeypatch):
    moved(monkeypatch)
    before = dict(vars(pulumi_policy))
    with pack_host.messages_converted_once() as converting:
        assert not converting
        assert dict(vars(pulumi_policy)) == before


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
    with pack_host.messages_converted_once() as converted:
        assert converted is converting
        assert (dict(vars(pulumi_policy)) == before) is not converting


def test_on_an_untested_pulumi_policy_the_answers_are_the_packs_own(requests, monkeypatch):
    """The fallback (the version check failing) leaves pulumi_policy as it is: the same answers."""
    _, analyze_requests, stack_request = requests
    alone = _answers(_servicer(), analyze_requests, stack_request)
    monkeypatch.setattr(pack_host, "installed_pulumi_policy", lambda: "1.22.0")
    with pack_host.messages_converted_once() as converting:
        assert not converting
        assert _answers(_servicer(), analyze_requests, stack_request) == alone
