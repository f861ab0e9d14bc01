"""Which declaration field causes a policy violation, and what the YAML author changes.

The pack (policies/) serves any Pulumi stack, so its findings name resource inputs and options
(`rotationRules.automaticallyAfterDays`, `protect`). Someone who writes environments/<env>.yaml needs
the line and the field they wrote instead. A finding carries the input that causes it (its field
path); `field_candidates` maps that input of a resource the layout makes to the declaration paths
that decide it, best first. A path counts when it was written in the file, in the secret itself or
inherited from `defaults:` (the loader's source map records inherited values at their `defaults:`
line); a violation whose field was not written falls back to its secret's `- name:` line.
`YAML_FIXES` maps a policy to the fix in declaration terms, which replaces the finding's own fix;
the finding's what and why are kept word for word. Nothing here reads a message's text.

Everything here is pure: subjects and declarations in, paths and text out.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from secrets_layout.declaration.models import Declaration
from secrets_layout.declaration.yaml_source import Position, SourceMap
from secrets_layout.errors import Path, format_path
from secrets_layout.policies.checks.naming import suggest_name
from secrets_layout.policies.checks.strength import RANDOM_PASSWORD, ROTATION_APPLICATION
from secrets_layout.policies.findings import Finding
from secrets_layout.policies.resources import SECRET, SECRET_POLICY, SECRET_ROTATION

SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"


@dataclass(frozen=True)
class Subject:
    """A violation as the declaration sees it: which policy found what, in which resource of which secret."""

    policy: str
    finding: Finding
    resource_type: str
    secret_index: int | None
    """The secret whose component made the resource; None for resources outside any secret."""


@dataclass(frozen=True)
class Located:
    """Where a violation belongs: the declaration path (as written: `defaults.…` when inherited)."""

    path: Path
    position: Position


# --------------------------------------------------------------------------------------------
# the finding's input -> the declaration's field
# --------------------------------------------------------------------------------------------

def _secret(subject: Subject, *relative: str | int) -> Path:
    return ("secrets", subject.secret_index, *relative)


def _secret_fields(subject: Subject, declaration: Declaration) -> list[Path]:
    """An input of the Secret (components/secret.py) -> the field that sets it."""
    finding = subject.finding
    if finding.option == "protect":
        return [_secret(subject, "protect")]
    head, rest = (finding.path[0], finding.path[1:]) if finding.path else (None, ())
    if head is None:
        return [_secret(subject, "rotation")]  # a secret as a whole: no rotation names it
    if head in ("name", "namePrefix"):
        return [_secret(subject, "name")]
    if head == "recoveryWindowInDays":
        return [_secret(subject, "recovery_window_days")]
    if head == "kmsKeyId":
        return [("kms", "keys", declaration.primary_region)]
    if head == "region":
        return [("primary_region",)]
    if head == "tags":
        return [_secret(subject, "tags", *rest), _secret(subject, "tags")]
    if head == "replicas":
        entry = [_secret(subject, "replicas", rest[0])] if rest and isinstance(rest[0], int) else []
        key = _replica_key(subject, declaration, rest)
        return [*key, *entry, _secret(subject, "replicas")]
    return []


def _replica_key(subject: Subject, declaration: Declaration, rest: tuple) -> list[Path]:
    """`replicas[i].kmsKeyId` -> the key given for that replica's region under `kms: keys:`."""
    if len(rest) < 2 or rest[1] != "kmsKeyId" or not isinstance(rest[0], int):
        return []
    replicas = declaration.secrets[subject.secret_index].replicas
    return [("kms", "keys", replicas[rest[0]])] if rest[0] < len(replicas) else []


def _policy_fields(subject: Subject, declaration: Declaration) -> list[Path]:
    """The SecretPolicy, written from `readers:`: an account a grant names -> the readers of that account."""
    account = subject.finding.account
    secret = declaration.secrets[subject.secret_index]
    entries = [_secret(subject, "readers", index, "account") for index, reader in enumerate(secret.readers)
               if account is not None and reader.account in declaration.accounts
               and declaration.account_id(reader.account) == account]
    return [*entries, _secret(subject, "readers")]


_ROTATION_RULES = {
    "automaticallyAfterDays": ("every_days",),
    # components/rotation_settings.rotation_rules writes `every_days:` with a `window:` as rate(N days).
    "scheduleExpression": ("schedule", "every_days"),
    "duration": ("window",),
}


def _rotation_fields(subject: Subject, declaration: Declaration) -> list[Path]:
    """The SecretRotation, written from `rotation:` (components/rotation_settings.rotation_rules)."""
    path = subject.finding.path
    fields = _ROTATION_RULES.get(path[1], ()) if len(path) > 1 and path[0] == "rotationRules" else ()
    return [*(_secret(subject, "rotation", field) for field in fields), _secret(subject, "rotation")]


_GENERATOR_SETTINGS = {
    "length": ("length",),
    "special": ("exclude_punctuation",),
    "overrideSpecial": ("exclude_characters",),
    "parameters": ("exclude_characters",),   # AWS's rotation application: its excludeCharacters
}


def _generator_fields(subject: Subject, declaration: Declaration) -> list[Path]:
    """The RandomPassword and the rotation application, both written from `value.generate`
    (components/secret_settings.password_settings, excluded_characters)."""
    path = subject.finding.path
    fields = _GENERATOR_SETTINGS.get(path[0], ()) if path else ()
    generate = ("value", "generate")
    return [*(_secret(subject, *generate, field) for field in fields), _secret(subject, *generate),
            _secret(subject, "value")]


FieldResolver = Callable[[Subject, Declaration], list[Path]]

BY_RESOURCE_TYPE: Mapping[str, FieldResolver] = {
    SECRET: _secret_fields,
    SECRET_POLICY: _policy_fields,
    SECRET_ROTATION: _rotation_fields,
    SECRET_VERSION: lambda subject, declaration: [_secret(subject, "value")],
    RANDOM_PASSWORD: _generator_fields,
    ROTATION_APPLICATION: _generator_fields,
}
"""The resources a secret's component makes -> the declaration fields their inputs come from."""


def field_candidates(subject: Subject, declaration: Declaration) -> list[Path]:
    """Declaration paths that may cause the violation, best first; empty outside any secret."""
    if subject.secret_index is None:
        return []
    resolver = BY_RESOURCE_TYPE.get(subject.resource_type)
    return resolver(subject, declaration) if resolver else []


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


def inheriting_secret(context: FixContext) -> str | None:
    """The secret a violation located under `defaults:` is about; None for one located anywhere else."""
    index = context.subject.secret_index
    if not context.path or context.path[0] != "defaults" or index is None:
        return None
    return context.declaration.secrets[index].name


def once_per_line(located: Sequence[tuple[Hashable, FixContext | None]]) -> list[list[int]]:
    """Violations grouped so that each problem is reported once: those located under `defaults:` with the
    same key (the rule, its level and the line) form one group, in the order first found; any other stays
    alone. Returns the groups as indexes into `located`."""
    groups: dict[Hashable, list[int]] = {}
    for index, (key, context) in enumerate(located):
        shared = context is not None and inheriting_secret(context) is not None
        groups.setdefault(("inherited", key) if shared else ("alone", index), []).append(index)
    return list(groups.values())


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
    if context.path and context.path[-1] == "window":
        return ("shorten `window:` so that each rotation window closes by midnight UTC and before the next one "
                "opens (windows open at midnight for `every_days:`, at the cron hour for `schedule:`)")
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


def _fix_strength(context: FixContext) -> str:
    field = context.path[-1] if context.path else None
    if field == "length":
        return f"set `length:` to {_days(context, 'minimumLength', 32)} or more"
    if field == "exclude_punctuation":
        return "remove `exclude_punctuation: true` (exclude only the characters the system rejects)"
    if field == "exclude_characters":
        return "exclude fewer characters in `exclude_characters:`: only those the system that uses it rejects"
    return "generate the value with `value.generate` of at least the configured length and every character class"


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
    "generated-credential-strength": _fix_strength,
}
"""Policy -> the fix in declaration terms, replacing the finding's own fix (which names resource inputs)."""

def author_message(context: FixContext, inherited_by: Sequence[str] | None = None) -> str:
    """The finding's what and why, then the fix in the declaration's terms (the finding's own when none is known).

    inherited_by: the secrets a violation located under `defaults:` stands for (default: its own secret)."""
    finding = context.subject.finding
    fix = YAML_FIXES.get(context.subject.policy)
    if fix is None:
        return finding.message
    where = ""
    names = list(inherited_by) if inherited_by else ([inheriting_secret(context)] if inheriting_secret(context) else [])
    names = list(dict.fromkeys(names))
    if len(names) > 1:
        # In the declaration's order, whatever order the checks found them in (validate and preview agree).
        # Only then: indexing every secret once per violation is most of a large preview's locating.
        order = {secret.name: index for index, secret in enumerate(context.declaration.secrets)}
        names.sort(key=lambda name: order.get(name, len(order)))
    if names:
        # One line of defaults: serves many secrets; say which ones this violation is about.
        whom = names[0] if len(names) == 1 else f"{len(names)} secrets: {', '.join(names)}"
        where = f" ({format_path(context.path)}, inherited by {whom})"
    text = " ".join(part for part in (finding.what, finding.why) if part)
    separator = "" if text.endswith((".", "!", "?", ";")) else "."
    return f"{text}{separator} In the declaration{where}: {fix(context)}."
