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
  pulumi_policy converts the same one once per policy.

The Pulumi CLI runs a pack as ``python -u -m pulumi.policy ENGINE PACK`` with neither
(``launcher="pulumi"`` does that, for the tests that hold the two the same).
"""

from __future__ import annotations

import contextlib
import functools
import os
import runpy
import sys
import threading
from importlib import metadata
from typing import Any, Callable, Iterator

CONVERTING_METHODS = ("Analyze", "AnalyzeStack")
"""The servicer's calls that convert one request's messages once per policy."""

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
    version = installed_pulumi_policy()
    if version is None or ".".join(version.split(".")[:2]) != TESTED_PULUMI_POLICY:
        yield False  # another version's internals may differ: its own conversions, slower and the same
        return
    try:
        from pulumi_policy import policy
    except ImportError:
        yield False
        return
    servicer = getattr(policy, "_PolicyAnalyzerServicer", None)
    json_format = getattr(policy, "json_format", None)
    # The class's own methods: the generated base class has every method too (answering UNIMPLEMENTED).
    methods = {name: vars(servicer).get(name) if isinstance(servicer, type) else None for name in CONVERTING_METHODS}
    if json_format is None or not callable(getattr(json_format, "MessageToDict", None)) \
            or not all(callable(method) for method in methods.values()):
        yield False
        return
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
    with messages_converted_once():
        runpy.run_path(arguments[0], run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
