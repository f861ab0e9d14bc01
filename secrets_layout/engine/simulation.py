"""Run a Pulumi program on the SDK's mock engine and record every registration.

This is the deployment simulator behind the mock-engine tests and the offline
`secrets-layout preview`: it runs the real program (a file such as `__main__.py`, or a
callable) exactly the way the Pulumi language host does (`run_in_stack`), but against an
in-process resource monitor instead of the engine. Nothing talks to a network:

- every registration is recorded as a `RegisteredResource` (URN, type, name, parent,
  provider, inputs, outputs and the resource options the engine would see: protect,
  ignore_changes, import_id, depends_on, additional_secret_outputs, ...);
- a fake cloud (`FakeCloud`) answers with deterministic IDs and ARNs derived from names,
  account and region, for every output the installed provider SDK says the provider computes
  (`provider_schema`). In mode "up" every output is known (a simulated `pulumi up`); in
  mode "preview" (a dry run, `pulumi preview` of resources that do not exist yet) the
  program runs with `dry_run` set and what the provider computes on create is unknown,
  recorded as the engine's sentinel `UNKNOWN` (see `preview_outputs`);
- values that arrive marked secret never appear in plain form: they are wrapped in
  `SecretValue`, whose str/repr is `[secret]`; `mask()` turns any recorded structure into
  plain data with secrets masked, for reports.

Usage::

    from secrets_layout.engine.simulation import simulate

    run = simulate(Path("__main__.py"), project="secrets-layout", stack="prod",
                   config={"secrets-layout:declaration": "environments/prod.yaml"},
                   secret_config={"stripeApiKey": "sk_test_..."})
    for resource in run.resources:
        print(resource.type, resource.name, resource.protect)
    print(mask(run.outputs))

`simulate` can run any number of times in one process: each run configures fresh runtime
settings, config and root stack, and restores the config afterwards.

This module knows nothing about the components it runs; it imports only the Pulumi SDK.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import gc
import hashlib
import json
import logging
import os
import runpy
import sys
import threading
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from pulumi.runtime import config as pulumi_config
from pulumi.runtime import resource as pulumi_resource
from pulumi.runtime import rpc, settings
from pulumi.runtime import stack as pulumi_stack
from pulumi.runtime.mocks import MockCallArgs, MockEngine, MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

import secrets_layout.engine.sdk_versions as sdk_versions
from secrets_layout.engine.provider_schema import ResourceSchema, resource_schema, zero_value

__all__ = [
    "MODES",
    "UNKNOWN",
    "preview_outputs",
    "deployed_outputs",
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_REGION",
    "FakeCloud",
    "RegisteredResource",
    "SecretValue",
    "Simulation",
    "fake_arn_suffix",
    "mask",
    "simulate",
    "to_wire",
]

DEFAULT_ACCOUNT_ID = "123456789012"
"""Account used for fake ARNs when a provider does not pin one (allowed_account_ids / assume_roles)."""

DEFAULT_REGION = "us-east-1"
"""Region used when neither the provider nor `aws:region` config names one."""

MODES = ("up", "preview")
"""Simulation modes: a deployment (`pulumi up`, every output known) or a dry run (`pulumi preview`)."""

UNKNOWN = rpc.UNKNOWN
"""The engine's sentinel for a value not known during a preview (UnknownStringValue,
pulumi/sdk/go/common/resource/plugin/rpc.go); what the analyzer protocol carries for it."""

STACK_TYPE = "pulumi:pulumi:Stack"
_ID_NAMESPACE = uuid.UUID("6f1c43a4-7a55-4c5e-9a44-5ad0c0b7a1e2")
_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class SecretValue:
    """A value that was marked secret. Its str/repr is `[secret]`; `reveal()` returns it.

    Equality compares the hidden values, so tests can assert on them deliberately.
    """

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def reveal(self) -> Any:
        return self._value

    def __repr__(self) -> str:
        return "[secret]"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretValue) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("SecretValue", repr(type(self._value))))


SECRET_MASK = "[secret]"


def mask(value: Any) -> Any:
    """Plain data (dicts, lists, scalars) with every `SecretValue` replaced by "[secret]"."""
    if isinstance(value, SecretValue):
        return SECRET_MASK
    if isinstance(value, Mapping):
        return {key: mask(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask(item) for item in value]
    return value


def _reveal(value: Any) -> Any:
    """The same structure with secrets unwrapped (for the fake cloud's own calculations)."""
    if isinstance(value, SecretValue):
        return _reveal(value.reveal())
    if isinstance(value, Mapping):
        return {key: _reveal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_reveal(item) for item in value]
    return value


def _contains_unknown(value: Any) -> bool:
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, dict):
        return any(_contains_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(_contains_unknown(item) for item in value)
    return False


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


def _wrap_secrets(value: Any) -> Any:
    """Replace the SDK's RPC secret envelopes ({sig: secret, value: ...}) by SecretValue."""
    if rpc.is_rpc_secret(value):
        return SecretValue(_wrap_secrets(rpc.unwrap_rpc_secret(value)))
    if isinstance(value, dict):
        return {key: _wrap_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_wrap_secrets(item) for item in value]
    return value


def to_wire(value: Any) -> Any:
    """SecretValue back to the engine protocol's secret envelope: for answers sent to the program,
    and for what the policy pack is sent (the analyzer protocol marks secrets the same way)."""
    if isinstance(value, SecretValue):
        return rpc.wrap_rpc_secret(to_wire(value.reveal()))
    if isinstance(value, dict):
        return {key: to_wire(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_wire(item) for item in value]
    return value


@dataclass(frozen=True)
class RegisteredResource:
    """One resource registration, as the engine would have received it.

    `inputs` and `outputs` hold plain Python values; any value that was marked secret is a
    `SecretValue` (top-level properties: the SDK lifts secretness to the top-level property).
    `secret_inputs` names those input properties. `depends_on` holds the explicit
    dependencies (all `dependencies` that no input property accounts for).
    """

    urn: str
    type: str
    name: str
    custom: bool
    id: str | None
    parent: str | None
    provider: str | None
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    secret_inputs: frozenset[str]
    protect: bool | None
    ignore_changes: tuple[str, ...]
    import_id: str | None
    depends_on: tuple[str, ...]
    dependencies: tuple[str, ...]
    property_dependencies: dict[str, tuple[str, ...]]
    additional_secret_outputs: tuple[str, ...]
    replace_on_changes: tuple[str, ...]
    delete_before_replace: bool | None
    retain_on_delete: bool | None
    providers: dict[str, str] = field(default_factory=dict)
    read: bool = False
    """True for `Resource.get` (ReadResource): an existing resource read, not managed."""
    aliases: tuple[str, ...] = ()
    """The URNs this resource may have had before (the `aliases` option), each as a full URN."""
    stack: tuple[str, ...] = field(default=(), compare=False)
    """Where the program registered it, innermost frame first, each `PATH:LINE` (the SDK's stack trace,
    recorded only when `simulate` is asked to capture stack traces)."""

    @property
    def is_provider(self) -> bool:
        return self.type.startswith("pulumi:providers:")


@dataclass(frozen=True)
class Simulation:
    """The result of one simulated deployment."""

    project: str
    stack: str
    stack_urn: str
    resources: list[RegisteredResource]
    """Every registration except the root stack, in a deterministic tree order: each resource
    before its children, siblings by URN (the arrival order varies, RPCs run on threads)."""
    outputs: dict[str, Any]
    """The stack outputs; secret outputs are `SecretValue`."""
    mode: str = "up"
    """"up" or "preview" (see `simulate`)."""

    def by_type(self, type_: str) -> list[RegisteredResource]:
        return [resource for resource in self.resources if resource.type == type_]

    def by_urn(self) -> dict[str, RegisteredResource]:
        return {resource.urn: resource for resource in self.resources}

    def get(self, name: str, type_: str | None = None) -> RegisteredResource:
        """The single resource with that logical name (and type); KeyError otherwise."""
        found = [r for r in self.resources if r.name == name and (type_ is None or r.type == type_)]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources named {name!r} (type {type_!r})")
        return found[0]

    def children(self, parent: RegisteredResource | str) -> list[RegisteredResource]:
        urn = parent if isinstance(parent, str) else parent.urn
        return [resource for resource in self.resources if resource.parent == urn]

    @property
    def secret_outputs(self) -> frozenset[str]:
        return frozenset(name for name, value in self.outputs.items() if isinstance(value, SecretValue))


def fake_arn_suffix(name: str) -> str:
    """The six characters AWS appends to a secret's ARN, here derived from the name."""
    digest = hashlib.sha256(name.encode()).digest()
    return "".join(_SUFFIX_ALPHABET[byte % len(_SUFFIX_ALPHABET)] for byte in digest[:6])


def _fake_uuid(*parts: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, "/".join(parts)))


def _json_or_value(value: Any) -> Any:
    """Provider config arrives JSON-encoded for non-string values; accept either form."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return json.loads(value)
    return value


@dataclass(frozen=True)
class _Place:
    region: str
    account: str
    default_tags: Any = None
    """The provider's `defaultTags.tags` (None: none; `UNKNOWN`: not known in a dry run)."""


def preview_outputs(inputs: Mapping[str, Any], computed: Mapping[str, Any],
                    planned: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What a provider answers for a create during `pulumi preview`: its checked inputs, known, and
    every output it would compute on create unknown (`UNKNOWN`), except what the inputs give and what the
    provider plans (`planned`: known before the resource exists, such as its region).

    The engine calls the provider's Create with preview=true (pulumi/pkg/resource/deploy/step.go,
    CreateStep.Apply) and keeps its planned state as the outputs; a Terraform-based provider such as
    pulumi-aws plans every Computed attribute not set in the configuration as unknown (an ARN, an ID,
    `rotationEnabled`, a replica's `status`). An input always wins; inside it, nested objects and lists are
    merged element-wise, so `replicas[0].region` stays known while `replicas[0].status` is unknown.
    """
    result = dict(inputs)
    for key, value in computed.items():
        result[key] = _merge_unknown(inputs[key], value) if key in inputs else UNKNOWN
    result.update({key: value for key, value in (planned or {}).items() if key not in inputs})
    return result


def deployed_outputs(inputs: Mapping[str, Any], computed: Mapping[str, Any]) -> dict[str, Any]:
    """What a provider answers for a create during `pulumi up`: what it computed, with every input as
    given (a provider's state keeps the configuration's values: `rotation_enabled=False` stays false);
    inside an input, the fields only the provider sets are added (a replica's `status`)."""
    result = dict(computed)
    for key, given in inputs.items():
        result[key] = _merge_known(given, computed[key]) if key in computed else given
    return result


def _merge_unknown(given: Any, computed: Any) -> Any:
    if isinstance(given, Mapping) and isinstance(computed, Mapping) and not rpc.is_rpc_secret(given):
        return {**{key: UNKNOWN for key in computed},
                **{key: _merge_unknown(value, computed[key]) if key in computed else value
                   for key, value in given.items()}}
    if isinstance(given, list) and isinstance(computed, list) and len(given) == len(computed):
        return [_merge_unknown(a, b) for a, b in zip(given, computed)]
    return given


def _merge_known(given: Any, computed: Any) -> Any:
    if isinstance(given, Mapping) and isinstance(computed, Mapping) and not rpc.is_rpc_secret(given):
        return {**computed, **{key: _merge_known(value, computed[key]) if key in computed else value
                               for key, value in given.items()}}
    if isinstance(given, list) and isinstance(computed, list) and len(given) == len(computed):
        return [_merge_known(a, b) for a, b in zip(given, computed)]
    return given


def _default_tags(provider_inputs: Mapping[str, Any]) -> Any:
    """A provider's `defaultTags.tags` (the SDK sends object-valued provider inputs as JSON text)."""
    default_tags = _json_or_value(provider_inputs.get("defaultTags"))
    if _contains_unknown(default_tags):
        return UNKNOWN
    tags = default_tags.get("tags") if isinstance(default_tags, Mapping) else None
    return dict(tags) if isinstance(tags, Mapping) else None


def _planned(schema: ResourceSchema | None, inputs: Mapping[str, Any], place: _Place) -> dict[str, Any]:
    """The computed outputs pulumi-aws knows before the resource exists, so a dry run shows them:

    - `region`: the resource's own, else its provider's (terraform-provider-aws sets it when the
      configuration does not, in a CustomizeDiff: internal/provider/sdkv2/region.go, `defaultRegion`,
      line 52 at 4640a66635ff36287cdb9ce0683daefda6c188c7);
    - `tagsAll`: the provider's default tags with the resource's own over them (pulumi-aws 7 leaves the
      merge to the upstream provider: docs/version-7-upgrade.md, "Tags Changes"), unknown while either is;
    - the defaults a provider plans for what the configuration omits (`_provider_defaults`).
    """
    if schema is None:
        return {}
    planned: dict[str, Any] = dict(_provider_defaults(schema.type, inputs))
    if "region" in schema.outputs:
        planned["region"] = place.region
    if "tagsAll" in schema.outputs:
        tags = inputs.get("tags")
        if place.default_tags == UNKNOWN or _contains_unknown(tags):
            planned["tagsAll"] = UNKNOWN
        else:
            planned["tagsAll"] = {**(place.default_tags or {}), **(tags if isinstance(tags, Mapping) else {})}
    return planned


_RANDOM_PASSWORD_DEFAULTS = {"special": True, "upper": True, "lower": True, "number": True, "numeric": True,
                             "minNumeric": 0, "minUpper": 0, "minLower": 0, "minSpecial": 0}
"""What terraform-provider-random plans for a random_password setting the configuration omits: the
framework `Default`s of passwordSchemaV3 (internal/provider/resource_password.go at
0117aa60f8ebe02fd51910d8e6883123dadb3cb2, lines 585, 595, 604, 636, 646, 656 and 666), and `number` and
`numeric` kept equal, true when neither is set, by NumberNumericAttributePlanModifier (lines 616 and 627)."""


def _provider_defaults(type_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    if type_ != "random:index/randomPassword:RandomPassword":
        return {}
    defaults = dict(_RANDOM_PASSWORD_DEFAULTS)
    for name, twin in (("number", "numeric"), ("numeric", "number")):
        if name in inputs:
            defaults[twin] = inputs[name]
    return defaults


def _fallbacks(schema: ResourceSchema | None, name: str, place: _Place) -> dict[str, Any]:
    """A deterministic value for every computed output the fake cloud has no handler for: an `arn` is an
    ARN of the type's service in the resource's region and account; any other output is the zero value of
    its type in the SDK (what Terraform keeps for an attribute its provider left unset)."""
    if schema is None:
        return {}
    fallbacks = {output: zero_value(schema.outputs[output]) for output in sorted(schema.computed)}
    if schema.outputs.get("arn") == "string" and "arn" in schema.computed:
        _, module_path, type_name = schema.type.split(":")
        service = module_path.split("/")[0]
        fallbacks["arn"] = f"arn:aws:{service}:{place.region}:{place.account}:{type_name.lower()}/{name}"
    return fallbacks


class FakeCloud(Mocks):
    """Deterministic answers for AWS and random resources, derived from names.

    Which outputs a provider computes is read from the installed provider SDK
    (`provider_schema.resource_schema`); a handler per type gives the ones with a known shape
    (ARNs, IDs, a password), the others get `_fallbacks`; the inputs always win over them
    (`deployed_outputs`). Region and account come from the resource's own `region` input, else its
    provider (`region`; `allowedAccountIds[0]` or the account of `assumeRoles[0].roleArn`), else
    `aws:region` config / the defaults. Types no installed SDK has echo their inputs with the id
    `<name>-id`.

    With `preview=True` it answers as providers do during `pulumi preview` of resources being
    created: no ID (the engine's UnknownID, also for providers: pulumi/pkg/resource/deploy/
    default_providers.go) and computed outputs unknown (`preview_outputs`). An adopted resource
    (`import_id`) is read during a preview too, so its outputs stay known.
    """

    def __init__(self, *, account_id: str = DEFAULT_ACCOUNT_ID, region: str = DEFAULT_REGION,
                 preview: bool = False) -> None:
        self.account_id = account_id
        self.region = region
        self.preview = preview
        self._providers: dict[str, _Place] = {}
        self._lock = threading.Lock()

    # -- providers ---------------------------------------------------------------------------
    def register_provider(self, urn: str, inputs: Mapping[str, Any]) -> None:
        plain = _reveal(dict(inputs))
        region = plain.get("region") or self.region
        account = self.account_id
        allowed = _json_or_value(plain.get("allowedAccountIds"))
        assume_roles = _json_or_value(plain.get("assumeRoles"))
        if isinstance(allowed, list) and allowed:
            account = str(allowed[0])
        elif isinstance(assume_roles, list) and assume_roles and isinstance(assume_roles[0], dict):
            role_arn = str(assume_roles[0].get("roleArn", ""))
            if role_arn.count(":") >= 5:
                account = role_arn.split(":")[4] or account
        with self._lock:
            self._providers[urn] = _Place(region=str(region), account=account, default_tags=_default_tags(plain))

    def place_of(self, provider_ref: str | None, inputs: Mapping[str, Any]) -> _Place:
        place = _Place(self.region, self.account_id)
        if provider_ref:
            urn = provider_ref.rsplit("::", 1)[0]
            with self._lock:
                place = self._providers.get(urn, place)
        region = inputs.get("region")
        if isinstance(region, str) and region:
            place = dataclasses.replace(place, region=region)
        return place

    # -- Mocks -------------------------------------------------------------------------------
    def call(self, args: MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        place = self.place_of(args.provider, {})
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": place.account,
                "arn": f"arn:aws:iam::{place.account}:role/simulation",
                "userId": "AROASIMULATION",
                "id": place.account,
            }, None
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": place.region, "region": place.region, "id": place.region}, None
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, None
        if args.token == "aws:lambda/getFunction:getFunction":
            # A function someone else created (the AWS rotation apps): its role's name is made up
            # here, as CloudFormation would generate one.
            function = str(args.args.get("functionName", ""))
            function_name = function.split(":")[6] if function.startswith("arn:") else function
            arn = f"arn:aws:lambda:{place.region}:{place.account}:function:{function_name}"
            return {
                "functionName": function_name,
                "arn": arn,
                "role": f"arn:aws:iam::{place.account}:role/{function_name}-role",
                "id": function_name,
            }, []
        return {}, None

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict]:
        if not args.custom and not args.typ.startswith("pulumi:providers:"):
            return "", {}
        inputs = dict(args.inputs)
        if args.typ.startswith("pulumi:providers:"):
            return ("" if self.preview else _fake_uuid("provider", args.name)), inputs
        place = self.place_of(args.provider, inputs)
        schema = resource_schema(args.typ)
        planned = _planned(schema, inputs, place)
        handler = _FAKE_RESOURCES.get(args.typ)
        try:
            resource_id, computed = (
                handler(args.name, _reveal(inputs), place) if handler else (f"{args.name}-id", {})
            )
        except (AttributeError, TypeError, ValueError):
            if not (self.preview and _contains_unknown(inputs)):
                raise
            # An input the fake needs is itself unknown: then so is everything it would compute (the
            # provider plans them unknown), except what is planned without it.
            return "", preview_outputs(inputs, _fallbacks(schema, args.name, place), planned)
        computed = {**_fallbacks(schema, args.name, place), **computed}
        if args.resource_id:
            # An adopted (imported) resource keeps its real identity, and is read during a dry run too.
            resource_id = args.resource_id
            if "arn" in computed and args.resource_id.startswith("arn:"):
                computed["arn"] = args.resource_id
        elif self.preview:
            return "", preview_outputs(inputs, computed, planned)
        return resource_id, deployed_outputs(inputs, {**computed, **planned})


def _kms_key(name: str, inputs: dict, place: _Place) -> tuple[str, dict]:
    key_id = _fake_uuid("kms", place.account, place.region, name)
    return key_id, {"keyId": key_id, "arn": f"arn:aws:kms:{place.region}:{place.account}:key/{key_id}"}


def _kms_alias(name: str, inputs: dict, place: _Place) -> tuple[str, dict]:
    alias = inputs.get("name") or f"alias/{name}"
    target = inputs.get("targetKeyId", "")
    return alias, {
        "arn": f"arn:aws:kms:{place.region}:{place.account}:{alias}",
        "targetKeyArn": target if str(target).startswith("arn:") else f"arn:aws:kms:{place.region}:{place.account}:key/{target}",
    }


def _secret(name: str, inputs: dict, place: _Place) -> tuple[str, dict]:
    secret_name = inputs.get("name") or name
    arn = f"arn:aws:secretsmanager:{place.region}:{place.account}:secret:{secret_name}-{fake_arn_suffix(secret_name)}"
    replicas = [
        {**replica, "status": "InSync", "statusMessage": "Replication succeeded"}
        for replica in inputs.get("replicas", []) or []
    ]
    computed: dict[str, Any] = {"arn": arn, "name": secret_name}
    if replicas:
        computed["replicas"] = replicas
    return arn, computed


def _secret_version(name: str, inputs: dict, place: _Place) -> tuple[str, dict]:
    secret_id = str(inputs.get("secretId", name))
    version_id = _fake_uuid("version", secret_id, name)
    return f"{secret_id}|{version_id}", {
        "arn": secret_id,
        "versionId": version_id,
        "versionStages": inputs.get("versionStages") or ["AWSCURRENT"],
    }


def _secret_policy(name: str, inputs: dict, place: _Place) -> tuple[str, dict]:
    return str(inputs.get("secretArn", f"{name}-id")), {}


def _secret_rotation(name: str, inputs: dict, place: _Place) -> tuple[str, dict]:
    return str(inputs.get("secretId", f"{name}-id")), {"rotationEnabled": True}


def _lambda_function(name: str, inputs: dict, place: _Place) -> tuple[str, dict]:
    function_name = inputs.get("name") or name
    arn = f"arn:aws:lambda:{place.region}:{place.account}:function:{function_name}"
    return function_name, {
        "name": function_name,
        "arn": arn,
        "qualifiedArn": f"{arn}:$LATEST",
        "invokeArn": f"arn:aws:apigateway:{place.region}:lambda:path/2015-03-31/functions/{arn}/invocations",
        "version": "$LATEST",
    }


def _lambda_permission(name: str, inputs: dict, place: _Place) -> tuple[str, dict]:
    statement = inputs.get("statementId") or name
    return statement, {"statementId": statement}


def _iam_role(name: str, inputs: dict, place: _Place) -> tuple[str, dict]:
    role_name = inputs.get("name") or name
    path = inputs.get("path") or "/"
    return role_name, {
        "name": role_name,
        "arn": f"arn:aws:iam::{place.account}:role{path}{role_name}",
        "uniqueId": "AROA" + hashlib.sha256(role_name.encode()).hexdigest()[:17].upper(),
    }


def _iam_role_policy(name: str, inputs: dict, place: _Place) -> tuple[str, dict]:
    policy_name = inputs.get("name") or name
    return f"{inputs.get('role', '')}:{policy_name}", {"name": policy_name}


def _iam_role_policy_attachment(name: str, inputs: dict, place: _Place) -> tuple[str, dict]:
    return f"{inputs.get('role', '')}/{inputs.get('policyArn', name)}", {}


def _sar_stack(name: str, inputs: dict, place: _Place) -> tuple[str, dict]:
    stack_name = inputs.get("name") or name
    parameters = inputs.get("parameters") or {}
    function_name = parameters.get("functionName") or stack_name
    stack_id = (
        f"arn:aws:cloudformation:{place.region}:{place.account}:stack/serverlessrepo-{stack_name}/"
        f"{_fake_uuid('sar', place.account, place.region, stack_name)}"
    )
    return stack_id, {
        "name": stack_name,
        "outputs": {"RotationLambdaARN": f"arn:aws:lambda:{place.region}:{place.account}:function:{function_name}"},
    }


def _ssm_parameter(name: str, inputs: dict, place: _Place) -> tuple[str, dict]:
    parameter_name = str(inputs.get("name") or name)
    separator = "" if parameter_name.startswith("/") else "/"
    return parameter_name, {
        "name": parameter_name,
        "arn": f"arn:aws:ssm:{place.region}:{place.account}:parameter{separator}{parameter_name}",
        "version": 1,
    }


def _sns_topic(name: str, inputs: dict, place: _Place) -> tuple[str, dict]:
    topic_name = inputs.get("name") or name
    arn = f"arn:aws:sns:{place.region}:{place.account}:{topic_name}"
    return arn, {"name": topic_name, "arn": arn, "owner": place.account}


def _event_rule(name: str, inputs: dict, place: _Place) -> tuple[str, dict]:
    rule_name = inputs.get("name") or name
    return rule_name, {"name": rule_name, "arn": f"arn:aws:events:{place.region}:{place.account}:rule/{rule_name}"}


def _random_password(name: str, inputs: dict, place: _Place) -> tuple[str, dict]:
    length = int(inputs.get("length", 16))
    stream = b""
    counter = 0
    while len(stream) < length:
        stream += hashlib.sha256(f"{name}/{counter}".encode()).digest()
        counter += 1
    # Letters and digits only: deterministic, and valid whatever characters were excluded.
    result = base64.b32encode(stream).decode().replace("=", "")[:length]
    return "none", {"result": result, "bcryptHash": "$2a$10$" + hashlib.sha256(result.encode()).hexdigest()[:53]}


_FAKE_RESOURCES: dict[str, Callable[[str, dict, _Place], tuple[str, dict]]] = {
    "aws:kms/key:Key": _kms_key,
    "aws:kms/alias:Alias": _kms_alias,
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:secretsmanager/secretVersion:SecretVersion": _secret_version,
    "aws:secretsmanager/secretPolicy:SecretPolicy": _secret_policy,
    "aws:secretsmanager/secretRotation:SecretRotation": _secret_rotation,
    "aws:lambda/function:Function": _lambda_function,
    "aws:lambda/permission:Permission": _lambda_permission,
    "aws:iam/role:Role": _iam_role,
    "aws:iam/rolePolicy:RolePolicy": _iam_role_policy,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _iam_role_policy_attachment,
    "aws:serverlessrepository/cloudFormationStack:CloudFormationStack": _sar_stack,
    "aws:ssm/parameter:Parameter": _ssm_parameter,
    "aws:sns/topic:Topic": _sns_topic,
    "aws:cloudwatch/eventRule:EventRule": _event_rule,
    "random:index/randomPassword:RandomPassword": _random_password,
}


class _RecordingMonitor(MockMonitor):
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
            self.cloud.register_provider(urn, _wrap_secrets(raw_inputs))
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

        inputs = _wrap_secrets(raw_inputs)
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
                outputs=_wrap_secrets(state),
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
        inputs = _wrap_secrets(_sentinels(rpc.deserialize_properties(request.properties)))
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
                outputs=_wrap_secrets(registration.state),
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
            self.stack_outputs = _wrap_secrets(_sentinels(rpc.deserialize_properties(request.outputs)))
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


def _tree_order(resources: list[RegisteredResource]) -> list[RegisteredResource]:
    """Depth first from the roots (resources whose parent is not recorded), siblings by URN."""
    recorded = {resource.urn for resource in resources}
    children: dict[str | None, list[RegisteredResource]] = {}
    for resource in resources:
        parent = resource.parent if resource.parent in recorded else None
        children.setdefault(parent, []).append(resource)
    ordered: list[RegisteredResource] = []
    pending = sorted(children.get(None, []), key=lambda resource: resource.urn, reverse=True)
    while pending:
        resource = pending.pop()
        ordered.append(resource)
        pending.extend(sorted(children.get(resource.urn, []), key=lambda child: child.urn, reverse=True))
    return ordered


def _qualified(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


@contextlib.contextmanager
def _program_environment(directory: Path | None) -> Iterator[None]:
    """cwd and sys.path[0] as the Pulumi language host sets them: the project directory."""
    if directory is None:
        yield
        return
    previous_cwd = os.getcwd()
    path_entry = str(directory)
    sys.path.insert(0, path_entry)
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(previous_cwd)
        with contextlib.suppress(ValueError):
            sys.path.remove(path_entry)


class ProgramExited(SystemExit):
    """The program called os._exit(code): in a simulation this ends the program, not the process."""


@contextlib.contextmanager
def _os_exit_refused() -> Iterator[None]:
    """os._exit raises ProgramExited while the program runs: called for real it would end the
    simulation's process at once, or the preview's own when the simulation runs in it, with no word
    of why (os._exit skips every handler; there is no other way to see it coming)."""
    original = os._exit

    def refused(code: int) -> NoReturn:
        raise ProgramExited(code)

    os._exit = refused
    try:
        yield
    finally:
        os._exit = original


def simulate(
    program: Path | str | Callable[[], Any],
    *,
    project: str,
    stack: str,
    config: Mapping[str, str] | None = None,
    secret_config: Mapping[str, str] | None = None,
    root_directory: Path | str | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
    organization: str = "organization",
    logger: logging.Logger | None = None,
    mode: str = "up",
    capture_stack_traces: bool = False,
) -> Simulation:
    """Run `program` on the mock engine and return every registration and the stack outputs.

    program: a Pulumi program file (run with runpy as `__main__`, like the language host
        does) or a callable that creates resources (and may call `pulumi.export`).
    project, stack: what `pulumi.get_project()` / `pulumi.get_stack()` return.
    config / secret_config: stack config; keys without a namespace get the project's
        (`stripeApiKey` -> `secrets-layout:stripeApiKey`). Secret config is read back by the
        program as secret outputs (`Config.require_secret`) and recorded as `SecretValue`.
    root_directory: the project directory: cwd and sys.path[0] during the run (default: the
        program file's directory; unchanged for a callable).
    account_id: the account of fake ARNs for providers that do not pin one.
    mode: "up" (a deployment: every output known) or "preview" (a dry run of a stack that does not
        exist yet: the program runs with dry_run set, as under `pulumi preview`, and what providers
        compute on create is `UNKNOWN` in the recorded outputs and in what the program sees).
    capture_stack_traces: let the SDK capture a Python stack trace per registration, as it does
        for the engine (see `_no_stack_traces`; nothing here reads them, so off by default).

    Exceptions raised by the program propagate unchanged, after the runtime is cleaned up; its
    os._exit raises `ProgramExited` instead of ending this process.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    values = {_qualified(key, project): value for key, value in (config or {}).items()}
    secrets = {_qualified(key, project): value for key, value in (secret_config or {}).items()}
    region = values.get("aws:region", DEFAULT_REGION)
    cloud = FakeCloud(account_id=account_id, region=region, preview=mode == "preview")
    monitor = _RecordingMonitor(cloud)

    if callable(program):
        body: Callable[[], Any] = program
        directory = Path(root_directory) if root_directory is not None else None
    else:
        program_path = Path(program).resolve()
        directory = Path(root_directory).resolve() if root_directory is not None else program_path.parent

        def body() -> None:
            runpy.run_path(str(program_path), run_name="__main__")

    # A fresh settings bag per run: new RPC manager, output set, lock and monitor.
    fresh = settings.Settings(
        project=project,
        stack=stack,
        monitor=monitor,
        engine=MockEngine(logger),
        dry_run=mode == "preview",
        organization=organization,
        root_directory=str(directory) if directory is not None else None,
    )
    settings.configure(fresh)
    pulumi_config.set_all_config({**values, **secrets}, secret_keys=sorted(secrets))
    previous_root = settings.get_root_resource()
    settings.ROOT.set(None)
    try:
        with (_program_environment(directory), _outputs_awaited_together(), no_full_collections(),
              contextlib.nullcontext() if capture_stack_traces else _no_stack_traces(), _os_exit_refused()):
            _run(body)
    finally:
        monitor.close()
        pulumi_config.set_all_config({}, secret_keys=[])
        settings.ROOT.set(previous_root)
    return Simulation(
        project=project,
        stack=stack,
        mode=mode,
        stack_urn=monitor.stack_urn,
        resources=_tree_order(monitor.recorded),
        outputs=dict(monitor.stack_outputs),
    )


async def _wait_for_rpcs_together(await_all_outstanding_tasks: bool = True) -> None:
    """The SDK's wait_for_rpcs, awaiting each batch of outstanding outputs at once.

    The SDK waits with FIRST_COMPLETED and re-waits on everything still pending, which costs
    time proportional to the pending outputs for each completion: harmless against a real
    engine, where cloud calls dominate, but quadratic under the mock engine, where thousands of
    outputs resolve immediately (1,000 secrets: 120 s instead of 30 s). Awaiting them together
    keeps the same outcome: every RPC and every output finished, the first failure raised.
    """
    rpc_manager = pulumi_stack._get_rpc_manager()
    while True:
        while rpc_manager.rpcs:
            await asyncio.sleep(0)
            await rpc_manager.rpcs.pop()
        if rpc_manager.unhandled_exception is not None:
            raise rpc_manager.unhandled_exception.with_traceback(rpc_manager.exception_traceback)
        while await_all_outstanding_tasks:
            with settings.SETTINGS.lock:
                pending = list(settings.SETTINGS.outputs)
                settings.SETTINGS.outputs.clear()
            if not pending:
                break
            await asyncio.gather(*pending)
        if not rpc_manager.rpcs:
            return


@contextlib.contextmanager
def _outputs_awaited_together() -> Iterator[None]:
    """Use `_wait_for_rpcs_together` for this run only; the SDK's own loop on an SDK version it was not
    tested with (`sdk_versions`), or if its internals moved."""
    internals = ("wait_for_rpcs", "_get_rpc_manager")
    if not sdk_versions.is_tested("pulumi") or not all(hasattr(pulumi_stack, name) for name in internals) \
            or not hasattr(settings, "SETTINGS"):
        yield
        return
    original = pulumi_stack.wait_for_rpcs
    pulumi_stack.wait_for_rpcs = _wait_for_rpcs_together
    try:
        yield
    finally:
        pulumi_stack.wait_for_rpcs = original


def _empty_stack_trace() -> Any:
    """What the SDK sends when it finds no user frame (`_get_stack_trace`'s own fallback)."""
    from pulumi.runtime.proto import source_pb2

    return source_pb2.StackTrace()


@contextlib.contextmanager
def _no_stack_traces() -> Iterator[None]:
    """No Python stack trace per registration for this run; the SDK's own capture if its internals moved.

    The SDK (pulumi 3.272.0, pulumi/runtime/resource.py: `_get_stack_trace` at line 741 calls
    `traceback.extract_stack()` over the whole stack at line 756, once per `register_resource`, line
    1160, and twice per `read_resource`, lines 833 and 837) sends it in the
    request's `stackTrace` and `sourcePosition` for the engine to keep in the state (added by
    pulumi/pulumi#20430, SDK 3.195). The recording monitor never reads either field, and the capture
    is about a quarter of a registration under the mock engine (it reads every frame's source line).
    The SDK has no switch for it (no upstream opt-out found), so it is replaced for the run only, on
    the SDK version it was tested with (`sdk_versions`); any other captures them as the SDK does.
    """
    if not sdk_versions.is_tested("pulumi") or not callable(getattr(pulumi_resource, "_get_stack_trace", None)):
        yield
        return
    try:
        _empty_stack_trace()
    except ImportError:
        yield
        return
    original = pulumi_resource._get_stack_trace
    pulumi_resource._get_stack_trace = _empty_stack_trace
    try:
        yield
    finally:
        pulumi_resource._get_stack_trace = original


NEVER = 2**31 - 1
"""A collection threshold that is never reached."""


@contextlib.contextmanager
def no_full_collections() -> Iterator[None]:
    """No full (oldest generation) garbage collection during a simulation (or a preview holding several);
    the process's thresholds after it.

    A full collection walks every live object, and a simulation keeps every registration alive to its end
    (the program holds its resources, the SDK their outputs and futures), so each one costs more than the
    last: about a third of the run's CPU time at 1,000 secrets (22 s against 15 s with no collector). The
    young collections stay, and with them the short-lived cycles the SDK makes per property (the
    recursive closure of `rpc.contains_unknowns`, futures and their callbacks), so memory does not grow
    (1,000 secrets: 376 MB against 380 MB with every collection, 396 MB with none). CPython's collector
    runs a full collection only when the number of young collections since the last one passes the
    third threshold (Modules/gcmodule.c, `gc_collect_generations`), so that threshold is set out of
    reach for the run. Only the thresholds change: `gc.disable()` by the caller or the program is left
    as it is.
    """
    young, middle, _ = gc.get_threshold()
    previous = gc.get_threshold()
    gc.set_threshold(young, middle, NEVER)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _run(body: Callable[[], Any]) -> None:
    """run_in_stack on an event loop of our own, closed afterwards whatever happens."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(run_in_stack(body))
    finally:
        with contextlib.suppress(Exception):
            loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
        asyncio.set_event_loop(None)
