"""The fake cloud: what AWS and random would answer for each resource, deterministically, offline.

`FakeCloud` answers the SDK's mock engine (it is the simulation's `Mocks`) and the plan evaluation
alike: deterministic IDs and ARNs derived from names, account and region, for every output the
installed provider SDK says the provider computes (`provider_schema`). Its pieces:

- the place model (`_Place`): a resource's region and account, from its own `region` input, else its
  provider's configuration (`FakeCloud.register_provider`), else the run's defaults;
- the answer functions per type (`_FAKE_RESOURCES`), for outputs with a known shape, and `_fallbacks`
  for every other computed output;
- `_planned`: what the provider knows before the resource exists (region, tagsAll, defaults);
- `preview_outputs` / `deployed_outputs`: how a provider combines inputs with what it computes during
  `pulumi preview` (unknown) and `pulumi up` (known); an input always wins.

It imports only the Pulumi SDK and the engine's SDK-only modules.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import json
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks

from secrets_layout.engine.provider_schema import ResourceSchema, resource_schema, zero_value
from secrets_layout.engine.recorded_values import UNKNOWN, SecretValue

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_REGION",
    "FakeCloud",
    "deployed_outputs",
    "fake_arn_suffix",
    "preview_outputs",
]

DEFAULT_ACCOUNT_ID = "123456789012"
"""Account used for fake ARNs when a provider does not pin one (allowed_account_ids / assume_roles)."""

DEFAULT_REGION = "us-east-1"
"""Region used when neither the provider nor `aws:region` config names one."""

_ID_NAMESPACE = uuid.UUID("6f1c43a4-7a55-4c5e-9a44-5ad0c0b7a1e2")
_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


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
