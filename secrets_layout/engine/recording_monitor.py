"""The recording monitor: the SDK's mock resource monitor, keeping every registration as the engine sees it.

`RecordingMonitor` answers the program's RegisterResource / ReadResource / Invoke calls from the fake
cloud (engine/fake_cloud.py) and records each request as a `RegisteredResource`: URN, type, name,
parent, provider, inputs (secrets as `SecretValue`, the dry run's unknowns as `UNKNOWN`), outputs and
the resource options `Mocks.new_resource` never sees (protect, ignore_changes, import_id,
dependencies, aliases, ...), and where the program registered it (`_stack_of`, when the SDK captured a
stack trace).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import urllib.parse
import urllib.request
from typing import Any

from pulumi.runtime import rpc, settings
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _sync_await

from secrets_layout.engine.fake_cloud import FakeCloud
from secrets_layout.engine.recorded_values import STACK_TYPE, UNKNOWN, RegisteredResource, SecretValue, from_wire

__all__ = ["RecordingMonitor"]


def _sentinels(value: Any) -> Any:
    """The SDK's `Unknown` placeholders (what it deserializes the engine's sentinel to during a dry
    run, pulumi/runtime/rpc.py deserialize_property) back to the sentinel the engine carries."""
    from pulumi.output import Unknown

    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {key: _sentinels(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_sentinels(item) for item in value]
    return value


class RecordingMonitor(MockMonitor):
    """MockMonitor that records each request with its resource options.

    `Mocks.new_resource` never sees protect / ignoreChanges / importId / dependencies, so this
    monitor handles RegisterResource itself (the same steps as MockMonitor.RegisterResource),
    keeps the request's options, and applies `additionalSecretOutputs` to the answer the way
    the engine does, so the program sees those outputs as secrets.
    """

    def __init__(self, cloud: FakeCloud) -> None:
        super().__init__(cloud)
        self.cloud = cloud
        self.recorded: list[RegisteredResource] = []
        self.stack_urn = ""
        self.stack_outputs: dict[str, Any] = {}
        self._record_lock = threading.Lock()
        self._thread_loops: list[asyncio.AbstractEventLoop] = []

    def _ensure_thread_loop(self) -> None:
        """The SDK's RPC calls arrive on executor threads that need an event loop of their
        own (MockMonitor creates one and never closes it); create it here to close it later."""
        try:
            asyncio.get_event_loop()
        except RuntimeError:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            with self._record_lock:
                self._thread_loops.append(loop)

    def close(self) -> None:
        with self._record_lock:
            loops, self._thread_loops = self._thread_loops, []
        for loop in loops:
            with contextlib.suppress(Exception):
                loop.close()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the engine makes them: the root stack's type is not part of its children's."""
        if parent and parent.split("::")[2] == STACK_TYPE:
            parent = ""
        return super().make_urn(parent, type_, name)

    def Invoke(self, request):  # noqa: N802 (gRPC method name)
        self._ensure_thread_loop()
        return super().Invoke(request)

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == STACK_TYPE:
            self.stack_urn = urn
            return resource_pb2.RegisterResourceResponse(urn=urn)

        self._ensure_thread_loop()
        raw_inputs = _sentinels(rpc.deserialize_properties(request.object))
        if request.type.startswith("pulumi:providers:"):
            self.cloud.register_provider(urn, from_wire(raw_inputs))
        resource_args = MockResourceArgs(
            typ=request.type,
            name=request.name,
            inputs=raw_inputs,
            provider=request.provider,
            resource_id=request.importId,
            custom=request.custom or False,
        )
        resource_id, state = self.cloud.new_resource(resource_args)
        state = dict(state)
        for key in request.additionalSecretOutputs:
            if key in state and not rpc.is_rpc_secret(state[key]):
                state[key] = rpc.wrap_rpc_secret(state[key])
        obj_proto = _sync_await(rpc.serialize_properties(state, {}))
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, resource_id, state)

        inputs = from_wire(raw_inputs)
        property_dependencies = {
            key: tuple(sorted(value.urns)) for key, value in request.propertyDependencies.items()
        }
        implied = {dep for deps in property_dependencies.values() for dep in deps}
        dependencies = tuple(sorted(request.dependencies))
        self._record(
            RegisteredResource(
                urn=urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                id=resource_id or None,
                parent=request.parent or None,
                provider=request.provider.rsplit("::", 1)[0] if request.provider else None,
                providers={key: ref.rsplit("::", 1)[0] for key, ref in request.providers.items()},
                inputs=inputs,
                outputs=from_wire(state),
                secret_inputs=frozenset(key for key, value in inputs.items() if isinstance(value, SecretValue)),
                protect=request.protect if request.HasField("protect") else None,
                ignore_changes=tuple(request.ignoreChanges),
                import_id=request.importId or None,
                depends_on=tuple(dep for dep in dependencies if dep not in implied),
                dependencies=dependencies,
                property_dependencies=property_dependencies,
                additional_secret_outputs=tuple(request.additionalSecretOutputs),
                replace_on_changes=tuple(request.replaceOnChanges),
                delete_before_replace=request.deleteBeforeReplace if request.deleteBeforeReplaceDefined else None,
                retain_on_delete=request.retainOnDelete if request.HasField("retainOnDelete") else None,
                aliases=tuple(self._alias_urn(alias, request) for alias in request.aliases),
                stack=_stack_of(request),
            )
        )
        return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id or "", object=obj_proto)

    def _alias_urn(self, alias, request) -> str:
        """An alias as the URN it names. The SDK sends a URN or, when the monitor supports alias
        specs (this one does), a spec whose empty fields default to the resource's own name,
        type, stack, project and parent (engine: source_eval.go, resolving alias specs)."""
        if alias.urn:
            return alias.urn
        spec = alias.spec
        parent = "" if spec.noParent else (spec.parentUrn or request.parent)
        qualified_type = spec.type or request.type
        if parent and parent.split("::")[2] != STACK_TYPE:
            qualified_type = parent.split("::")[2].split("$").pop() + "$" + qualified_type
        return "urn:pulumi:" + "::".join([spec.stack or settings.get_stack(), spec.project or settings.get_project(),
                                           qualified_type, spec.name or request.name])

    def ReadResource(self, request):  # noqa: N802 (gRPC method name)
        self._ensure_thread_loop()
        response = super().ReadResource(request)
        registration = self.resources[response.urn]
        inputs = from_wire(_sentinels(rpc.deserialize_properties(request.properties)))
        self._record(
            RegisteredResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=True,
                id=registration.id,
                parent=request.parent or None,
                provider=request.provider.rsplit("::", 1)[0] if request.provider else None,
                inputs=inputs,
                outputs=from_wire(registration.state),
                secret_inputs=frozenset(key for key, value in inputs.items() if isinstance(value, SecretValue)),
                protect=None,
                ignore_changes=(),
                import_id=None,
                depends_on=tuple(sorted(request.dependencies)),
                dependencies=tuple(sorted(request.dependencies)),
                property_dependencies={},
                additional_secret_outputs=tuple(request.additionalSecretOutputs),
                replace_on_changes=(),
                delete_before_replace=None,
                retain_on_delete=None,
                read=True,
            )
        )
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802 (gRPC method name)
        if request.urn == self.stack_urn:
            self._ensure_thread_loop()
            self.stack_outputs = from_wire(_sentinels(rpc.deserialize_properties(request.outputs)))
        return super().RegisterResourceOutputs(request)

    def _record(self, resource: RegisteredResource) -> None:
        with self._record_lock:
            self.recorded.append(resource)


def _stack_of(request) -> tuple[str, ...]:
    """The request's stack trace (pulumi/runtime/resource.py `_get_stack_trace`: file URIs and lines,
    innermost user frame first) as `PATH:LINE` entries; empty when none was captured."""
    trace = getattr(request, "stackTrace", None)
    frames = trace.frames if trace is not None else ()
    found = []
    for frame in frames:
        position = frame.pc
        if position.uri.startswith("file:"):
            found.append(f"{urllib.request.url2pathname(urllib.parse.urlparse(position.uri).path)}:{position.line}")
    return tuple(found)
