"""The CrossGuard policies: the rules of ``policies.rules`` wrapped as pulumi_policy policies.

Only ``policies/__main__.py`` builds the ``PolicyPack`` (its constructor serves forever); this module
just makes the list of policies, so it can be imported and inspected in tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable, Dict, List, Optional, Sequence

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

from . import rules
from .rules import CannotCheck, NotApplicable, Resource

PACK_NAME = "secrets-layout"
PACK_DESCRIPTION = ("AWS Secrets Manager rules of the organisation: naming, recovery window, rotation, customer "
                    "managed keys, resource policies, tags and protection.")

MANDATORY, ADVISORY = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY

_ENVIRONMENT = {
    "type": "string",
    "pattern": "^[a-z0-9][a-z0-9-]{0,62}$",
    "description": "The environment this stack deploys (lowercase slug, the first segment of every secret name).",
}
_ACCOUNTS = {
    "type": "array",
    "items": {"type": "string", "pattern": "^[0-9]{12}$"},
    "uniqueItems": True,
    "minItems": 1,
    "description": "12-digit AWS account IDs that may be granted access: the environment's accounts and the "
                   "security account.",
}
_REGIONS = {
    "type": "array",
    "items": {"type": "string", "pattern": "^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$"},
    "uniqueItems": True,
    "minItems": 1,
    "description": "AWS regions secrets may live in or be replicated to.",
}

# name -> (description, default enforcement level, config schema properties)
CATALOG: Dict[str, tuple] = {
    "secret-name-convention": (
        "Secret names follow <environment>/<service>/<name>: lowercase [a-z0-9-] segments, the first one the "
        "environment, and no -XXXXXX suffix.",
        MANDATORY, {"environment": _ENVIRONMENT}),
    "secret-recovery-window": (
        "Secrets keep a recovery window: set, not 0 (force delete), at least minimumDays and at most 30 days.",
        MANDATORY, {"minimumDays": {"type": "integer", "minimum": 7, "maximum": 30, "default": 7,
                                    "description": "Shortest recovery window accepted, in days (7-30)."}}),
    "secret-rotation-required": (
        "Every secret has an enabled SecretRotation, unless its kind tag is generic or a rotation-exempt tag gives "
        "the reason.",
        MANDATORY, None),
    "secret-rotation-max-interval": (
        "Secrets rotate at least every maximumDays days; rate() and cron() schedules are judged by the longest gap "
        "between two runs.",
        MANDATORY, {"maximumDays": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 90,
                                    "description": "Longest interval accepted between two rotations, in days."}}),
    "secret-customer-managed-key": (
        "Secrets are encrypted with a customer managed KMS key, not the AWS managed key aws/secretsmanager.",
        MANDATORY, None),
    "secret-replica-customer-managed-key": (
        "Every replica of a secret names its own customer managed KMS key in the replica's region.",
        MANDATORY, None),
    "secret-policy-no-public-access": (
        "Secret resource policies never allow everyone without an organization or account condition, and "
        "block_public_policy is true.",
        MANDATORY, None),
    "secret-policy-allowed-accounts": (
        "Secret resource policies only grant to principals of the allowed accounts.",
        MANDATORY, {"allowedAccounts": _ACCOUNTS}),
    "secret-policy-deny-outside": (
        "Secret resource policies explicitly deny principals outside the organization or the allowed accounts.",
        ADVISORY, None),
    "secret-required-tags": (
        "Secrets carry the required tags, and their environment tag is the environment the pack is configured for.",
        MANDATORY, {"requiredTags": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 128},
                                     "uniqueItems": True, "default": list(rules.DEFAULT_REQUIRED_TAGS),
                                     "description": "Tag keys every secret must carry."},
                    "environment": _ENVIRONMENT}),
    "secret-protected": (
        "Secrets carry the protect resource option, so that pulumi destroy or a rename cannot delete them.",
        MANDATORY, None),
    "kms-key-rotation-enabled": (
        "KMS keys have automatic key rotation enabled.",
        MANDATORY, None),
    "secret-replica-regions-allowed": (
        "Secrets are only replicated to the allowed regions.",
        ADVISORY, {"allowedRegions": _REGIONS}),
    "kms-key-policy-no-public-access": (
        "KMS key policies never allow everyone (\"*\" or NotPrincipal) without a condition.",
        MANDATORY, None),
    "kms-key-not-pending-deletion": (
        "KMS keys are not pending deletion (a deleted key makes every secret it encrypts unreadable).",
        MANDATORY, None),
    "secret-region-allowed": (
        "Secrets live in an allowed region (their own or their provider's region).",
        ADVISORY, {"allowedRegions": _REGIONS}),
    "secret-replica-no-force-overwrite": (
        "Secrets do not set force_overwrite_replica_secret, which overwrites an existing secret in a replica region.",
        ADVISORY, None),
}


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


def _resource_validation(name: str, types: Sequence[str], rule: Callable) -> Callable:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in types:
            return
        resource = _resource(args.resource_type, args.props, args.urn, args.name, args.opts, args.provider)
        try:
            messages = rule(resource, args.get_config() or {})
        except NotApplicable as error:
            args.not_applicable(error.reason)
            return
        except CannotCheck as error:
            raise CannotCheckDuringPreview(error.message) from None
        for message in messages:
            report_violation(message, None)

    validate.__name__ = "validate_" + name.replace("-", "_")
    return validate


def _stack_validation(name: str, rule: Callable) -> Callable:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = []
        for r in args.resources:
            resource = _resource(r.resource_type, r.props, r.urn, r.name, r.opts, r.provider)
            resource.dependencies = tuple(d.urn for d in r.dependencies)
            resource.property_dependencies = {k: tuple(d.urn for d in v) for k, v in r.property_dependencies.items()}
            resources.append(resource)
        try:
            violations, undecided = rule(resources, args.get_config() or {})
        except NotApplicable as error:
            args.not_applicable(error.reason)
            return
        for urn, message in violations:
            report_violation(message, urn)
        if undecided:
            raise CannotCheckDuringPreview(undecided)

    validate.__name__ = "validate_" + name.replace("-", "_")
    return validate


def _schema(properties: Optional[dict]) -> Optional[PolicyConfigSchema]:
    return PolicyConfigSchema(properties=properties) if properties else None


def build_policies() -> List[Policy]:
    """Every policy of the catalog, in catalog order."""
    policies: List[Policy] = []
    for name, (description, level, schema) in CATALOG.items():
        if name in rules.STACK_RULES:
            policies.append(StackValidationPolicy(
                name=name, description=description, enforcement_level=level, config_schema=_schema(schema),
                validate=_stack_validation(name, rules.STACK_RULES[name])))
        else:
            types, rule = rules.RESOURCE_RULES[name]
            policies.append(ResourceValidationPolicy(
                name=name, description=description, enforcement_level=level, config_schema=_schema(schema),
                validate=_resource_validation(name, types, rule)))
    return policies
