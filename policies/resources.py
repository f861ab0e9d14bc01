"""Resources as the checks see them, for both AWS providers Pulumi offers.

A :class:`Resource` carries plain values (unknowns are Pulumi's sentinel strings) in the provider's
camelCase input names. The pack governs the ``aws`` provider (pulumi-aws, bridged from
terraform-provider-aws) and the ``aws-native`` provider (pulumi-aws-native, CloudFormation-shaped,
through the Cloud Control API); the same concept has other inputs in each:

================  ==============================  ========================================
concept           aws                             aws-native
================  ==============================  ========================================
secret            secretsmanager/secret:Secret    secretsmanager:Secret
replicas          ``replicas[].{region,kmsKeyId}``  ``replicaRegions[].{region,kmsKeyId}``
tags              ``tags`` (a map)                ``tags`` (a list of ``{key, value}``)
rotation          secretRotation:SecretRotation   secretsmanager:RotationSchedule
resource policy   secretPolicy:SecretPolicy       secretsmanager:ResourcePolicy
                  ``policy`` (JSON text)          ``resourcePolicy`` (an object or JSON text)
key               kms/key:Key (and replica, external keys, KeyPolicy) ``policy``
                                                  kms:Key ``keyPolicy`` (an object or JSON text)
================  ==============================  ========================================

(pulumi-aws-native 1.84.0, sdk/python/pulumi_aws_native/secretsmanager/secret.py, rotation_schedule.py,
resource_policy.py and kms/key.py; pulumi-aws 7, pulumi_aws/secretsmanager and kms.) The shapes below
name them, so each check is written once and its messages use the names the program was written with.
Nothing here imports Pulumi.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

from .findings import FieldPath

SECRET = "aws:secretsmanager/secret:Secret"
SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"
SECRET_ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
SECRET_TAG = "aws:secretsmanager/tag:Tag"
KMS_KEY = "aws:kms/key:Key"
KMS_REPLICA_KEY = "aws:kms/replicaKey:ReplicaKey"
KMS_EXTERNAL_KEY = "aws:kms/externalKey:ExternalKey"
KMS_REPLICA_EXTERNAL_KEY = "aws:kms/replicaExternalKey:ReplicaExternalKey"
KMS_KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
KMS_KEYS = (KMS_KEY, KMS_REPLICA_KEY, KMS_EXTERNAL_KEY, KMS_REPLICA_EXTERNAL_KEY)

NATIVE_SECRET = "aws-native:secretsmanager:Secret"
NATIVE_ROTATION_SCHEDULE = "aws-native:secretsmanager:RotationSchedule"
NATIVE_RESOURCE_POLICY = "aws-native:secretsmanager:ResourcePolicy"
NATIVE_KMS_KEY = "aws-native:kms:Key"

SECRETS = (SECRET, NATIVE_SECRET)
ROTATIONS = (SECRET_ROTATION, NATIVE_ROTATION_SCHEDULE)
SECRET_POLICIES = (SECRET_POLICY, NATIVE_RESOURCE_POLICY)
ROTATABLE_KEYS = (KMS_KEY, NATIVE_KMS_KEY)
KEY_POLICY_HOLDERS = (*KMS_KEYS, KMS_KEY_POLICY, NATIVE_KMS_KEY)

# Pulumi's sentinels for values that are not known during a preview.
UNKNOWN_VALUES = frozenset({
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
    "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
    "e48ece36-62e2-4504-bad9-02848725956a",  # archive
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
})


@dataclass
class Resource:
    """A resource as the rules see it: plain values (unknowns are Pulumi's sentinel strings)."""

    type: str
    props: Dict[str, Any]
    urn: str = ""
    name: str = ""
    protect: bool = False
    provider_props: Optional[Dict[str, Any]] = None
    provider_urn: str = ""
    dependencies: Tuple[str, ...] = ()
    property_dependencies: Dict[str, Tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class SecretShape:
    """Where a secret's settings are among its inputs."""

    replicas: str
    tags_are_a_list: bool
    recovery_window: Optional[str]
    inline_policy: Optional[str]
    force_overwrite: Optional[str]


SECRET_SHAPES: Mapping[str, SecretShape] = {
    SECRET: SecretShape("replicas", False, "recoveryWindowInDays", "policy", "forceOverwriteReplicaSecret"),
    NATIVE_SECRET: SecretShape("replicaRegions", True, None, None, None),
}
POLICY_DOCUMENT_INPUT: Mapping[str, str] = {
    SECRET_POLICY: "policy", SECRET: "policy", NATIVE_RESOURCE_POLICY: "resourcePolicy",
    **{key_type: "policy" for key_type in (*KMS_KEYS, KMS_KEY_POLICY)}, NATIVE_KMS_KEY: "keyPolicy",
}
"""The input that holds a resource policy or key policy document."""

KEY_SPEC_INPUT: Mapping[str, str] = {KMS_KEY: "customerMasterKeySpec", NATIVE_KMS_KEY: "keySpec"}


def secret_shape(resource: Resource) -> SecretShape:
    return SECRET_SHAPES[resource.type]


def is_native(resource: Resource) -> bool:
    return resource.type.startswith("aws-native:")


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value in UNKNOWN_VALUES


def contains_unknown(value: Any) -> bool:
    if isinstance(value, str):
        return any(sentinel in value for sentinel in UNKNOWN_VALUES)
    if isinstance(value, Mapping):
        return any(contains_unknown(k) or contains_unknown(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(contains_unknown(v) for v in value)
    return False


def whole_number(value: Any) -> Optional[int]:
    """An int for 7 or 7.0 (protobuf Structs carry numbers as floats), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if value != value or value in (float("inf"), float("-inf")) or value != int(value):
        return None
    return int(value)


def config_int(config: Mapping[str, Any], key: str, default: int) -> int:
    value = whole_number(config.get(key, default))
    return default if value is None else value


def show(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else f'"{value}"'


def snake(name: str) -> str:
    """``kmsKeyId`` -> ``kms_key_id``: the name a Python program gave the input."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def input_label(path: FieldPath) -> str:
    """``("replicas", 0, "kmsKeyId")`` -> ``replicas[0].kms_key_id``, as a Python program writes it."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (("." if text else "") + snake(part))
    return text


# --------------------------------------------------------------------------------------------
# Keys and regions
# --------------------------------------------------------------------------------------------


def is_aws_managed_key(key: str) -> bool:
    """``alias/aws/secretsmanager`` and its ARN form (any ``alias/aws/...`` is AWS managed)."""
    return key.startswith("alias/aws/") or bool(re.fullmatch(r"arn:[^:]+:kms:[^:]*:[^:]*:alias/aws/.+", key))


def key_region(key: str) -> Optional[str]:
    match = re.fullmatch(r"arn:[^:]+:kms:([^:]+):[^:]*:.+", key)
    return match.group(1) if match else None


def resource_region(resource: Resource) -> Optional[str]:
    """The region a resource lives in: its own ``region`` input (pulumi-aws 7 has one on every resource),
    else its provider's ``region``.  Pulumi's unknown sentinel when that is unknown; None when neither
    says (a resource sent without its provider)."""
    own = resource.props.get("region")
    if isinstance(own, str) and own:
        return own
    provider = resource.provider_props or {}
    region = provider.get("region")
    return region if isinstance(region, str) and region else None


def secret_label(secret: Resource) -> str:
    name = secret.props.get("name")
    return name if isinstance(name, str) and name and not is_unknown(name) else secret.name


# --------------------------------------------------------------------------------------------
# Tags
# --------------------------------------------------------------------------------------------


def _default_tags(resource: Resource) -> Tuple[Dict[str, Any], bool]:
    """The provider's ``defaultTags.tags`` and whether they are known.

    The engine sends the provider's inputs with the resource (``providerResource.Inputs`` in
    pulumi/pkg/resource/deploy/step_generator.go); the SDKs send a provider's object-valued inputs as
    JSON strings (pulumi_aws/provider.py and pulumi_aws_native/provider.py: ``default_tags`` through
    ``pulumi.runtime.to_json``), and a value built from another resource's output as the unknown sentinel.
    """
    provider = resource.provider_props or {}
    default_tags = provider.get("defaultTags")
    if isinstance(default_tags, str) and not is_unknown(default_tags):
        try:
            default_tags = json.loads(default_tags)
        except ValueError:
            default_tags = None
    if default_tags is None:
        return {}, True
    if contains_unknown(default_tags) and not isinstance(default_tags, Mapping):
        return {}, False
    if not isinstance(default_tags, Mapping):
        return {}, True
    tags = default_tags.get("tags")
    if tags is None:
        return {}, True
    if is_unknown(tags) or not isinstance(tags, Mapping):
        return {}, not is_unknown(tags)
    return dict(tags), True


def _tag_list(value: Any) -> Tuple[Dict[str, Any], bool]:
    """aws-native's ``[{"key": k, "value": v}]`` as a map, and whether every key is known."""
    tags: Dict[str, Any] = {}
    known = True
    for item in value if isinstance(value, (list, tuple)) else ():
        key = item.get("key") if isinstance(item, Mapping) else None
        if not isinstance(key, str) or is_unknown(key):
            known = False
            continue
        tags[key] = item.get("value")
    return tags, known


def tag_view(resource: Resource) -> Tuple[Dict[str, Any], List[str]]:
    """The resource's tags over the provider's default tags (AWS applies both), and what of them is
    unknown (e.g. ``["the provider's default tags"]``).  A key whose value is unknown is present."""
    unknown = []
    tags, defaults_known = _default_tags(resource)
    if not defaults_known:
        unknown.append("the provider's default tags")
    if resource.type in SECRET_SHAPES and secret_shape(resource).tags_are_a_list:
        value = resource.props.get("tags")
        if is_unknown(value):
            unknown.append("the tags")
        else:
            listed, known = _tag_list(value)
            tags.update(listed)
            if not known:
                unknown.append("a tag's key")
        return tags, unknown
    for key in ("tagsAll", "tags"):
        value = resource.props.get(key)
        if is_unknown(value):
            if key == "tags":
                unknown.append("the tags")
            continue
        if isinstance(value, Mapping):
            tags.update(value)
    return tags, unknown
