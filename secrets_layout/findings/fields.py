"""Which declaration field causes a policy violation, and what the YAML author changes.

The pack (policies/) serves any Pulumi stack, so its messages speak of resource inputs and
options (`automatically_after_days`, `pulumi.ResourceOptions(protect=True)`). Someone who writes
environments/<env>.yaml needs the line and the field they wrote instead. `FIELDS` maps a policy
to the declaration paths that cause it, best first; a path counts when it was written in the
file, in the secret itself or inherited from `defaults:` (the loader's source map records
inherited values at their `defaults:` line). A violation whose field was not written falls back
to its secret's `- name:` line. `YAML_FIXES` maps a policy to the fix in declaration terms, which
replaces the pack's own fix sentence; the pack's what and why are kept word for word.

Everything here is pure: subjects and declarations in, paths and text out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from secrets_layout.declaration.models import Declaration
from secrets_layout.declaration.yaml_source import Position, SourceMap
from secrets_layout.errors import Path, format_path
from secrets_layout.policies.rules import suggest_name

SECRET = "aws:secretsmanager/secret:Secret"
SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"
SECRET_ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"


@dataclass(frozen=True)
class Subject:
    """A violation as the declaration sees it: which policy, about which resource of which secret."""

    policy: str
    message: str
    resource_type: str
    secret_index: int | None
    """The secret whose component made the resource; None for resources outside any secret."""


@dataclass(frozen=True)
class Located:
    """Where a violation belongs: the declaration path (as written: `defaults.…` when inherited)."""

    path: Path
    position: Position


# --------------------------------------------------------------------------------------------
# policy -> field
# --------------------------------------------------------------------------------------------

_REPLICA = re.compile(r"\bReplica (\d+)\b")
_ALLOWED_ACCOUNT = re.compile(r"\ballows account (\d{12})\b")
_REGION_IN_PARENTHESES = re.compile(r"\bReplica \d+ \(([a-z0-9-]+)\)")


def _secret(subject: Subject, *relative: str | int) -> Path:
    return ("secrets", subject.secret_index, *relative)


def _interval(subject: Subject, declaration: Declaration) -> list[Path]:
    return [_secret(subject, "rotation", "every_days"), _secret(subject, "rotation", "schedule"),
            _secret(subject, "rotation")]


def _rotation(subject: Subject, declaration: Declaration) -> list[Path]:
    return [_secret(subject, "rotation")]


def _tags(subject: Subject, declaration: Declaration) -> list[Path]:
    if 'The tag environment is "' in subject.message:
        return [_secret(subject, "tags", "environment"), _secret(subject, "tags")]
    return [_secret(subject, "tags")]


def _recovery_window(subject: Subject, declaration: Declaration) -> list[Path]:
    return [_secret(subject, "recovery_window_days")]


def _readers(subject: Subject, declaration: Declaration) -> list[Path]:
    """The reader entries whose account has an ID the policy does not allow."""
    accounts = set(_ALLOWED_ACCOUNT.findall(subject.message))
    secret = declaration.secrets[subject.secret_index]
    entries = [_secret(subject, "readers", index, "account") for index, reader in enumerate(secret.readers)
               if reader.account in declaration.accounts and declaration.account_id(reader.account) in accounts]
    return [*entries, _secret(subject, "readers")]


def _protect(subject: Subject, declaration: Declaration) -> list[Path]:
    return [_secret(subject, "protect")]


def _replica(subject: Subject, declaration: Declaration) -> list[Path]:
    found = _REPLICA.search(subject.message)
    entry = [_secret(subject, "replicas", int(found.group(1)))] if found else []
    return [*entry, _secret(subject, "replicas")]


def _replica_key(subject: Subject, declaration: Declaration) -> list[Path]:
    region = _REGION_IN_PARENTHESES.search(subject.message)
    key = [("kms", "keys", region.group(1))] if region else []
    return [*key, *_replica(subject, declaration)]


def _primary_key(subject: Subject, declaration: Declaration) -> list[Path]:
    return [("kms", "keys", declaration.primary_region)]


def _name(subject: Subject, declaration: Declaration) -> list[Path]:
    return [_secret(subject, "name")]


def _primary_region(subject: Subject, declaration: Declaration) -> list[Path]:
    return [("primary_region",)]


FieldResolver = Callable[[Subject, Declaration], list[Path]]

FIELDS: Mapping[str, FieldResolver] = {
    "secret-rotation-max-interval": _interval,
    "secret-rotation-required": _rotation,
    "secret-required-tags": _tags,
    "secret-recovery-window": _recovery_window,
    "secret-policy-allowed-accounts": _readers,
    "secret-policy-no-public-access": lambda subject, declaration: [_secret(subject, "readers")],
    "secret-protected": _protect,
    "secret-replica-regions-allowed": _replica,
    "secret-replica-customer-managed-key": _replica_key,
    "secret-customer-managed-key": _primary_key,
    "secret-name-convention": _name,
    "secret-region-allowed": _primary_region,
}
"""Policy -> the declaration paths that cause it, best first (the secret's item is the fallback)."""

BY_RESOURCE_TYPE: Mapping[str, Sequence[str | int]] = {
    SECRET_ROTATION: ("rotation",),
    SECRET_POLICY: ("readers",),
    SECRET_VERSION: ("value",),
    RANDOM_PASSWORD: ("value",),
}
"""A policy not in FIELDS (e.g. a new one in the pack) still lands on the field that makes its resource."""


def field_candidates(subject: Subject, declaration: Declaration) -> list[Path]:
    """Declaration paths that may cause the violation, best first; empty outside any secret."""
    if subject.secret_index is None:
        return []
    resolver = FIELDS.get(subject.policy)
    candidates = resolver(subject, declaration) if resolver else []
    by_type = BY_RESOURCE_TYPE.get(subject.resource_type)
    if by_type is not None:
        candidates.append(_secret(subject, *by_type))
    return candidates


def locate_field(subject: Subject, declaration: Declaration, source_map: SourceMap) -> Located | None:
    """The first candidate written in the file (its key), else the secret's item; None outside any secret."""
    for path in field_candidates(subject, declaration):
        if path in source_map.keys or path in source_map.values:
            return Located(written_path(path, source_map), source_map.locate_key(path))
    if subject.secret_index is None:
        return None
    path = ("secrets", subject.secret_index)
    return Located(path, source_map.locate(path))


def written_path(path: Path, source_map: SourceMap) -> Path:
    """`secrets[i].x` as `defaults.x` when the secret inherited it from `defaults:`."""
    if len(path) < 3 or path[0] != "secrets":
        return path
    inherited = ("defaults", *path[2:])
    mark = source_map.keys.get(path) or source_map.values.get(path)
    origin = source_map.keys.get(inherited) or source_map.values.get(inherited)
    return inherited if mark is not None and mark is origin else path


# --------------------------------------------------------------------------------------------
# The fix, in declaration terms
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FixContext:
    """What a YAML fix may mention: the policy's config and the field the violation is located at."""

    config: Mapping[str, Any]
    path: Path | None
    declaration: Declaration
    subject: Subject


def _days(context: FixContext, key: str, default: int) -> Any:
    value = context.config.get(key, default)
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _fix_interval(context: FixContext) -> str:
    maximum = _days(context, "maximumDays", 90)
    if context.path and context.path[-1] == "schedule":
        return (f"change `schedule:` to one whose longest gap is at most {maximum} days, e.g. "
                f'"rate({maximum} days)", or use `every_days: {maximum}` instead')
    return f"set `every_days:` to {maximum} or less"


def _fix_recovery_window(context: FixContext) -> str:
    return f"set `recovery_window_days:` to a value from {_days(context, 'minimumDays', 7)} to 30"


def _fix_tags(context: FixContext) -> str:
    if context.path and context.path[-1] == "environment":
        return ("remove the `environment` tag: the layout sets it to the declaration's `environment:`; "
                "a secret of another environment belongs in that environment's declaration")
    return "add the missing keys under the secret's `tags:` (or under `defaults: tags:` for every secret)"


def _fix_readers(context: FixContext) -> str:
    return ("remove that reader (or its account), or correct the account's ID under `accounts:`; if the account "
            "belongs to this environment, add its ID to allowedAccounts in the policy config")


def _fix_protect(context: FixContext) -> str:
    return ("set `protect: true` on the secret (or remove `protect: false`, here or under `defaults:`); to delete "
            "the secret on purpose later, set `protect: false` in a change of its own first")


def _fix_replica(context: FixContext) -> str:
    return ("remove the region from `replicas:` (the secret's or `defaults: replicas:`), or add it to "
            "allowedRegions in the policy config")


def _fix_replica_key(context: FixContext) -> str:
    return ("give the replica region a customer managed key's ARN under `kms: keys:`, or leave the region out there "
            "so the layout creates one")


def _fix_primary_key(context: FixContext) -> str:
    region = context.declaration.primary_region
    return (f"give a customer managed key's ARN for {region} under `kms: keys:`, or leave {region} out there so the "
            "layout creates one")


def _fix_rotation(context: FixContext) -> str:
    return ("add `rotation:` with a function (`managed:`, `function:` or `lambda_arn:`) and `every_days:` or "
            '`schedule:`; a secret that cannot rotate documents it with `rotation: {enabled: false, reason: "..."}`')


def _fix_name(context: FixContext) -> str:
    index = context.subject.secret_index
    name = context.declaration.secrets[index].name if index is not None else ""
    environment = context.declaration.environment
    return (f'rename the secret (`name:`), e.g. to "{suggest_name(name, environment)}"; a new name creates a new '
            "secret, so its readers must switch to it")


def _fix_public(context: FixContext) -> str:
    return "the layout writes the policy from `readers:` and `organization_id:`; check the roles named under `readers:`"


def _fix_region(context: FixContext) -> str:
    return ("every secret of the declaration lives in `primary_region:`; choose an allowed region there (a new "
            "region creates new secrets), or add the region to allowedRegions in the policy config")


YAML_FIXES: Mapping[str, Callable[[FixContext], str]] = {
    "secret-rotation-max-interval": _fix_interval,
    "secret-rotation-required": _fix_rotation,
    "secret-required-tags": _fix_tags,
    "secret-recovery-window": _fix_recovery_window,
    "secret-policy-allowed-accounts": _fix_readers,
    "secret-policy-no-public-access": _fix_public,
    "secret-protected": _fix_protect,
    "secret-replica-regions-allowed": _fix_replica,
    "secret-replica-customer-managed-key": _fix_replica_key,
    "secret-customer-managed-key": _fix_primary_key,
    "secret-name-convention": _fix_name,
    "secret-region-allowed": _fix_region,
}
"""Policy -> the fix in declaration terms (the same table of names as FIELDS)."""

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_FIX_VERBS = frozenset({"Set", "Add", "Use", "Remove", "Rename", "Enable", "Keep", "Name", "Give", "Build", "Fix",
                        "Tag", "Deploy", "Move", "Change"})


def what_and_why(pack_message: str) -> str:
    """The pack's message without its fix: every sentence before the first imperative one after the first.

    Pack messages are "what. why. fix." (policies/README.md); the first sentence is always kept.
    """
    sentences = _SENTENCE_END.split(pack_message.strip())
    for index, sentence in enumerate(sentences[1:], 1):
        if sentence.split(" ", 1)[0] in _FIX_VERBS:
            return " ".join(sentences[:index])
    return " ".join(sentences)


def author_message(pack_message: str, context: FixContext) -> str:
    """The pack's what and why, then the fix in the declaration's terms (the pack's own when none is known)."""
    fix = YAML_FIXES.get(context.subject.policy)
    if fix is None:
        return pack_message
    where = ""
    index = context.subject.secret_index
    if context.path and context.path[0] == "defaults" and index is not None:
        # One line of defaults: serves many secrets; say which one this violation is about.
        where = f" ({format_path(context.path)}, inherited by {context.declaration.secrets[index].name})"
    text = what_and_why(pack_message)
    separator = "" if text.endswith((".", "!", "?")) else "."
    return f"{text}{separator} In the declaration{where}: {fix(context)}."
