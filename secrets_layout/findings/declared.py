"""`validate --policy-config`: the pack's rules that the declaration alone decides, before any preview.

The pack's checks (policies/catalog.py) take provider-shaped resources. `declared_resources`
builds the ones a secret's declaration decides (Secret, SecretPolicy, SecretRotation) with the
inputs the components give them (components/secret.py, through the same pure functions:
secret_tags, rotation_rules, secret_policy_for), and Pulumi's unknown sentinel for every value
the declaration does not decide (ARNs and IDs assigned by AWS, keys the layout creates). Every
rule the pack has for those types then runs as the pack runs it; a rule that needs an unknown
value raises CannotCheck and is left to the preview, so a finding here is one the preview (and
`pulumi preview`) reports too. tests/test_validate_policies.py shows the two agree.

Levels come from the policy config as the Pulumi CLI reconciles it (policy defaults, then the
file; secrets_layout.engine.pack_settings.reconcile_config); `disabled` policies do not run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

from secrets_layout.components.policy_documents import secret_policy_for
from secrets_layout.components.rotation_settings import (
    rotation_method,
    rotation_rules,
    sar_application_id,
    sar_exclude_characters,
)
from secrets_layout.components.secret_settings import excluded_characters, password_settings, secret_tags
from secrets_layout.declaration.loader import LoadedDeclaration
from secrets_layout.declaration.models import Declaration, Secret
from secrets_layout.errors import Issue, format_path, printable
from secrets_layout.findings.fields import (
    FixContext,
    Subject,
    author_message,
    inheriting_secret,
    locate_field,
    once_per_line,
)
from secrets_layout.policies.catalog import POLICIES
from secrets_layout.policies.findings import CannotCheck, Finding, NotApplicable
from secrets_layout.policies.checks.strength import RANDOM_PASSWORD, ROTATION_APPLICATION
from secrets_layout.policies.resources import SECRET, SECRET_POLICY, SECRET_ROTATION, Resource
from secrets_layout.repository import find_upwards

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""Pulumi's unknown string: what the engine sends for a value not known before deployment
(pulumi/sdk/python/lib/pulumi/runtime/rpc.py UNKNOWN; one of policies.resources.UNKNOWN_VALUES)."""

AUTO = "auto"
"""`--policy-config auto`: policies/config/<environment>.json of the declaration's repository."""
POLICY_CONFIG_FOLDER = ("policies", "config")


@dataclass(frozen=True)
class DeclaredResource:
    """A resource the components make for one secret, as the pack's rules see it."""

    resource: Resource
    secret_index: int


@dataclass(frozen=True, order=True)
class PolicyIssue(Issue):
    """A policy violation found in the declaration: an Issue with the policy and its level."""

    policy: str = ""
    level: str = "mandatory"

    def as_text(self) -> str:
        return (f"{printable(self.file)}:{self.line}:{self.column}: {self.path}: {self.level} {self.policy}: "
                f"{printable(self.message)}")


@dataclass
class PolicyFindings:
    config_file: str
    errors: list[PolicyIssue] = field(default_factory=list)
    """Mandatory violations: they block the pull request."""
    warnings: list[PolicyIssue] = field(default_factory=list)
    """Advisory (and remediate) violations: the preview reports them without failing."""


def _urn(declaration: Declaration, resource_type: str, name: str) -> str:
    return f"urn:pulumi:{declaration.environment}::secrets-layout::{resource_type}::{name}"


def _provider_props(declaration: Declaration) -> dict[str, Any]:
    # The explicit provider of components/providers.py, with its inputs as the SDK sends them: the
    # generated pulumi_aws/provider.py applies pulumi.runtime.to_json to list and object inputs.
    return {"region": declaration.primary_region, "allowedAccountIds": json.dumps([declaration.security_account])}


def declared_resources(declaration: Declaration) -> list[DeclaredResource]:
    """Secret, SecretPolicy and SecretRotation of every secret, as components/secret.py declares them.

    A secret being adopted (`adopt:`, step 1) is its live self: the Secret with the live settings,
    no policy of ours, and its live rotation only when `adopt.rotates` (ManagedSecret._adopt).
    """
    found = []
    provider = _provider_props(declaration)
    for index, secret in enumerate(declaration.secrets):
        secret_urn = _urn(declaration, SECRET, f"{secret.name}-secret")
        common = dict(provider_props=provider)
        adopting = secret.adopt is not None
        inputs = _adopted_secret_inputs(secret) if adopting else _secret_inputs(declaration, secret)
        found.append(DeclaredResource(Resource(
            SECRET, inputs, urn=secret_urn, name=f"{secret.name}-secret",
            protect=declaration.protects(secret), **common), index))
        if not adopting:
            found.append(DeclaredResource(Resource(
                SECRET_POLICY,
                {"secretArn": UNKNOWN, "policy": json.dumps(secret_policy_for(declaration, secret)), "blockPublicPolicy": True},
                urn=_urn(declaration, SECRET_POLICY, f"{secret.name}-policy"), name=f"{secret.name}-policy",
                property_dependencies={"secretArn": (secret_urn,)}, **common), index))
        method = rotation_method(secret)
        if method is not None and secret.rotation is not None and (not adopting or secret.adopt.rotates):
            lambda_arn = secret.rotation.lambda_arn if method == "lambda_arn" else UNKNOWN
            found.append(DeclaredResource(Resource(
                SECRET_ROTATION,
                {"secretId": UNKNOWN, "rotationLambdaArn": lambda_arn, "rotateImmediately": False,
                 "rotationRules": _camel(rotation_rules(secret.rotation))},
                urn=_urn(declaration, SECRET_ROTATION, f"{secret.name}-rotation"), name=f"{secret.name}-rotation",
                property_dependencies={"secretId": (secret_urn,)}, **common), index))
        found.extend(DeclaredResource(resource, index) for resource in _generators(declaration, secret, common))
    return found


def _generators(declaration: Declaration, secret: Secret, common: Mapping[str, Any]) -> list[Resource]:
    """What generates the secret's passwords: its RandomPassword (value.generate, components/secret.py)
    and AWS's rotation application of a managed rotation (with the excluded characters it is given,
    components/rotation_settings.managed_rotation_groups)."""
    generators = []
    if secret.value.generate is not None and secret.adopt is None:
        generators.append(Resource(
            RANDOM_PASSWORD, _camel(password_settings(secret)),
            urn=_urn(declaration, RANDOM_PASSWORD, f"{secret.name}-password"), name=f"{secret.name}-password",
            **common))
    rotation = secret.rotation
    if rotation is not None and rotation.enabled and rotation.managed is not None:
        excluded = sar_exclude_characters(excluded_characters(secret))
        generators.append(Resource(
            ROTATION_APPLICATION,
            {"applicationId": sar_application_id(rotation.managed),
             "parameters": {"excludeCharacters": excluded} if excluded else {}},
            urn=_urn(declaration, ROTATION_APPLICATION, f"{secret.name}-rotation-app"),
            name=f"{secret.name}-rotation-app", **common))
    return generators


def _adopted_secret_inputs(secret: Secret) -> dict[str, Any]:
    """What ManagedSecret._adopt registers: the live settings the declaration gives; the others are
    ignored changes, which the engine fills from the live secret on import (unknown here)."""
    adopt = secret.adopt
    assert adopt is not None
    inputs: dict[str, Any] = {"name": secret.name, "recoveryWindowInDays": secret.recovery_window_days}
    for field_name, key in (("kms_key_id", "kmsKeyId"), ("description", "description"), ("tags", "tags")):
        value = getattr(adopt, field_name)
        if value is not None:
            inputs[key] = dict(value) if isinstance(value, Mapping) else value
    if adopt.replicas is not None:
        inputs["replicas"] = [
            {"region": replica.region, **({"kmsKeyId": replica.kms_key_id} if replica.kms_key_id else {})}
            for replica in adopt.replicas
        ]
    return inputs


def _secret_inputs(declaration: Declaration, secret: Secret) -> dict[str, Any]:
    keys = declaration.kms.keys

    def key(region: str) -> str:
        return keys.get(region, UNKNOWN)  # a key the layout creates has its ARN only once it exists

    inputs: dict[str, Any] = {
        "name": secret.name,
        "kmsKeyId": key(declaration.primary_region),
        "recoveryWindowInDays": secret.recovery_window_days,
        "replicas": [{"region": region, "kmsKeyId": key(region)} for region in secret.replicas],
        "tags": secret_tags(secret, declaration.environment),
    }
    if secret.description is not None:
        inputs["description"] = secret.description
    return inputs


def _camel(values: Mapping[str, Any]) -> dict[str, Any]:
    """snake_case input names -> the provider's camelCase, as the SDK sends them."""
    def camel(name: str) -> str:
        head, *rest = name.split("_")
        return head + "".join(part.title() for part in rest)

    return {camel(name): value for name, value in values.items()}


# --------------------------------------------------------------------------------------------
# Running the pack's rules
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RawFinding:
    policy: str
    level: str
    resource: DeclaredResource
    finding: Finding


def run_rules(resources: Sequence[DeclaredResource], configured: Mapping[str, Mapping[str, Any]]) -> Iterator[RawFinding]:
    """Every enabled policy of the pack's catalog, resource policies per resource and stack policies
    over them all, as policies/pack.py runs them."""
    by_urn = {declared.resource.urn: declared for declared in resources}
    for policy in POLICIES:
        entry = configured.get(policy.name)
        if entry is None or entry["enforcementLevel"] == "disabled":
            continue
        level, config = entry["enforcementLevel"], entry["properties"]
        if policy.stack:
            try:
                verdict = policy.check([d.resource for d in resources if policy.applies_to(d.resource.type)], config)
            except NotApplicable:
                continue
            yield from (RawFinding(policy.name, level, by_urn[urn], finding)
                        for urn, finding in verdict.findings if urn in by_urn)
            continue
        for declared in resources:
            if not policy.applies_to(declared.resource.type):
                continue
            try:
                findings = policy.check(declared.resource, config)
            except (NotApplicable, CannotCheck):
                continue  # out of scope, or left to the preview: it depends on more than the declaration
            yield from (RawFinding(policy.name, level, declared, finding) for finding in findings)


def check_policies(loaded: LoadedDeclaration, configured: Mapping[str, Mapping[str, Any]], config_file: str) -> PolicyFindings:
    """Every violation the declaration alone decides, located at its field, with the YAML fix."""
    declaration, source_map = loaded.declaration, loaded.source_map
    findings = PolicyFindings(config_file)
    placed = []
    for raw in run_rules(declared_resources(declaration), configured):
        subject = Subject(raw.policy, raw.finding, raw.resource.resource.type, raw.resource.secret_index)
        located = locate_field(subject, declaration, source_map)
        assert located is not None  # every declared resource belongs to a secret
        context = FixContext(configured[raw.policy]["properties"], located.path, declaration, subject)
        placed.append((raw, located, context))
    # A rule broken under `defaults:` is reported once, at that line, for every secret inheriting it.
    keys = [((raw.policy, raw.level, located.position.file, located.position.line, located.position.column), context)
            for raw, located, context in placed]
    for group in once_per_line(keys):
        raw, located, context = placed[group[0]]
        inheriting = [name for index in group for name in [inheriting_secret(placed[index][2])] if name]
        issue = PolicyIssue(located.position.file or loaded.file, located.position.line, located.position.column,
                            format_path(source_map.local_path(located.path)),
                            author_message(context, inheriting if len(group) > 1 else None), raw.policy, raw.level)
        (findings.errors if raw.level == "mandatory" else findings.warnings).append(issue)
    findings.errors.sort()
    findings.warnings.sort()
    return findings


# --------------------------------------------------------------------------------------------
# The policy config
# --------------------------------------------------------------------------------------------

def find_policy_config(declaration_file: str | os.PathLike[str], environment: str) -> FilePath | None:
    """policies/config/<environment>.json in the declaration's folder or the nearest folder above it."""
    return find_in_repository(declaration_file, *POLICY_CONFIG_FOLDER, f"{environment}.json")


def find_in_repository(declaration_file: str | os.PathLike[str], *parts: str) -> FilePath | None:
    """The file `parts` in the declaration's folder or the nearest folder above it, up to the top
    of the declaration's git repository (never this package's own files, wherever it is installed)."""
    return find_upwards(FilePath(declaration_file).resolve().parent, *parts)


def reconciled_config(config_file: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """The file reconciled with the pack's policies as `pulumi preview --policy-pack-config` does.

    Raises secrets_layout.engine.pack_settings.PolicyConfigError.
    """
    from secrets_layout.engine.pack_settings import PolicyInfo, load_policy_config, reconcile_config

    infos = [PolicyInfo(policy.name, policy.description, policy.level, "stack" if policy.stack else "resource",
                        {"properties": dict(policy.config)} if policy.config else None)
             for policy in POLICIES]
    return reconcile_config(infos, load_policy_config(config_file))
