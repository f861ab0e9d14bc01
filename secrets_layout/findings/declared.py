"""`validate --policy-config`: the pack's rules that the declaration alone decides, before any preview.

The pack's checks (policies/catalog.py) take provider-shaped resources. `declared_resources` takes
the ones a secret's declaration decides (Secret, SecretPolicy, SecretRotation, and what generates its
values) from the layout's plan, the registrations the components make (components/plan/), with
Pulumi's unknown sentinel for every value the declaration does not decide (ARNs and IDs assigned by
AWS, keys the layout creates). Every rule the pack has for those types then runs as the pack runs it;
a rule that needs an unknown value raises CannotCheck and is left to the preview, so a finding here
is one the preview (and `pulumi preview`) reports too. tests/test_cli_validate_policies.py shows the
two agree.

Levels come from the policy config as the Pulumi CLI reconciles it (policy defaults, then the
file; secrets_layout.engine.policy_config.reconciled_config); `disabled` policies do not run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from secrets_layout.components.plan.builder import key_of
from secrets_layout.components.plan.derivations import DERIVATIONS
from secrets_layout.components.plan.layout import plan_layout
from secrets_layout.components.plan.model import Derived, FromConfig, Plan, Ref, Secret
from secrets_layout.components.plan.rotation import ROTATION_CODE_DIRECTORY
from secrets_layout.components.plan.secret import MANAGED_SECRET
from secrets_layout.declaration.loader import LoadedDeclaration
from secrets_layout.declaration.models import Declaration
from secrets_layout.errors import PolicyIssue, format_path
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

PROJECT = "secrets-layout"
"""The Pulumi project the layout is deployed as (Pulumi.yaml's name; programs.PROJECT)."""
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""Pulumi's unknown string: what the engine sends for a value not known before deployment
(pulumi/sdk/python/lib/pulumi/runtime/rpc.py UNKNOWN; one of policies.resources.UNKNOWN_VALUES)."""

AUTO = "auto"
"""`--policy-config auto`: policies/config/<environment>.json of the declaration's repository."""


@dataclass(frozen=True)
class DeclaredResource:
    """A resource the components make for one secret, as the pack's rules see it."""

    resource: Resource
    secret_index: int


@dataclass
class PolicyFindings:
    config_file: str
    errors: list[PolicyIssue] = field(default_factory=list)
    """Mandatory violations: they block the pull request."""
    warnings: list[PolicyIssue] = field(default_factory=list)
    """Advisory (and remediate) violations: the preview reports them without failing."""


JUDGED_TYPES = frozenset({SECRET, SECRET_POLICY, SECRET_ROTATION, RANDOM_PASSWORD, ROTATION_APPLICATION})
"""What the declaration decides of a secret: its Secret, policy, rotation and what generates its values."""


def declared_resources(declaration: Declaration) -> list[DeclaredResource]:
    """The layout's resources of `JUDGED_TYPES`, from its plan (components/plan/layout.py, what the
    components register), with the inputs the plan decides and Pulumi's unknown for the others (a
    reference to another resource's output: an ARN, an ID, a key the layout creates), each with the
    secret it belongs to. A rotation application serves every secret of its group: it belongs to the
    first, whose rotation waits for it."""
    plan = plan_layout(declaration.environment, declaration, rotation_code_directory=ROTATION_CODE_DIRECTORY)
    urns = plan.urns(project=PROJECT, stack=declaration.environment)
    protection = plan.protection()
    by_key = plan.by_key()
    owners = _owning_secrets(declaration, plan)
    found = []
    for registration in plan.registrations:
        if registration.type not in JUDGED_TYPES or registration.key not in owners:
            continue
        provider = by_key[registration.provider].inputs if registration.provider is not None else None
        found.append(DeclaredResource(Resource(
            registration.type, {name: _static(value) for name, value in registration.inputs.items()},
            urn=urns[registration.key], name=registration.name, protect=bool(protection[registration.key]),
            property_dependencies={name: tuple(dict.fromkeys(urns[key] for key in _referenced(value)))
                                   for name, value in registration.inputs.items()},
            provider_props=_provider_config(provider) if provider is not None else None), owners[registration.key]))
    return found


def _owning_secrets(declaration: Declaration, plan: Plan) -> dict[str, int]:
    """Plan key -> index of the secret it belongs to: the parts of each ManagedSecret (named after the
    secret), and the parts of a rotation application to the first secret whose rotation waits for it."""
    index_of = {key_of(MANAGED_SECRET, secret.name): index for index, secret in enumerate(declaration.secrets)}
    children: dict[str, list[str]] = {}
    for registration in plan.registrations:
        if registration.parent is not None:
            children.setdefault(registration.parent, []).append(registration.key)
    owners: dict[str, int] = {}
    for registration in plan.registrations:
        if registration.parent in index_of:
            owners[registration.key] = index_of[registration.parent]
            for waited_for in registration.options.depends_on:
                for part in children.get(waited_for, ()):
                    owners.setdefault(part, index_of[registration.parent])
    return owners


def _static(value: Any) -> Any:
    """A plan value as the declaration alone decides it: a reference (or what is computed from one) is
    unknown, a secret is unknown (the pack sees its envelope, never its value here)."""
    if isinstance(value, (Ref, Secret, FromConfig)):
        return UNKNOWN
    if isinstance(value, Derived):
        return UNKNOWN if _referenced(value) else DERIVATIONS[value.function](*value.arguments)
    if isinstance(value, Mapping):
        return {key: _static(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_static(item) for item in value]
    return value


def _referenced(value: Any) -> list[str]:
    """Keys of the registrations a value refers to."""
    if isinstance(value, Ref):
        return [value.key]
    if isinstance(value, Derived):
        return _referenced(value.arguments)
    if isinstance(value, Secret):
        return _referenced(value.value)
    if isinstance(value, Mapping):
        return [key for item in value.values() for key in _referenced(item)]
    if isinstance(value, (list, tuple)):
        return [key for item in value for key in _referenced(item)]
    return []


def _provider_config(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The provider's config as the engine gets it: the AWS provider class sends every value that is not
    a string as JSON (pulumi_aws/provider.py applies pulumi.runtime.to_json; engine/sdk_classes.py)."""
    return {name: value if isinstance(value, str) else json.dumps(value) for name, value in inputs.items()}


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
