"""The organisation's rules as pure functions: one small function per policy.

A resource rule takes a :class:`Resource` (plain dict properties, the provider's camelCase input
names) and the policy's config, and returns the violation messages (``[]`` when it passes).  The stack
rule takes every resource and returns ``(urn, message)`` pairs.  Rules raise :class:`NotApplicable`
when a required config key is missing and :class:`CannotCheck` when a value they need is unknown
(a real ``pulumi preview`` of resources that do not exist yet); ``policies.pack`` turns these into
what the Pulumi CLI shows (not applicable / an advisory "cannot check during preview").

Each message says what is wrong, why it matters and how to fix it.  Nothing here imports Pulumi.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .resource_policy import (
    PolicyDocumentError,
    allow_principal_accounts,
    find_deny_outside,
    parse_policy,
    public_grants,
)
from .schedule import ScheduleError, format_days, longest_gap_details, secrets_manager_problems

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

DEFAULT_MINIMUM_RECOVERY_DAYS = 7
MAXIMUM_RECOVERY_DAYS = 30          # AWS's upper bound
# RotationRules.AutomaticallyAfterDays accepts 1-1000 (Secrets Manager API reference, RotationRulesType:
# https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotationRulesType.html).
MAXIMUM_AUTOMATIC_DAYS = 1000
DEFAULT_MAXIMUM_ROTATION_DAYS = 90
DEFAULT_REQUIRED_TAGS = ("owner", "environment")
ROTATION_EXEMPT_TAG = "rotation-exempt"

_SEGMENT_RE = re.compile(r"[a-z0-9-]+", re.ASCII)
_RANDOM_SUFFIX_RE = re.compile(r"-[A-Za-z0-9]{6}", re.ASCII)


class NotApplicable(Exception):
    """The policy cannot run: a config key it needs is missing, or the resource is out of scope."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CannotCheck(Exception):
    """A value the rule needs is unknown until the resources exist (a preview on a fresh stack)."""

    def __init__(self, what: str) -> None:
        message = f"cannot check during preview: {what}; the policy runs again during `pulumi up` when it is known"
        super().__init__(message)
        self.message = message
        self.what = what


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


# --------------------------------------------------------------------------------------------
# Helpers
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


def _whole_number(value: Any) -> Optional[int]:
    """An int for 7 or 7.0 (protobuf Structs carry numbers as floats), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if value != value or value in (float("inf"), float("-inf")) or value != int(value):
        return None
    return int(value)


def _config_int(config: Mapping[str, Any], key: str, default: int) -> int:
    value = _whole_number(config.get(key, default))
    return default if value is None else value


def _show(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else f'"{value}"'


def _is_aws_managed_key(key: str) -> bool:
    """``alias/aws/secretsmanager`` and its ARN form (any ``alias/aws/...`` is AWS managed)."""
    return key.startswith("alias/aws/") or bool(re.fullmatch(r"arn:[^:]+:kms:[^:]*:[^:]*:alias/aws/.+", key))


def _key_region(key: str) -> Optional[str]:
    match = re.fullmatch(r"arn:[^:]+:kms:([^:]+):[^:]*:.+", key)
    return match.group(1) if match else None


def _default_tags(resource: Resource) -> Tuple[Dict[str, Any], bool]:
    """The provider's ``defaultTags.tags`` and whether they are known.

    The engine sends the provider's inputs with the resource (``providerResource.Inputs`` in
    pulumi/pkg/resource/deploy/step_generator.go); the SDKs send a provider's object-valued inputs as
    JSON strings, and a value built from another resource's output as the unknown sentinel.
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


def tag_view(resource: Resource) -> Tuple[Dict[str, Any], List[str]]:
    """The resource's tags over the provider's default tags (AWS applies both), and what of them is
    unknown (e.g. ``["the provider's default tags"]``).  A key whose value is unknown is present."""
    unknown = []
    tags, defaults_known = _default_tags(resource)
    if not defaults_known:
        unknown.append("the provider's default tags")
    for key in ("tagsAll", "tags"):
        value = resource.props.get(key)
        if is_unknown(value):
            if key == "tags":
                unknown.append("the tags")
            continue
        if isinstance(value, Mapping):
            tags.update(value)
    return tags, unknown


def resource_tags(resource: Resource) -> Dict[str, Any]:
    """The resource's tags, over the provider's default tags (AWS applies both).

    Raises :class:`CannotCheck` when the tag map itself, or the provider's default tags, are unknown.
    """
    tags, unknown = tag_view(resource)
    if unknown:
        raise CannotCheck(f"{' and '.join(unknown)} are computed from another resource's output")
    return tags


def _policy_statements(resource: Resource, required: bool):
    """(statements, error message) of the resource policy of a SecretPolicy or a Secret's inline policy.

    Returns (None, None) when there is no policy to check.  Raises :class:`CannotCheck` if unknown.
    """
    document = resource.props.get("policy")
    if document is None or (not required and isinstance(document, str) and document.strip() in ("", "{}")):
        return None, None
    if contains_unknown(document):
        raise CannotCheck("the resource policy is computed from other resources' outputs (e.g. ARNs)")
    try:
        return parse_policy(document), None
    except PolicyDocumentError as error:
        return None, (f"The resource policy cannot be read: {error}. A policy that cannot be read cannot be shown "
                      "to be safe (and AWS rejects it at deploy time). Fix the policy document; build it with "
                      "json.dumps (or pulumi.Output.json_dumps) from a dict.")


def _policy_resource(resource: Resource) -> bool:
    return resource.type == SECRET_POLICY or (resource.type == SECRET and resource.props.get("policy") is not None)


# --------------------------------------------------------------------------------------------
# secret-name-convention
# --------------------------------------------------------------------------------------------


def naming_problems(name: str, environment: str) -> List[str]:
    """What is wrong with a secret name under ``<environment>/<service>/<name>[/...]``."""
    problems = []
    segments = name.split("/")
    if len(segments) < 3:
        problems.append(f"it has {len(segments)} segment{'s' if len(segments) != 1 else ''}, "
                        "at least 3 are needed (<environment>/<service>/<name>)")
    bad = [s for s in segments if not _SEGMENT_RE.fullmatch(s)]
    if bad:
        shown = ", ".join(f'"{s}"' for s in bad)
        problems.append(f"segment{'s' if len(bad) > 1 else ''} {shown} "
                        f"{'are' if len(bad) > 1 else 'is'} not lowercase [a-z0-9-]")
    if segments[0] != environment:
        problems.append(f'the first segment is "{segments[0]}", not the environment "{environment}"')
    if len(name) >= 7 and _RANDOM_SUFFIX_RE.fullmatch(name[-7:]):
        problems.append(f'it ends in "{name[-7:]}", a hyphen and 6 characters, which AWS ARNs use for '
                        "their random suffix, so partial-ARN lookups can match the wrong secret")
    return problems


def suggest_name(name: str, environment: str) -> str:
    segments = [re.sub(r"[^a-z0-9-]+", "-", s.lower()).strip("-") for s in name.split("/")]
    segments = [s for s in segments if s]
    if not segments or segments[0] != environment:
        segments.insert(0, environment)
    while len(segments) < 3:
        segments.append("<service>" if len(segments) == 1 else "<name>")
    suggestion = "/".join(segments)
    if _RANDOM_SUFFIX_RE.fullmatch(suggestion[-7:] if len(suggestion) >= 7 else ""):
        suggestion = suggestion[:-7] + suggestion[-6:]
    return suggestion


def check_secret_name(resource: Resource, config: Mapping[str, Any]) -> List[str]:
    environment = config.get("environment")
    if not environment:
        raise NotApplicable('the config key "environment" is missing (e.g. {"secret-name-convention": '
                            '{"environment": "prod"}} in the --policy-pack-config file), so the first name '
                            "segment cannot be checked")
    name = resource.props.get("name")
    if is_unknown(name):
        raise CannotCheck("the secret name is computed from another resource's output")
    if not name:
        prefix = resource.props.get("namePrefix")
        what = (f'The secret has no fixed name: name_prefix "{prefix}" makes AWS append a random suffix'
                if prefix and not is_unknown(prefix) else "The secret has no explicit name")
        return [f"{what}. Consumers and IAM policies address secrets by their <environment>/<service>/<name> "
                f'path, so the name must be fixed. Set name="{environment}/<service>/<name>".']
    problems = naming_problems(name, environment)
    if not problems:
        return []
    return [f'Secret name "{name}" does not follow <environment>/<service>/<name>: {"; ".join(problems)}. '
            f"Consumers and IAM policies select secrets by this path (e.g. {environment}/payments/*), so a name "
            f'outside it escapes those grants and reviews. Rename it, e.g. to "{suggest_name(name, environment)}".']


# --------------------------------------------------------------------------------------------
# secret-recovery-window
# --------------------------------------------------------------------------------------------


def check_recovery_window(resource: Resource, config: Mapping[str, Any]) -> List[str]:
    minimum = _config_int(config, "minimumDays", DEFAULT_MINIMUM_RECOVERY_DAYS)
    value = resource.props.get("recoveryWindowInDays")
    if is_unknown(value):
        raise CannotCheck("recovery_window_in_days is computed from another resource's output")
    fix = f"Set recovery_window_in_days to a value from {minimum} to {MAXIMUM_RECOVERY_DAYS}."
    why = (f"A deleted secret must stay restorable for at least {minimum} days, so that a mistaken delete or "
           "`pulumi destroy` can be undone before consumers break.")
    if value is None:
        return [f"recovery_window_in_days is not set (AWS would then use 30 days, but the window must be an explicit, "
                f"reviewed choice). {why} {fix}"]
    days = _whole_number(value)
    if days is None:
        return [f"recovery_window_in_days is {_show(value)}, not a whole number of days. {why} {fix}"]
    if days == 0:
        return [f"recovery_window_in_days is 0, which force-deletes the secret at once with no way to restore "
                f"it. {why} {fix}"]
    if days < minimum:
        return [f"recovery_window_in_days is {days}, below the minimum of {minimum} days. {why} {fix}"]
    if days > MAXIMUM_RECOVERY_DAYS:
        return [f"recovery_window_in_days is {days}; AWS accepts at most {MAXIMUM_RECOVERY_DAYS} days, so the "
                f"deployment would fail. {fix}"]
    return []


# --------------------------------------------------------------------------------------------
# secret-rotation-max-interval
# --------------------------------------------------------------------------------------------


def check_rotation_interval(resource: Resource, config: Mapping[str, Any]) -> List[str]:
    maximum = _config_int(config, "maximumDays", DEFAULT_MAXIMUM_ROTATION_DAYS)
    props = resource.props
    enabled = props.get("rotationEnabled")
    if enabled is False:
        return []  # rotation switched off: secret-rotation-required reports it
    rules = props.get("rotationRules")
    if is_unknown(rules):
        raise CannotCheck("rotation_rules is computed from another resource's output")
    why = "A credential that lives longer stays usable longer after it leaks."
    if not isinstance(rules, Mapping) or (rules.get("automaticallyAfterDays") is None
                                          and rules.get("scheduleExpression") is None):
        return [f"The rotation has no rotation_rules (automatically_after_days or schedule_expression), so how "
                f"often it rotates cannot be shown to be within {maximum} days. Set rotation_rules, e.g. "
                f'{{"automatically_after_days": {maximum}}}.']
    after, expression = rules.get("automaticallyAfterDays"), rules.get("scheduleExpression")
    if is_unknown(after) or is_unknown(expression):
        raise CannotCheck("the rotation schedule is computed from another resource's output")
    if after is not None and expression is not None:
        return ["rotation_rules sets both automatically_after_days and schedule_expression; AWS accepts only one "
                "and rejects the rotation. Keep one of them."]
    if after is not None:
        days = _whole_number(after)
        if days is None or days < 1:
            return [f"automatically_after_days is {_show(after)}, not a whole number of days >= 1. "
                    f"Set automatically_after_days to a whole number from 1 to {maximum}."]
        if days > MAXIMUM_AUTOMATIC_DAYS:
            return [f"automatically_after_days is {days}; Secrets Manager accepts 1 to {MAXIMUM_AUTOMATIC_DAYS} days, "
                    f"so the deployment would fail. Set automatically_after_days to {min(maximum, 1000)} or less."]
        if days > maximum:
            return [f"The secret rotates every {format_days(days)} (automatically_after_days), longer than the "
                    f"maximum of {maximum} days. {why} Set automatically_after_days to {maximum} or less."]
        return []
    if not isinstance(expression, str):
        return [f"schedule_expression is {_show(expression)}, not a rate() or cron() expression. "
                f"Use e.g. rate({maximum} days)."]
    try:
        gap = longest_gap_details(expression)
    except ScheduleError as error:
        return [f'The rotation schedule "{expression}" cannot be judged: {error.reason}. A schedule that cannot '
                f"be read cannot be shown to rotate within {maximum} days (and AWS may reject it). Use rate(N days), "
                "rate(N hours) or a valid AWS cron(minutes hours day-of-month month day-of-week year) expression."]
    if gap.days <= maximum + 1e-9:
        limits = secrets_manager_problems(expression)
        if limits:
            return [f'Secrets Manager rejects the rotation schedule "{expression}": {"; ".join(limits)}, so the '
                    "deployment would fail (https://docs.aws.amazon.com/secretsmanager/latest/userguide/"
                    "rotate-secrets_schedule.html). Use e.g. rate(N days) or cron(0 H D M ? *) with minutes 0 and year *."]
        return []
    if gap.end is None and gap.start is not None:
        return [f'The rotation schedule "{expression}" stops running after {gap.start:%Y-%m-%d %H:%M} UTC (its year '
                f"field is not *), so the secret is then never rotated again. {why} Use * as the year, e.g. "
                f"rate({maximum} days)."]
    example = f" (e.g. from {gap.start:%Y-%m-%d %H:%M} to {gap.end:%Y-%m-%d %H:%M} UTC)" if gap.start else ""
    return [f'The rotation schedule "{expression}" leaves up to {format_days(gap.days)} between two rotations'
            f"{example}, longer than the maximum of {maximum} days. {why} Use a schedule whose longest gap is at "
            f"most {maximum} days, e.g. rate({maximum} days)."]


# --------------------------------------------------------------------------------------------
# secret-customer-managed-key / secret-replica-customer-managed-key
# --------------------------------------------------------------------------------------------

_CMK_WHY = ("The AWS managed key's policy cannot be changed, so reader roles in other accounts can never decrypt "
            "the secret and the security team cannot control or audit who uses the key.")


# A kms_key_id that is unknown during a preview is decided, not skipped ("unknown key" below): only a
# resource of this stack being created (or replaced) leaves it unknown, and no program can create an
# AWS managed key: AWS creates those itself, and the alias/aws/ prefix is reserved
# (https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html: "The alias name cannot
# begin with alias/aws/"). So the key is customer managed. `pulumi up` runs the pack again with the
# value known, so a contrived program that computes an AWS managed key name is still caught there.
def check_customer_managed_key(resource: Resource, config: Mapping[str, Any]) -> List[str]:
    key = resource.props.get("kmsKeyId")
    if is_unknown(key):
        return []  # an unknown key: created by this stack, so customer managed (comment above)
    fix = "Set kms_key_id to the ARN of a customer managed KMS key (aws.kms.Key) in the secret's region."
    if not key:
        return [f"The secret has no kms_key_id, so AWS encrypts it with the AWS managed key aws/secretsmanager. "
                f"{_CMK_WHY} {fix}"]
    if _is_aws_managed_key(str(key)):
        return [f'kms_key_id "{key}" is the AWS managed key. {_CMK_WHY} {fix}']
    return []


def check_replica_keys(resource: Resource, config: Mapping[str, Any]) -> List[str]:
    replicas = resource.props.get("replicas")
    if is_unknown(replicas):
        raise CannotCheck("the replicas are computed from another resource's output")
    messages, unknown = [], []
    for index, replica in enumerate(replicas or []):
        if is_unknown(replica) or not isinstance(replica, Mapping):
            unknown.append(f"replicas[{index}]")
            continue
        region, key = replica.get("region"), replica.get("kmsKeyId")
        if is_unknown(key):
            # An unknown key: created by this stack, customer managed (comment above); a key of another region is
            # refused by Secrets Manager itself when the replica is created.
            continue
        # A missing or AWS managed key is wrong in any region: only the region comparison below needs it.
        shown_region = "its region" if is_unknown(region) else region
        where = f"Replica {index}" + ("" if is_unknown(region) else f" ({region})")
        fix = (f"Set replicas[{index}].kms_key_id to a customer managed key (or a multi-Region replica key) in "
               f"{shown_region}.")
        if not key:
            messages.append(f"{where} has no kms_key_id, so AWS encrypts the replica with the AWS managed key "
                            f"aws/secretsmanager of {shown_region}. {_CMK_WHY} {fix}")
        elif _is_aws_managed_key(str(key)):
            messages.append(f'{where} uses kms_key_id "{key}", the AWS managed key. {_CMK_WHY} {fix}')
        elif is_unknown(region):
            unknown.append(f"replicas[{index}].region")
        elif _key_region(str(key)) not in (None, region):
            messages.append(f'{where} names the key "{key}" of region {_key_region(str(key))}; a KMS key only '
                            f"encrypts in its own region, so each replica needs its own key. {fix}")
    if unknown and not messages:
        raise CannotCheck(f"{', '.join(unknown)} comes from another resource's output")
    return messages


# --------------------------------------------------------------------------------------------
# Resource policies
# --------------------------------------------------------------------------------------------


def check_no_public_access(resource: Resource, config: Mapping[str, Any]) -> List[str]:
    if not _policy_resource(resource):
        return []
    messages = []
    block_unknown = False
    if resource.type == SECRET_POLICY:
        block = resource.props.get("blockPublicPolicy")
        if is_unknown(block):
            block_unknown = True
        elif block is not True:
            messages.append("block_public_policy is not true. With it, Secrets Manager itself rejects any policy "
                            "that would make the secret public, a second check independent of this pack. Set "
                            "block_public_policy=True on the SecretPolicy.")
    try:
        statements, error = _policy_statements(resource, required=resource.type == SECRET_POLICY)
    except CannotCheck:
        if messages:
            return messages
        raise
    if error:
        return messages + [error]
    for statement, reason in public_grants(statements or []):
        actions = ", ".join(statement.actions or statement.not_actions) or "every action"
        messages.append(f"{statement.label} allows {actions} to everyone: {reason}, and no condition limits the "
                        "caller to the organization or to named accounts. A public secret policy lets any AWS "
                        "account read the secret. Name the reader roles in Principal, or add a Condition "
                        "StringEquals aws:PrincipalOrgID (or aws:PrincipalAccount) to the statement.")
    if block_unknown and not messages:
        raise CannotCheck("block_public_policy is computed from another resource's output")
    return messages


def check_allowed_accounts(resource: Resource, config: Mapping[str, Any]) -> List[str]:
    allowed = config.get("allowedAccounts")
    if not allowed:
        raise NotApplicable('the config key "allowedAccounts" is missing (the 12-digit accounts of this environment '
                            "and the security account), so principals cannot be checked")
    if not _policy_resource(resource):
        return []
    statements, error = _policy_statements(resource, required=resource.type == SECRET_POLICY)
    if error:
        return [error]
    found = allow_principal_accounts(statements or [])
    allowed_text = ", ".join(str(a) for a in allowed)
    messages = []
    for account, where in found.accounts.items():
        if account not in allowed:
            messages.append(f"{where[0]} allows account {account}, which is not one of the allowed accounts "
                            f"({allowed_text}). A grant to another environment's or an unknown account lets it read "
                            "credentials it must not have. Remove that principal, or add the account to "
                            '"allowedAccounts" in the policy pack config if it belongs to this environment.')
    for principal in found.unreadable:
        messages.append(f'The principal "{principal}" has no literal 12-digit account (it is a unique ID or a '
                        "pattern), so it cannot be checked against the allowed accounts. Use role ARNs such as "
                        "arn:aws:iam::<account>:role/<Role>.")
    return messages


def check_deny_outside(resource: Resource, config: Mapping[str, Any]) -> List[str]:
    if not _policy_resource(resource):
        return []
    statements, error = _policy_statements(resource, required=resource.type == SECRET_POLICY)
    if error:
        return [error]
    if statements is None:
        return []
    statement, notes = find_deny_outside(statements)
    if statement is not None:
        return []
    detail = f" ({'; '.join(notes)})" if notes else ""
    return [f"The resource policy has no explicit Deny for principals outside the organization or the allowed "
            f"accounts{detail}. Without it, one wrong Allow statement grants the secret to any account. Add "
            '{"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*", "Condition": '
            '{"StringNotEquals": {"aws:PrincipalOrgID": "o-..."}}} (or aws:PrincipalAccount with the allowed '
            "accounts)."]


# --------------------------------------------------------------------------------------------
# secret-required-tags / secret-protected / kms-key-rotation-enabled / secret-replica-regions-allowed
# --------------------------------------------------------------------------------------------


def required_tag_messages(tags: Mapping[str, Any], unknown: Sequence[str], config: Mapping[str, Any]) -> List[str]:
    """secret-required-tags on a secret's effective tags; raises :class:`CannotCheck` when a required
    tag is missing from what is known but ``unknown`` (e.g. the provider's default tags) may bring it."""
    required = config.get("requiredTags", list(DEFAULT_REQUIRED_TAGS))
    environment = config.get("environment")
    messages = []
    missing = [key for key in required if key not in tags or tags[key] in (None, "")]
    if missing and unknown:
        raise CannotCheck(f"the tag{'s' if len(missing) > 1 else ''} {', '.join(missing)} may come from "
                          f"{' or '.join(unknown)}, which {'are' if len(unknown) > 1 else 'is'} not known yet")
    if missing:
        listed = ", ".join(missing)
        example = ", ".join(f'"{key}": "..."' for key in missing)
        messages.append(f"The secret is missing the required tag{'s' if len(missing) > 1 else ''} {listed}. Owners "
                        "and environments are how access reviews, cost reports and incident response find who is "
                        f"responsible for a secret. Add {'them' if len(missing) > 1 else 'it'} to tags, e.g. "
                        f"{{{example}}}.")
    value = tags.get("environment")
    if environment and value not in (None, "") and not is_unknown(value) and value != environment:
        messages.append(f'The tag environment is "{value}" but this policy pack is configured for environment '
                        f'"{environment}". A secret tagged for another environment is missed by this environment\'s '
                        f'reviews and its grants. Set the tag environment="{environment}", or deploy the secret '
                        "with the other environment's stack.")
    if not messages and environment and is_unknown(value):
        raise CannotCheck("the environment tag is computed from another resource's output")
    return messages


def check_required_tags(resource: Resource, config: Mapping[str, Any]) -> List[str]:
    """secret-required-tags on one secret alone (its tags and its provider's default tags)."""
    tags, unknown = tag_view(resource)
    return required_tag_messages(tags, unknown, config)


def check_required_tags_stack(resources: Sequence[Resource],
                              config: Mapping[str, Any]) -> Tuple[List[Tuple[str, str]], Optional[str]]:
    """secret-required-tags over the stack: a secret's tags also come from ``aws:secretsmanager/tag:Tag``
    resources that name it (linked as rotations are, see :func:`secret_links`)."""
    links = secret_links(resources, SECRET_TAG)
    violations, undecided = [], []
    for secret in (r for r in resources if r.type == SECRET):
        tags, unknown = tag_view(secret)
        for tag in links.linked.get(secret.urn, []):
            key, value = tag.props.get("key"), tag.props.get("value")
            if is_unknown(key):
                unknown.append(f"the key of the Tag {tag.name}")
            elif isinstance(key, str):
                tags.setdefault(key, value)
        if links.maybe.get(secret.urn):
            names = ", ".join(t.name for t in links.maybe[secret.urn])
            unknown.append(f"the Tag resources {names} (whose secret is not known yet)")
        try:
            for message in required_tag_messages(tags, unknown, config):
                violations.append((secret.urn, message))
        except CannotCheck as error:
            undecided.append(f"{_secret_label(secret)}: {error.what}")
    reason = None
    if undecided:
        reason = CannotCheck(f"the tags of secret {'; of secret '.join(undecided)}").message
    return violations, reason


def check_protected(resource: Resource, config: Mapping[str, Any]) -> List[str]:
    if resource.protect:
        return []
    return ["The secret is not protected, so `pulumi destroy` or a refactor that renames it deletes the secret and "
            "every credential its consumers use. Set the resource option protect=True "
            "(pulumi.ResourceOptions(protect=True)); remove it deliberately with `pulumi state unprotect` when the "
            "secret really must go."]


def check_key_rotation(resource: Resource, config: Mapping[str, Any]) -> List[str]:
    props = resource.props
    spec, usage = props.get("customerMasterKeySpec"), props.get("keyUsage")
    if spec not in (None, "SYMMETRIC_DEFAULT") and not is_unknown(spec) or (
            usage not in (None, "ENCRYPT_DECRYPT") and not is_unknown(usage)):
        raise NotApplicable(f"AWS only rotates symmetric encryption keys automatically; this key is "
                            f"{spec or 'SYMMETRIC_DEFAULT'} / {usage or 'ENCRYPT_DECRYPT'}")
    if props.get("customKeyStoreId") and not is_unknown(props.get("customKeyStoreId")):
        raise NotApplicable("AWS does not rotate keys in a custom key store automatically")
    enabled = props.get("enableKeyRotation")
    if is_unknown(enabled):
        raise CannotCheck("enable_key_rotation is computed from another resource's output")
    if enabled is True:
        return []
    return ["The KMS key does not have automatic key rotation enabled, so the same key material protects the "
            "secrets for the key's whole life and a leaked or weakened key stays in use. Set "
            "enable_key_rotation=True (AWS then rotates it yearly; rotation_period_in_days can shorten that)."]


def check_replica_regions(resource: Resource, config: Mapping[str, Any]) -> List[str]:
    allowed = config.get("allowedRegions")
    if not allowed:
        raise NotApplicable('the config key "allowedRegions" is missing, so replica regions cannot be checked')
    replicas = resource.props.get("replicas")
    if is_unknown(replicas):
        raise CannotCheck("the replicas are computed from another resource's output")
    messages, unknown = [], False
    allowed_text = ", ".join(str(r) for r in allowed)
    for index, replica in enumerate(replicas or []):
        region = replica.get("region") if isinstance(replica, Mapping) else replica
        if is_unknown(region):
            unknown = True
            continue
        if region not in allowed:
            messages.append(f"Replica {index} is in region {region}, which is not one of the allowed regions "
                            f"({allowed_text}). Copies of a secret outside the approved regions escape the "
                            "data-residency and recovery plan. Remove the replica, or add the region to "
                            '"allowedRegions" in the policy pack config.')
    if unknown and not messages:
        raise CannotCheck("a replica region is computed from another resource's output")
    return messages


# --------------------------------------------------------------------------------------------
# secret-rotation-required (stack)
# --------------------------------------------------------------------------------------------


def rotation_exemption(tags: Mapping[str, Any]) -> Optional[str]:
    """Why a secret needs no rotation, or None.  ``kind=generic`` or a ``rotation-exempt`` tag with a reason."""
    kind = tags.get("kind")
    if isinstance(kind, str) and kind.lower() == "generic":
        return "kind=generic"
    reason = tags.get(ROTATION_EXEMPT_TAG)
    if isinstance(reason, str) and reason.strip() and not is_unknown(reason):
        return f"rotation-exempt: {reason}"
    return None


_SECRET_ARN_RE = re.compile(r"arn:(?P<partition>[^:]+):secretsmanager:(?P<region>[^:]*):(?P<account>[^:]*):secret:"
                            r"(?P<rest>.+)", re.ASCII | re.DOTALL)


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


def _secret_label(secret: Resource) -> str:
    name = secret.props.get("name")
    return name if isinstance(name, str) and name and not is_unknown(name) else secret.name


@dataclass
class SecretLinks:
    """Which resources (rotations, tags) name which secret: ``linked`` for certain, ``maybe`` where a
    value needed to decide is not known yet (a preview of resources being created)."""

    linked: Dict[str, List[Resource]] = field(default_factory=dict)
    maybe: Dict[str, List[Resource]] = field(default_factory=dict)


def _same_place(a_region: Optional[str], b_region: Optional[str], a: Resource, b: Resource) -> Optional[bool]:
    """Whether two resources are in the same region: True, False, or None (not known yet).  With no
    region known on either side, the same provider means the same region."""
    if a_region and b_region and not is_unknown(a_region) and not is_unknown(b_region):
        return a_region == b_region
    if a.provider_urn and a.provider_urn == b.provider_urn:
        return True
    if a_region is None and b_region is None and not a.provider_urn and not b.provider_urn:
        return True   # nothing says where either is: a stack of one region (what tests and old engines send)
    return None


def _names_secret(secret_id: str, linker: Resource, secret: Resource) -> Optional[bool]:
    """Whether ``secret_id`` (a ``secretId`` value: name, full ARN or partial ARN, as Secrets Manager
    accepts, https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot.html#ARN_secretnamehyphen)
    names ``secret``: True, False or None when the secret's name, ARN or region is not known yet."""
    arn, name = secret.props.get("arn"), secret.props.get("name")
    for known in (arn, secret.props.get("id")):
        if isinstance(known, str) and known and not is_unknown(known) and known == secret_id:
            return True
    match = _SECRET_ARN_RE.fullmatch(secret_id)
    if match:
        rest = match.group("rest")
        candidates = {rest}
        full = len(rest) > 7 and bool(_RANDOM_SUFFIX_RE.fullmatch(rest[-7:]))
        if full:
            candidates.add(rest[:-7])
        if isinstance(arn, str) and arn and not is_unknown(arn):
            # Known ARN: a full ARN must equal it (checked above); a partial one is its prefix.
            arn_match = _SECRET_ARN_RE.fullmatch(arn)
            if arn_match is None:
                return False
            if (arn_match.group("region"), arn_match.group("account")) != (match.group("region"),
                                                                            match.group("account")):
                return False
            return arn_match.group("rest")[:-7] == rest if not full else False
        if full:
            # The random suffix of a secret being created is not known: a literal full ARN names an existing
            # secret, perhaps an earlier one of the same name; whether it is this one is not known yet.
            same_name = isinstance(name, str) and not is_unknown(name) and name in candidates
            return None if same_name or is_unknown(name) else False
        region, secret_region = match.group("region"), resource_region(secret)
        if secret_region is not None and not is_unknown(secret_region):
            same_region = region == secret_region
        else:
            same_region = True if secret_region is None and not secret.provider_urn else None
    else:
        candidates = {secret_id}
        same_region = _same_place(resource_region(linker), resource_region(secret), linker, secret)
    if is_unknown(name) or name is None:
        return None if same_region is not False else False
    if name not in candidates or same_region is False:
        return False
    return True if same_region else None


def secret_links(resources: Sequence[Resource], linker_type: str) -> SecretLinks:
    """Which resources of ``linker_type`` (SecretRotation, secretsmanager Tag) name which Secret by
    their ``secretId``.

    Certain: (1) ``secretId`` depends on the secret (the engine's property dependencies, sent with
    AnalyzeStack: this works during a preview, when the secret's ARN is unknown); (2) ``secretId``
    equals the secret's known ARN/id, or is its name or partial ARN in the same region (a name means
    the secret of that name in the caller's region, so the same name in two regions is two secrets).
    Maybe: ``secretId`` is unknown without a dependency, or names a secret whose name, ARN or region is
    not known yet.
    """
    secrets = [r for r in resources if r.type == SECRET]
    by_urn = {s.urn: s for s in secrets}
    links = SecretLinks()
    for linker in (r for r in resources if r.type == linker_type):
        targets = [u for u in linker.property_dependencies.get("secretId", ()) if u in by_urn]
        if targets:
            for urn in targets:
                links.linked.setdefault(urn, []).append(linker)
            continue
        secret_id = linker.props.get("secretId")
        if not isinstance(secret_id, str) or not secret_id or contains_unknown(secret_id):
            if secret_id is None or contains_unknown(secret_id):
                for secret in secrets:
                    links.maybe.setdefault(secret.urn, []).append(linker)
            continue
        for secret in secrets:
            verdict = _names_secret(secret_id, linker, secret)
            if verdict:
                links.linked.setdefault(secret.urn, []).append(linker)
            elif verdict is None:
                links.maybe.setdefault(secret.urn, []).append(linker)
    return links


def rotation_links(resources: Sequence[Resource]) -> Tuple[Dict[str, List[Resource]], List[Resource]]:
    """{secret urn: [rotations]} certainly linked, and the rotations that may name a secret not known yet."""
    links = secret_links(resources, SECRET_ROTATION)
    maybe = []
    for rotations in links.maybe.values():
        maybe.extend(r for r in rotations if r not in maybe)
    return links.linked, maybe


def _rotation_state(rotation: Resource) -> str:
    """"enabled", "disabled" or "unknown".

    ``rotationEnabled`` is computed by the provider (terraform-provider-aws
    internal/service/secretsmanager/secret_rotation.go: ``rotation_enabled`` Computed, ``rotation_rules``
    Required; Create calls RotateSecret with the rules, which turns rotation on), so it is unknown in a
    preview of a new rotation, and a rotation whose rules are set is enabled whatever it says then.
    """
    props = rotation.props
    enabled = props.get("rotationEnabled")
    rules = props.get("rotationRules")
    if enabled is False:
        return "disabled"
    if is_unknown(rules):
        return "unknown"
    if isinstance(rules, Mapping):
        after, expression = rules.get("automaticallyAfterDays"), rules.get("scheduleExpression")
        if (after is not None and not is_unknown(after)) or (expression is not None and not is_unknown(expression)):
            return "enabled"
        if is_unknown(after) or is_unknown(expression):
            return "unknown"
    return "unknown" if is_unknown(enabled) else "disabled"


def check_rotation_required(resources: Sequence[Resource],
                            config: Mapping[str, Any]) -> Tuple[List[Tuple[str, str]], Optional[str]]:
    """Every Secret has an enabled SecretRotation unless exempt.

    Returns the (secret urn, message) violations, and what could not be decided because values are
    unknown during a preview (``None`` when everything was decided).  A value that is unknown never
    makes a violation: a secret is only reported when no rotation can be linked to it.
    """
    links = secret_links(resources, SECRET_ROTATION)
    tag_links = secret_links(resources, SECRET_TAG)
    violations, undecided = [], []
    for secret in (r for r in resources if r.type == SECRET):
        tags, unknown = tag_view(secret)
        for tag in tag_links.linked.get(secret.urn, []):
            key = tag.props.get("key")
            if isinstance(key, str) and not is_unknown(key):
                tags.setdefault(key, tag.props.get("value"))
            else:
                unknown.append("a Tag's key")
        if tag_links.maybe.get(secret.urn):
            unknown.append("a Tag whose secret is not known yet")
        if rotation_exemption(tags):
            continue
        label = _secret_label(secret)
        how = (f"Add an aws.secretsmanager.SecretRotation with secret_id set to this secret and rotation_rules, or, "
               f'if it cannot be rotated, tag it kind=generic or {ROTATION_EXEMPT_TAG}="<reason>".')
        empty_reason = ROTATION_EXEMPT_TAG in tags and not rotation_exemption(tags)
        note = f" (its {ROTATION_EXEMPT_TAG} tag gives no reason, so it does not count)" if empty_reason else ""
        rotations = links.linked.get(secret.urn, [])
        states = [_rotation_state(r) for r in rotations]
        if "enabled" in states:
            continue
        if "unknown" in states or links.maybe.get(secret.urn) or unknown:
            undecided.append(label)
            continue
        if rotations:
            names = ", ".join(r.name for r in rotations)
            violations.append((secret.urn, f'Secret "{label}" has a SecretRotation ({names}) that is disabled or has '
                                           f"no rotation_rules{note}. A credential that is never rotated stays valid "
                                           f"forever after it leaks. Enable it with rotation_rules, or, if the secret "
                                           f'cannot be rotated, tag it kind=generic or {ROTATION_EXEMPT_TAG}="<reason>".'))
        else:
            violations.append((secret.urn, f'Secret "{label}" has no SecretRotation{note}. A credential that is never '
                                           f"rotated stays valid forever after it leaks. {how}"))
    reason = None
    if undecided:
        reason = CannotCheck(f"whether {', '.join(undecided)} {'is' if len(undecided) == 1 else 'are'} rotated "
                             "depends on values that are not known yet").message
    return violations, reason


# --------------------------------------------------------------------------------------------
# kms-key-policy-no-public-access / kms-key-not-pending-deletion
# --------------------------------------------------------------------------------------------


def check_kms_key_policy(resource: Resource, config: Mapping[str, Any]) -> List[str]:
    """A key policy statement that allows everyone (``"*"``, ``{"AWS": "*"}`` or ``NotPrincipal``) with
    no Condition at all.  No ``policy`` is AWS's default key policy, which grants only the account."""
    document = resource.props.get("policy")
    if document is None or (isinstance(document, str) and document.strip() == ""):
        return []
    if contains_unknown(document):
        raise CannotCheck("the key policy is computed from other resources' outputs (e.g. ARNs)")
    try:
        statements = parse_policy(document)
    except PolicyDocumentError as error:
        return [f"The key policy cannot be read: {error}. A policy that cannot be read cannot be shown to be safe "
                "(and KMS rejects it at deploy time). Fix the policy document; build it with json.dumps (or "
                "pulumi.Output.json_dumps) from a dict."]
    messages = []
    for statement in statements:
        if statement.effect != "Allow" or statement.conditions:
            continue
        everyone = statement.has_not_principal or any(p.is_everyone for p in statement.principals)
        if not everyone:
            continue
        actions = ", ".join(statement.actions or statement.not_actions) or "every action"
        who = "everyone it does not name (NotPrincipal)" if statement.has_not_principal else 'everyone ("*")'
        messages.append(f"{statement.label} of the key policy allows {actions} to {who} with no Condition. Whoever "
                        "may use the key can decrypt every secret it protects, from any AWS account. Name the "
                        "principals (the account root arn:aws:iam::<account>:root, or the roles), or add a "
                        "Condition such as StringEquals kms:CallerAccount or aws:PrincipalOrgID.")
    return messages


PENDING_DELETION_STATES = ("PendingDeletion", "PendingReplicaDeletion")


def check_key_not_pending_deletion(resource: Resource, config: Mapping[str, Any]) -> List[str]:
    """``keyState`` PendingDeletion (KMS KeyMetadata.KeyState,
    https://docs.aws.amazon.com/kms/latest/APIReference/API_KeyMetadata.html).  pulumi-aws reports
    ``keyState`` on ExternalKey and ReplicaExternalKey; a key without it, or being created (unknown),
    is not pending deletion."""
    state = resource.props.get("keyState")
    if not isinstance(state, str) or is_unknown(state) or state not in PENDING_DELETION_STATES:
        return []
    return [f"The KMS key is {state}: KMS deletes it when the waiting period ends, and every secret it encrypts "
            "becomes unreadable for good (a disabled or pending key already fails every decrypt). Cancel the "
            "deletion (aws kms cancel-key-deletion --key-id <key>, then enable the key), or move the secrets to "
            "another customer managed key before the deletion date."]


def check_keys_not_pending_deletion(resources: Sequence[Resource],
                                    config: Mapping[str, Any]) -> Tuple[List[Tuple[str, str]], Optional[str]]:
    """kms-key-not-pending-deletion over the stack: ``keyState`` is an output, which only AnalyzeStack
    carries (Analyze sends a resource's inputs)."""
    violations = []
    for key in (r for r in resources if r.type in KMS_KEYS):
        violations.extend((key.urn, message) for message in check_key_not_pending_deletion(key, config))
    return violations, None


# --------------------------------------------------------------------------------------------
# secret-region-allowed / secret-replica-no-force-overwrite
# --------------------------------------------------------------------------------------------


def check_secret_region(resource: Resource, config: Mapping[str, Any]) -> List[str]:
    allowed = config.get("allowedRegions")
    if not allowed:
        raise NotApplicable('the config key "allowedRegions" is missing, so the secret\'s region cannot be checked')
    region = resource_region(resource)
    if region is None:
        raise NotApplicable("neither the secret nor its provider names a region, so it cannot be checked")
    if is_unknown(region):
        raise CannotCheck("the secret's region (its provider's region) is computed from another resource's output")
    if region in allowed:
        return []
    allowed_text = ", ".join(str(r) for r in allowed)
    return [f"The secret is in region {region}, which is not one of the allowed regions ({allowed_text}). A secret "
            "outside the approved regions escapes the data-residency and recovery plan. Deploy it with a provider "
            f'of an allowed region (region=...), or add {region} to "allowedRegions" in the policy pack config.']


def check_no_force_overwrite(resource: Resource, config: Mapping[str, Any]) -> List[str]:
    value = resource.props.get("forceOverwriteReplicaSecret")
    if is_unknown(value):
        raise CannotCheck("force_overwrite_replica_secret is computed from another resource's output")
    if value is not True:
        return []
    return ["force_overwrite_replica_secret is true, so replication overwrites a secret of the same name that "
            "already exists in a replica region, and whatever used that secret silently gets this one's value. "
            "Set force_overwrite_replica_secret=False (the default); if a secret of that name is in the way, "
            "review and delete it first."]


# --------------------------------------------------------------------------------------------
# The catalog
# --------------------------------------------------------------------------------------------

RESOURCE_RULES = {
    "secret-name-convention": ((SECRET,), check_secret_name),
    "secret-recovery-window": ((SECRET,), check_recovery_window),
    "secret-rotation-max-interval": ((SECRET_ROTATION,), check_rotation_interval),
    "secret-customer-managed-key": ((SECRET,), check_customer_managed_key),
    "secret-replica-customer-managed-key": ((SECRET,), check_replica_keys),
    "secret-policy-no-public-access": ((SECRET_POLICY, SECRET), check_no_public_access),
    "secret-policy-allowed-accounts": ((SECRET_POLICY, SECRET), check_allowed_accounts),
    "secret-policy-deny-outside": ((SECRET_POLICY, SECRET), check_deny_outside),
    "secret-protected": ((SECRET,), check_protected),
    "kms-key-rotation-enabled": ((KMS_KEY,), check_key_rotation),
    "secret-replica-regions-allowed": ((SECRET,), check_replica_regions),
    "kms-key-policy-no-public-access": ((*KMS_KEYS, KMS_KEY_POLICY), check_kms_key_policy),
    "secret-region-allowed": ((SECRET,), check_secret_region),
    "secret-replica-no-force-overwrite": ((SECRET,), check_no_force_overwrite),
}
STACK_RULES = {
    "secret-rotation-required": check_rotation_required,
    "secret-required-tags": check_required_tags_stack,
    "kms-key-not-pending-deletion": check_keys_not_pending_deletion,
}
