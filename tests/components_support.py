"""Helpers for the mock-engine tests of components/ and __main__.py.

Everything runs on secrets_layout.engine.simulation (the SDK's mock engine): no Pulumi CLI, no AWS.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pulumi
import yaml

from secrets_layout.declaration.models import Declaration
from secrets_layout.engine.recorded_values import RegisteredResource, SecretValue, Simulation, mask
from secrets_layout.engine.simulation import simulate

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "__main__.py"
PROJECT = "secrets-layout"
SECURITY_ACCOUNT = "111111111111"

LAYOUT = "secrets-layout:layout:SecretsLayout"
REGIONAL_KEY = "secrets-layout:kms:RegionalKey"
MANAGED_SECRET = "secrets-layout:secret:ManagedSecret"
MANAGED_ROTATION_APP = "secrets-layout:rotation:ManagedRotationApp"
BUNDLED_FUNCTION = "secrets-layout:rotation:BundledRotationFunction"
CONSUMER_GRANTS = "secrets-layout:consumer:ConsumerGrants"
PARAMETER_SET = "secrets-layout:parameters:ParameterSet"
PROVIDER = "pulumi:providers:aws"
KMS_KEY = "aws:kms/key:Key"
KMS_ALIAS = "aws:kms/alias:Alias"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"
SECRET_ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
SAR_STACK = "aws:serverlessrepository/cloudFormationStack:CloudFormationStack"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
FUNCTION = "aws:lambda/function:Function"
PERMISSION = "aws:lambda/permission:Permission"
PARAMETER = "aws:ssm/parameter:Parameter"

# Secret config each example stack needs (`pulumi config set --secret NAME`); fake values.
SECRET_CONFIG: dict[str, dict[str, str]] = {
    "dev": {"stripeApiKey": "sk_test_dev_value"},
    "staging": {"stripeApiKey": "sk_test_staging_value", "crmOauthClient": '{"client_id": "c", "client_secret": "s"}'},
    "prod": {"stripeApiKey": "sk_live_prod_value", "sendgridApiKey": "SG.prod_value"},
    "shared-services": {"pagerdutyApiKey": "pd_shared_value"},
}


def stack_config(stack: str) -> dict[str, str]:
    """The plain (non-secret) config of Pulumi.<stack>.yaml ({} for a stack without one)."""
    path = ROOT / f"Pulumi.{stack}.yaml"
    if not path.exists():
        return {}
    document = yaml.safe_load(path.read_text()) or {}
    return {key: value for key, value in (document.get("config") or {}).items() if isinstance(value, str)}


def run_program(
    stack: str,
    *,
    config: Mapping[str, str] | None = None,
    secret_config: Mapping[str, str] | None = None,
    mode: str = "up",
) -> Simulation:
    """__main__.py itself under the mock engine, with the stack's config file ("preview": a dry run)."""
    return simulate(
        PROGRAM,
        project=PROJECT,
        stack=stack,
        config={**stack_config(stack), **(config or {})},
        secret_config=SECRET_CONFIG.get(stack, {}) if secret_config is None else secret_config,
        mode=mode,
    )


def run_components(body: Callable[[], Any], *, stack: str = "test", secret_config: Mapping[str, str] | None = None) -> Simulation:
    return simulate(body, project=PROJECT, stack=stack, secret_config=secret_config)


def declaration(**fields: Any) -> Declaration:
    """A Declaration with the usual security account and region unless overridden."""
    base: dict[str, Any] = {
        "environment": "test",
        "security_account": SECURITY_ACCOUNT,
        "primary_region": "us-east-1",
        "accounts": {"app": "222222222222"},
    }
    return Declaration.model_validate({**base, **fields})


def urn_name(urn: str | None) -> str | None:
    return urn.rsplit("::", 1)[-1] if urn else None


def tree(run: Simulation) -> set[tuple[str, str, str | None]]:
    """Every registration as (type, name, parent's name)."""
    return {(resource.type, resource.name, urn_name(resource.parent)) for resource in run.resources}


def type_counts(run: Simulation) -> Counter[str]:
    return Counter(resource.type for resource in run.resources)


def secret_tree(
    name: str, *, parent: str, generated: bool = False, version: bool = False, rotation: bool = False,
    adopting: bool = False,
) -> set[tuple[str, str, str | None]]:
    """What one ManagedSecret registers (while `adopting`, no policy of its own yet)."""
    nodes = {
        (MANAGED_SECRET, name, parent),
        (SECRET, f"{name}-secret", name),
    }
    if not adopting:
        nodes.add((SECRET_POLICY, f"{name}-policy", name))
    if generated:
        nodes.add((RANDOM_PASSWORD, f"{name}-password", name))
    if version or generated:
        nodes.add((SECRET_VERSION, f"{name}-version", name))
    if rotation:
        nodes.add((SECRET_ROTATION, f"{name}-rotation", name))
    return nodes


def key_tree(name: str, *, parent: str) -> set[tuple[str, str, str | None]]:
    return {(REGIONAL_KEY, name, parent), (KMS_KEY, f"{name}-key", name), (KMS_ALIAS, f"{name}-alias", name)}


def managed_app_tree(name: str, *, parent: str, replica_keys: bool = False) -> set[tuple[str, str, str | None]]:
    """What one ManagedRotationApp registers; with replicas, the policy for their keys on its role."""
    nodes = {(MANAGED_ROTATION_APP, name, parent), (SAR_STACK, f"{name}-app", name)}
    if replica_keys:
        nodes.add((ROLE_POLICY, f"{name}-replica-keys", name))
    return nodes


def bundled_tree(name: str, *, parent: str, vpc: bool = False) -> set[tuple[str, str, str | None]]:
    nodes = {
        (BUNDLED_FUNCTION, name, parent),
        (ROLE, f"{name}-role", name),
        (ROLE_POLICY, f"{name}-policy", name),
        (ROLE_POLICY_ATTACHMENT, f"{name}-logs", name),
        (FUNCTION, f"{name}-function", name),
        (PERMISSION, f"{name}-permission", name),
    }
    if vpc:
        nodes.add((ROLE_POLICY_ATTACHMENT, f"{name}-vpc-access", name))
    return nodes


def policy_of(resource: RegisteredResource, key: str = "policy") -> dict[str, Any]:
    return json.loads(resource.inputs[key])


def planned_changes(before: Simulation, after: Simulation) -> dict[str, set[str]]:
    """What the engine would update between two deploys: changed input properties by URN.

    Like the engine, properties listed in the resource's ignore_changes keep their old input
    value and so never count as changes (top-level property names only, which is all this
    layout uses). Resources added or removed are reported with the marker '<created>' or
    '<deleted>'.
    """
    old = before.by_urn()
    new = after.by_urn()
    changes: dict[str, set[str]] = {}
    for urn in old.keys() | new.keys():
        if urn not in old:
            changes[urn] = {"<created>"}
            continue
        if urn not in new:
            changes[urn] = {"<deleted>"}
            continue
        ignored = set(new[urn].ignore_changes)
        keys = (old[urn].inputs.keys() | new[urn].inputs.keys()) - ignored
        changed = {key for key in keys if _reveal(old[urn].inputs.get(key)) != _reveal(new[urn].inputs.get(key))}
        if changed:
            changes[urn] = changed
    return changes


def _reveal(value: Any) -> Any:
    """Plain comparable data: secrets unwrapped, assets and archives by content (as the engine
    compares them: by hash)."""
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": {name: _reveal(asset) for name, asset in value.assets.items()}}
    if isinstance(value, pulumi.FileAsset):
        return {"asset": hashlib.sha256(Path(value.path).read_bytes()).hexdigest()}
    if isinstance(value, SecretValue):
        return _reveal(value.reveal())
    if isinstance(value, dict):
        return {key: _reveal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_reveal(item) for item in value]
    return value


def recorded_text(run: Simulation) -> str:
    """Everything recorded, secrets masked, as one string: to search for leaked values."""
    return json.dumps(
        {
            "resources": [
                {"urn": r.urn, "inputs": mask(r.inputs), "outputs": mask(r.outputs)} for r in run.resources
            ],
            "outputs": mask(run.outputs),
        },
        default=repr,
    )


def names_of(resources: Iterable[RegisteredResource]) -> list[str]:
    return sorted(resource.name for resource in resources)
