"""The CrossGuard policies: each definition of ``policies.catalog`` wrapped as a pulumi_policy policy.

Only ``policies/__main__.py`` builds the ``PolicyPack`` (its constructor serves forever); this module
just makes the list of policies, so it can be imported and inspected in tests. A check's findings
become violations with the finding's message (what, why, fix).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable, List, Optional

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, _DictProxy, _ListProxy

from .catalog import POLICIES
from .definition import PolicyDefinition
from .findings import CannotCheck, NotApplicable
from .resources import Resource

PACK_NAME = "secrets-layout"
PACK_DESCRIPTION = ("AWS Secrets Manager rules of the organisation: naming, recovery window, rotation, customer "
                    "managed keys, resource policies, tags and protection.")

LEVELS = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}


class CannotCheckDuringPreview(UnknownValueError):
    """Raised to pulumi_policy, which reports it as an advisory diagnostic instead of a violation."""

    def __init__(self, message: str) -> None:  # pylint: disable=super-init-not-called
        Exception.__init__(self, message)
        self.unknown_type_sentinel = UNKNOWN_STRING_VALUE
        self.props: List[str] = []
        self.message = message


def to_plain(value: Any) -> Any:
    """pulumi_policy's unknown-checking proxies -> plain dicts/lists, unknowns kept as sentinels."""
    kind = type(value)
    if kind is _DictProxy or kind is _ListProxy:
        value = value["__target"]
        kind = type(value)
    if kind is dict:
        return {key: to_plain(item) for key, item in value.items()}
    if kind is list:
        return [to_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: to_plain(value[key]) for key in value}
    if isinstance(value, (list, tuple)):
        return [to_plain(item) for item in value]
    return value


def _resource(resource_type: str, props: Any, urn: str, name: str, opts: Any, provider: Any) -> Resource:
    return Resource(
        type=resource_type,
        props=to_plain(props) or {},
        urn=urn,
        name=name,
        protect=bool(getattr(opts, "protect", False)),
        provider_props=to_plain(provider.props) if provider is not None else None,
        provider_urn=(getattr(provider, "urn", "") or "") if provider is not None else "",
    )


def _resource_validation(policy: PolicyDefinition) -> Callable:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if not policy.applies_to(args.resource_type):
            return
        resource = _resource(args.resource_type, args.props, args.urn, args.name, args.opts, args.provider)
        try:
            findings = policy.check(resource, args.get_config() or {})
        except NotApplicable as error:
            args.not_applicable(error.reason)
            return
        except CannotCheck as error:
            raise CannotCheckDuringPreview(error.message) from None
        for finding in findings:
            report_violation(finding.message, None)

    validate.__name__ = "validate_" + policy.name.replace("-", "_")
    return validate


def _stack_validation(policy: PolicyDefinition) -> Callable:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = []
        for r in args.resources:
            if not policy.applies_to(r.resource_type):
                continue
            resource = _resource(r.resource_type, r.props, r.urn, r.name, r.opts, r.provider)
            resource.dependencies = tuple(d.urn for d in r.dependencies)
            resource.property_dependencies = {k: tuple(d.urn for d in v) for k, v in r.property_dependencies.items()}
            resources.append(resource)
        try:
            verdict = policy.check(resources, args.get_config() or {})
        except NotApplicable as error:
            args.not_applicable(error.reason)
            return
        for urn, finding in verdict.findings:
            report_violation(finding.message, urn)
        if verdict.undecided:
            raise CannotCheckDuringPreview(verdict.undecided)

    validate.__name__ = "validate_" + policy.name.replace("-", "_")
    return validate


def _schema(properties: Optional[Mapping[str, Any]]) -> Optional[PolicyConfigSchema]:
    return PolicyConfigSchema(properties=dict(properties)) if properties else None


def build_policies() -> List[Policy]:
    """Every policy of the catalog, in catalog order."""
    policies: List[Policy] = []
    for policy in POLICIES:
        kind = StackValidationPolicy if policy.stack else ResourceValidationPolicy
        built = kind(
            name=policy.name, description=policy.description, enforcement_level=LEVELS[policy.level],
            config_schema=_schema(policy.config),
            validate=(_stack_validation if policy.stack else _resource_validation)(policy))
        # What its validation looks at: for another type it returns at once (see above), so the preview's
        # pack host gives it only these (secrets_layout/engine/pack_host.py, JUDGED_TYPES).
        built.resource_types = frozenset(policy.resource_types)
        policies.append(built)
    return policies
