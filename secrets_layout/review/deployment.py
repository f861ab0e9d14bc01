"""What the access of each secret depends on, read from one deployment's registered resources.

A secret (aws or aws-native) with its ARN, account and the key of each of its regions (primary and
replicas, as `kmsKeyId`s); its resource policy (a SecretPolicy or aws-native ResourcePolicy naming it,
else the Secret's own inline `policy`); its rotation function; and every KMS key with its policy (a
separate KeyPolicy wins over the key's own), found by ID, ARN or alias (`aws:kms/alias:Alias`). A secret
without `kmsKeyId` (or naming `alias/aws/secretsmanager`) uses the AWS managed key. ARNs the simulation
does not give are built in the deployment's account. Pure: resources in, places out.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from secrets_layout.engine.recorded_values import RegisteredResource, SecretValue
from secrets_layout.policies.resource_policy import account_of
from secrets_layout.policies.resources import (
    KMS_KEY_POLICY,
    KMS_KEYS,
    NATIVE_KMS_KEY,
    NATIVE_RESOURCE_POLICY,
    NATIVE_ROTATION_SCHEDULE,
    NATIVE_SECRET,
    SECRET,
    SECRET_POLICY,
    SECRET_ROTATION,
)

ALIAS = "aws:kms/alias:Alias"
AWS_MANAGED_KEY = "alias/aws/secretsmanager"


@dataclass(frozen=True)
class SecretPlace:
    """A secret as deployed: its name, ARN, account, and the key of each region (primary first)."""

    name: str
    arn: str
    account: str
    keys: tuple[tuple[str, str | None], ...]
    """(region, key reference as the secret gives it; None for the AWS managed key)."""
    policy: Any = None
    rotation_lambda: str | None = None

    def arn_in(self, region: str) -> str:
        parts = self.arn.split(":", 5)
        return ":".join([*parts[:3], region, *parts[4:]]) if len(parts) == 6 else self.arn


@dataclass(frozen=True)
class KeyPlace:
    arn: str
    policy: Any

    @cached_property
    def policy_text(self) -> Any:
        """`policy_text(policy)`, made once per key: a key policy names every reader of every secret it
        encrypts (tens of kilobytes at 1,000 secrets), and every secret of its region reads it."""
        return policy_text(self.policy)

    @cached_property
    def policy_digest(self) -> str:
        """`digest(policy_text)`: what a secret's access inputs hold of its key, once per key."""
        return digest(self.policy_text)


def policy_text(document: Any) -> Any:
    """A policy document given as a mapping (aws-native's `keyPolicy`, a program's dict) as JSON text with
    sorted keys; text (and anything else) as it is."""
    return json.dumps(document, sort_keys=True, default=str) if isinstance(document, Mapping) else document


def digest(value: Any) -> str:
    """SHA-256 of plain data (tuples as lists) as canonical JSON. A hidden value (`SecretValue`, in the
    preview a digest already) counts by its content; any other object by its type and repr."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=_opaque)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _opaque(value: Any) -> Any:
    if isinstance(value, SecretValue):
        return {"hidden": value.reveal()}
    return f"{type(value).__module__}.{type(value).__qualname__}: {value!r}"


@dataclass
class Deployment:
    """What access depends on, read from one deployment's resources."""

    secrets: list[SecretPlace] = field(default_factory=list)
    keys: dict[str, KeyPlace] = field(default_factory=dict)
    """By every name a secret may give the key: its ID, its ARN, its aliases."""

    def key_for(self, reference: str | None) -> KeyPlace | None:
        if reference is None:
            return None
        return self.keys.get(reference) or self.keys.get(reference.rsplit(":", 1)[-1])


def read_deployment(resources: Sequence[RegisteredResource], account: str) -> Deployment:
    by_urn = {resource.urn: resource for resource in resources}
    deployment = Deployment()
    policies, rotations, key_policies = {}, {}, {}
    for resource in resources:
        inputs = resource.inputs
        if resource.type in (SECRET_POLICY, NATIVE_RESOURCE_POLICY):
            reference = inputs.get("secretArn") or inputs.get("secretId")
            policies[reference] = inputs.get("policy") if resource.type == SECRET_POLICY else inputs.get("resourcePolicy")
        elif resource.type in (SECRET_ROTATION, NATIVE_ROTATION_SCHEDULE):
            rotations[inputs.get("secretId")] = inputs.get("rotationLambdaArn")
        elif resource.type == KMS_KEY_POLICY:
            key_policies[inputs.get("keyId")] = inputs.get("policy")
    for resource in resources:
        if resource.type in KMS_KEYS or resource.type == NATIVE_KMS_KEY:
            region = _region(resource, by_urn)
            key_id = resource.id or resource.name
            arn = key_id if key_id.startswith("arn:") else f"arn:aws:kms:{region}:{account}:key/{key_id}"
            policy = key_policies.get(key_id, key_policies.get(arn,
                                      resource.inputs.get("keyPolicy" if resource.type == NATIVE_KMS_KEY else "policy")))
            place = KeyPlace(arn, policy)
            deployment.keys.update({key_id: place, arn: place})
    for resource in resources:
        if resource.type == ALIAS:
            target = deployment.key_for(resource.inputs.get("targetKeyId"))
            name = resource.inputs.get("name")
            if target is not None and isinstance(name, str):
                deployment.keys[name] = target
    for resource in resources:
        if resource.type in (SECRET, NATIVE_SECRET):
            deployment.secrets.append(_secret_place(resource, by_urn, account, policies, rotations))
    return deployment


def _secret_place(resource: RegisteredResource, by_urn: Mapping[str, RegisteredResource], account: str,
                  policies: Mapping[Any, Any], rotations: Mapping[Any, Any]) -> SecretPlace:
    inputs = resource.inputs
    name = inputs.get("name") if isinstance(inputs.get("name"), str) else resource.name
    region = _region(resource, by_urn)
    arn = resource.id if (resource.id or "").startswith("arn:") else (
        f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-??????")
    replicas = inputs.get("replicas" if resource.type == SECRET else "replicaRegions") or []
    keys = [(region, _key_reference(inputs.get("kmsKeyId")))]
    keys += [(replica.get("region"), _key_reference(replica.get("kmsKeyId"))) for replica in replicas
             if isinstance(replica, Mapping) and isinstance(replica.get("region"), str)]
    references = (arn, resource.id, name, resource.urn)
    policy = next((policies[reference] for reference in references if reference in policies), inputs.get("policy")
                  if resource.type == SECRET else None)
    rotation = next((rotations[reference] for reference in references if reference in rotations), None)
    return SecretPlace(name, arn, account_of(arn) or account, tuple(keys), policy,
                       rotation if isinstance(rotation, str) else None)


def _key_reference(value: Any) -> str | None:
    if not isinstance(value, str) or not value or value in (AWS_MANAGED_KEY,) or value.endswith(":" + AWS_MANAGED_KEY):
        return None
    return value


def _region(resource: RegisteredResource, by_urn: Mapping[str, RegisteredResource]) -> str:
    own = resource.inputs.get("region")
    if isinstance(own, str) and own:
        return own
    provider = by_urn.get(resource.provider or "")
    region = provider.inputs.get("region") if provider is not None else None
    if isinstance(region, str) and region:
        return region
    match = re.fullmatch(r"arn:[^:]+:[^:]+:([^:]+):.*", resource.id or "")
    return match.group(1) if match else "us-east-1"
