"""Runs a policy pack for the offline preview: ``python -u pack_host.py PACK/__main__.py``.

The analyzer client (`analyzer_client.AnalyzerClient`, ``launcher="script"``) starts every pack through
this file, by path, with whatever Python the pack runs on: so it imports nothing of secrets_layout (a
pack's environment need not have it), only the standard library and the pack's own pulumi_policy.
It runs the pack's ``__main__.py`` as ``python -u PACK/__main__.py`` would (the script as ``argv[0]``, its
folder first on ``sys.path``), with two things added for a preview:

- the pack ends when its standard input ends (`stop_with_stdin`): the pack is a gRPC server with no
  idea of its parent, and a preview stopped by a signal that skips cleanup (SIGKILL, or SIGTERM's
  default: what CI sends a cancelled job) would otherwise leave it serving forever;
- each protobuf message is converted to a dictionary once per call (`messages_converted_once`), where
  pulumi_policy converts the same one once per policy;
- a policy that declares the resource types it judges is given only those (`policies_given_their_types`),
  where pulumi_policy builds every policy's arguments for every resource;
- the pack says which types its resource policies judge (`judged_types_told`), so that the preview need not
  ask about a resource no policy judges.

The Pulumi CLI runs a pack as ``python -u -m pulumi.policy ENGINE PACK`` with neither
(``launcher="pulumi"`` does that, for the tests that hold the two the same).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import runpy
import sys
import threading
from importlib import metadata
from typing import Any, Callable, Iterator

CONVERTING_METHODS = ("Analyze", "AnalyzeStack")
"""The servicer's calls that convert one request's messages once per policy."""

JUDGED_TYPES = "resource_types"
"""The attribute by which a pulumi_policy policy declares the resource types it judges (a collection of type
tokens; policies/pack.py sets it from each definition). A resource policy that declares it reports nothing,
and marks itself not applicable to nothing, for a resource of another type; a stack policy that declares it
reads only the resources of those types, and links (parent, dependencies) only among them. A policy without
it is given everything, as pulumi_policy gives it."""

JUDGED_TYPES_FILE = "SECRETS_LAYOUT_JUDGED_TYPES_FILE"
"""The environment variable naming the file where the host writes, before the pack serves, the types the
pack's resource policies judge (`judged_types_told`)."""

_POLICIES = "_PolicyAnalyzerServicer__policies"
"""Where pulumi_policy's servicer keeps its policies (``self.__policies``, pulumi_policy 1.21.0 ``policy.py``
line 1309), which Analyze and AnalyzeStack iterate (lines 976 and 1036)."""

TESTED_PULUMI_POLICY = "1.21"
"""The pulumi-policy minor version whose internals `messages_converted_once` was written against (the same
as secrets_layout/engine/sdk_versions.py and pyproject.toml's cap; a test keeps the three in step: this
file imports nothing of secrets_layout)."""


def installed_pulumi_policy() -> str | None:
    """The installed pulumi-policy's version, None when it is not installed as a distribution."""
    try:
        return metadata.version("pulumi-policy")
    except metadata.PackageNotFoundError:
        return None


class _ConvertedOnce:
    """`google.protobuf.json_format` as pulumi_policy's policy module sees it, with ``MessageToDict``
    answered once per message within one `scoped` call on one thread.

    Sound because the dictionary is only ever read: pulumi_policy passes it straight to
    ``deserialize_properties`` (pulumi_policy 1.21.0, ``policy.py`` lines 997, 1049 and 1410), which
    builds new dictionaries and lists from it and returns its scalars, Assets and Archives as new
    objects (``deserialize.py``, ``_deserialize_property``); each policy still gets arguments of its
    own. A message is recognised by identity and kept referenced until the call ends, so an identity
    is never reused for another message within the call. Any other use of the module (another
    function, other arguments, a call outside `scoped`) goes to the module itself.
    """

    def __init__(self, json_format: Any) -> None:
        self.module = json_format
        self._calls = threading.local()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.module, name)

    def MessageToDict(self, message: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 (the module's name)
        converted = getattr(self._calls, "converted", None)
        if converted is None or args or kwargs:
            return self.module.MessageToDict(message, *args, **kwargs)
        known = converted.get(id(message))
        if known is None:
            known = converted[id(message)] = (message, self.module.MessageToDict(message))
        return known[1]

    def scoped(self, method: Callable[..., Any]) -> Callable[..., Any]:
        """`method` with a memo of its own for the call (calls run on the gRPC server's threads)."""

        @functools.wraps(method)
        def call(servicer: Any, request: Any, context: Any) -> Any:
            outer = getattr(self._calls, "converted", None)
            self._calls.converted = {}
            try:
                return method(servicer, request, context)
            finally:
                self._calls.converted = outer

        return call


def _on_tested_pulumi_policy() -> bool:
    """Whether the installed pulumi-policy is of the minor version `TESTED_PULUMI_POLICY`."""
    version = installed_pulumi_policy()
    return version is not None and ".".join(version.split(".")[:2]) == TESTED_PULUMI_POLICY


def _tested_servicer() -> tuple[Any, type, dict[str, Callable[..., Any]]] | None:
    """pulumi_policy's policy module, its servicer class and the class's own Analyze and AnalyzeStack, when
    pulumi_policy is of the minor version `TESTED_PULUMI_POLICY` and they are where that version has them;
    else None (a patch is then left out: the pack's own behaviour, slower and the same)."""
    if not _on_tested_pulumi_policy():
        return None
    try:
        from pulumi_policy import policy
    except ImportError:
        return None
    servicer = getattr(policy, "_PolicyAnalyzerServicer", None)
    # The class's own methods: the generated base class has every method too (answering UNIMPLEMENTED).
    methods = {name: vars(servicer).get(name) if isinstance(servicer, type) else None for name in CONVERTING_METHODS}
    if not all(callable(method) for method in methods.values()):
        return None
    return policy, servicer, methods


@contextlib.contextmanager
def messages_converted_once() -> Iterator[bool]:
    """Within the block, pulumi_policy converts each message of an Analyze or AnalyzeStack request once
    instead of once per policy; yields whether it does (False, and nothing is changed: pulumi_policy
    missing, of another minor version than `TESTED_PULUMI_POLICY`, or its internals moved).

    pulumi_policy (1.21.0, ``policy.py``: ``_PolicyAnalyzerServicer.Analyze`` line 997,
    ``AnalyzeStack`` line 1049, ``_get_provider_resource`` line 1410) calls
    ``json_format.MessageToDict`` on the request's properties and its provider's for every policy, so a
    pack of 14 resource policies converts each request 14 times: half of its CPU for an Analyze call.
    No switch or upstream fix for it was found (the pulumi_policy releases through 1.21.0 convert per
    policy; pulumi/pulumi#21455, the policy performance epic, lists none), so the module's reference
    is replaced for the block and put back after.
    """
    found = _tested_servicer()
    json_format = getattr(found[0], "json_format", None) if found else None
    if found is None or json_format is None or not callable(getattr(json_format, "MessageToDict", None)):
        yield False  # another version's internals may differ: its own conversions, slower and the same
        return
    policy, servicer, methods = found
    converted = _ConvertedOnce(json_format)
    policy.json_format = converted
    for name, method in methods.items():
        setattr(servicer, name, converted.scoped(method))
    try:
        yield True
    finally:
        for name, method in methods.items():
            setattr(servicer, name, method)
        policy.json_format = json_format


class _Given:
    """The servicer as one call sees it: every attribute its own, but its policies only `policies`.
    pulumi_policy's Analyze and AnalyzeStack read the servicer's state and call its helpers through
    ``self``; given this instead, they run as on the servicer, over fewer policies, and change nothing
    of it (a call's own state is local to the call)."""

    def __init__(self, servicer: Any, policies: list[Any]) -> None:
        self._servicer = servicer
        setattr(self, _POLICIES, policies)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._servicer, name)


def _judges_any_type(policy: Any) -> bool:
    """Whether pulumi_policy's answer for a resource of any type may depend on `policy`: it declares no types,
    or it has no validation, which pulumi_policy reports "not applicable" for every resource (pulumi_policy
    1.21.0, ``Analyze`` line 981), whatever it declares."""
    has_validation = getattr(policy, "has_validation", None)
    return getattr(policy, JUDGED_TYPES, None) is None or (callable(has_validation) and not has_validation())


def _judges(policy: Any, resource_type: str) -> bool:
    """Whether pulumi_policy's answer for a resource of `resource_type` may depend on `policy`."""
    return _judges_any_type(policy) or resource_type in getattr(policy, JUDGED_TYPES)


def judged_types(policies: list[Any], resource_policy: type) -> list[str] | None:
    """Every type some resource policy among `policies` judges, sorted; None when one may judge any type:
    for a resource of another type, pulumi_policy's Analyze answer is empty, as every resource policy
    returns at once and stack policies are not asked."""
    types: set[str] = set()
    for policy in policies:
        if isinstance(policy, resource_policy):
            if _judges_any_type(policy):
                return None
            types.update(getattr(policy, JUDGED_TYPES))
    return sorted(types)


@contextlib.contextmanager
def judged_types_told(path: str | None) -> Iterator[bool]:
    """Within the block, a `PolicyPack` built writes `judged_types` of its policies to `path` (JSON
    ``{"judged": [...]}``, ``null`` for "any type"), before it serves and so before it prints its port;
    yields whether it will. Reads the policies from `PolicyPack`'s own argument (pulumi_policy's public
    constructor); nothing is written without a path, or on a pulumi_policy of another minor version than
    `TESTED_PULUMI_POLICY` (whose Analyze might answer something for a resource no policy judges): the preview
    then asks about every resource."""
    if not _on_tested_pulumi_policy():
        yield False
        return
    try:
        import pulumi_policy
    except ImportError:
        yield False
        return
    pack = getattr(pulumi_policy, "PolicyPack", None)
    resource_policy = getattr(pulumi_policy, "ResourceValidationPolicy", None)
    constructor = vars(pack).get("__init__") if isinstance(pack, type) else None
    if not path or not callable(constructor) or not isinstance(resource_policy, type):
        yield False
        return

    @functools.wraps(constructor)
    def telling(self: Any, name: str, policies: list[Any], *args: Any, **kwargs: Any) -> None:
        written = f"{path}.{os.getpid()}.tmp"
        try:
            with open(written, "w", encoding="utf-8") as told:
                json.dump({"judged": judged_types(list(policies), resource_policy)}, told)
            os.replace(written, path)  # whole or not at all: the preview reads it once the port is printed
        except OSError:
            pass  # not told: the preview asks about every resource, as without the host
        constructor(self, name, policies, *args, **kwargs)

    pack.__init__ = telling
    try:
        yield True
    finally:
        pack.__init__ = constructor


def _analyze_given_their_types(method: Callable[..., Any], resource_policy: type) -> Callable[..., Any]:
    """Analyze with only the resource policies that judge the request's type (and every other policy,
    which Analyze passes over): the same answer, as each left out would report nothing."""

    @functools.wraps(method)
    def call(servicer: Any, request: Any, context: Any) -> Any:
        policies = getattr(servicer, _POLICIES, None)
        if policies is None:
            return method(servicer, request, context)
        given = [policy for policy in policies
                 if not isinstance(policy, resource_policy) or _judges(policy, request.type)]
        return method(servicer if len(given) == len(policies) else _Given(servicer, given), request, context)

    return call


def _analyze_stack_given_their_types(method: Callable[..., Any], stack_policy: type) -> Callable[..., Any]:
    """AnalyzeStack once per stack policy, each given the stack's resources of the types it judges (all of
    them when it declares none), the answers joined in policy order: what pulumi_policy answers, which
    appends each policy's diagnostics and not-applicable reasons in that order (its response has nothing
    else). pulumi_policy builds every policy's arguments from every resource; at 1,000 secrets 3 stack
    policies read about 3,000 of 16,000."""

    @functools.wraps(method)
    def call(servicer: Any, request: Any, context: Any) -> Any:
        policies = getattr(servicer, _POLICIES, None)
        if policies is None:
            return method(servicer, request, context)
        stack_policies = [policy for policy in policies if isinstance(policy, stack_policy)]
        if all(_judges_any_type(policy) for policy in stack_policies):
            return method(servicer, request, context)
        answers = []
        for policy in stack_policies:
            given = request if _judges_any_type(policy) else type(request)(
                resources=[resource for resource in request.resources if _judges(policy, resource.type)])
            answers.append(method(_Given(servicer, [policy]), given, context))
        answer, *others = answers
        for other in others:
            answer.MergeFrom(other)
        return answer

    return call


@contextlib.contextmanager
def policies_given_their_types() -> Iterator[bool]:
    """Within the block, pulumi_policy gives a policy that declares the resource types it judges
    (`JUDGED_TYPES`) only resources of those types; yields whether it does (False, and nothing is
    changed: pulumi_policy missing, of another minor version than `TESTED_PULUMI_POLICY`, or its internals
    moved).

    pulumi_policy (1.21.0, ``policy.py``: ``Analyze`` line 971, ``AnalyzeStack`` line 1031) deserializes
    the request's properties, wraps them in proxies and builds options, provider and configuration for
    every policy before calling it, also for a policy that looks at the type first and returns: at 1,000
    secrets 80,000 argument sets for the deployment's 5,373 Analyze calls where 16,000 are judged, and
    16,000 resources for AnalyzeStack's three stack policies where about 3,000 are read. A policy of this
    pack returns at once for another type (policies/pack.py), so leaving it out changes no answer
    (tests/test_pack_host.py compares every answer with the pack as the Pulumi CLI starts it). No switch
    or upstream fix for it was found (pulumi/pulumi#21455, the policy performance epic, lists none).
    """
    found = _tested_servicer()
    resource_policy = getattr(found[0], "ResourceValidationPolicy", None) if found else None
    stack_policy = getattr(found[0], "StackValidationPolicy", None) if found else None
    if found is None or not isinstance(resource_policy, type) or not isinstance(stack_policy, type):
        yield False
        return
    _, servicer, methods = found
    setattr(servicer, "Analyze", _analyze_given_their_types(methods["Analyze"], resource_policy))
    setattr(servicer, "AnalyzeStack", _analyze_stack_given_their_types(methods["AnalyzeStack"], stack_policy))
    try:
        yield True
    finally:
        for name, method in methods.items():
            setattr(servicer, name, method)


def stop_with_stdin() -> None:
    """End this process when its standard input ends: the process that started it is gone."""

    def watch() -> None:
        # os.read, not sys.stdin: a daemon thread blocked in a buffered read holds its lock, and the
        # interpreter aborts at exit when the pack's own code fails.
        while os.read(0, 4096):
            pass
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="orphan-guard").start()


def main(arguments: list[str]) -> None:
    if len(arguments) != 1:
        raise SystemExit("usage: python -u pack_host.py PACK/__main__.py")
    stop_with_stdin()
    script = os.path.abspath(arguments[0])
    # As `python -u PACK/__main__.py` would run it: the script as argv[0], its folder first on sys.path.
    sys.argv = [arguments[0]]
    sys.path[0] = os.path.dirname(script)
    with messages_converted_once(), policies_given_their_types(), \
            judged_types_told(os.environ.get(JUDGED_TYPES_FILE)):
        runpy.run_path(arguments[0], run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
