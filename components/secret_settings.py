"""Per-secret decisions as pure functions: tags, the generated value, ARNs by region.

Nothing here touches Pulumi; components call these and wire the results into resources.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from secrets_layout.declaration.models import MANAGED_BY, Adopt, Parameter, Secret, SecretFormat, SecretKind

DEFAULT_GENERATED_KEY = "password"
"""The JSON key of the generated value when `generate.key` is not given."""

RANDOM_SPECIAL_CHARACTERS = "!@#$%&*()-_=+[]{}<>:?"
"""pulumi_random's default special characters (RandomPassword without override_special)."""

DATABASE_EXCLUDED_CHARACTERS = "\"'/@ "
"""Characters RDS rejects in master passwords; the default exclusion for kind database."""

INITIAL_VERSION_STAGE = "secrets-layout-initial"
"""A custom staging label on the version the deployment wrote, when the secret rotates.

Rotation moves AWSCURRENT/AWSPREVIOUS away from that version; after two rotations it would
have no label left, Secrets Manager treats unlabeled versions as deprecated and may delete
them, and the provider would then plan to create the version again, writing the old value
back. A label of our own keeps the version alive; readers cannot ask for it by stage name
(their resource policy allows only their stages), though a reader of AWSCURRENT can read it by
its VersionId, as any version (policy_documents.stage_condition)."""


def secret_tags(secret: Secret, environment: str) -> dict[str, str]:
    """The secret's tags (defaults already merged) plus the layout's own.

    The layout's keys win over user tags of the same name: environment/kind/managed-by are
    what the policy pack checks. A documented exemption becomes `rotation-exempt=<reason>`, and
    a bundled rotation's adapter becomes the `rotation-<setting>` tags the function reads.
    """
    tags = dict(secret.tags)
    tags.update({"environment": environment, "kind": secret.kind.value, "managed-by": MANAGED_BY})
    if secret.rotation is not None and not secret.rotation.enabled and secret.rotation.reason:
        tags["rotation-exempt"] = secret.rotation.reason
    tags.update(adapter_tags(secret))
    return tags


def adapter_tags(secret: Secret) -> dict[str, str]:
    """`rotation.adapter` as the function's settings: `rotation-<setting>` tags (rotation/README.md).

    The function reads each setting from the tag `rotation-<name>` (rotation/adapters.py
    AdapterSettings), `adapter` naming the adapter type; field `create_url` is setting `create-url`.
    """
    rotation = secret.rotation
    if rotation is None or not rotation.enabled or rotation.function is None or rotation.adapter is None:
        return {}
    settings = rotation.adapter.model_dump(mode="json", exclude_none=True)
    tags = {"rotation-adapter": str(settings.pop("type"))}
    tags.update({f"rotation-{field.replace('_', '-')}": str(value) for field, value in settings.items()})
    return tags


def parameter_tags(parameter: Parameter, environment: str) -> dict[str, str]:
    return {**parameter.tags, "environment": environment, "managed-by": MANAGED_BY}


def password_settings(secret: Secret) -> dict[str, Any]:
    """RandomPassword arguments (snake_case) for a generated value.

    No keepers: the password is created once and stays the same on every later deploy;
    only a change of these settings replaces it.
    """
    generate = secret.value.generate
    if generate is None:
        raise ValueError(f"{secret.name}: the value is not generated")
    excluded = excluded_characters(secret)
    special = "".join(character for character in RANDOM_SPECIAL_CHARACTERS if character not in (excluded or ""))
    settings: dict[str, Any] = {"length": generate.length}
    if generate.exclude_punctuation or not special:
        settings["special"] = False
    else:
        settings["special"] = True
        settings["override_special"] = special
    return settings


def excluded_characters(secret: Secret) -> str | None:
    """Characters no value of this secret may contain: the declared ones, else for a database the
    characters RDS rejects (also what its rotation application must leave out of new passwords)."""
    generate = secret.value.generate
    if generate is not None and generate.exclude_characters is not None:
        return generate.exclude_characters
    return DATABASE_EXCLUDED_CHARACTERS if secret.kind is SecretKind.DATABASE else None


def render_generated_value(secret: Secret, generated: str) -> str:
    """The secret string: the generated value itself, or for JSON the template plus it."""
    return generated_secret_string(*generated_value_settings(secret), generated)


def generated_value_settings(secret: Secret) -> tuple[bool, str, dict[str, Any] | None]:
    """What shapes a generated secret string: (plaintext?, the JSON key, the template)."""
    key = (secret.value.generate.key if secret.value.generate else None) or DEFAULT_GENERATED_KEY
    template = dict(secret.value.template) if secret.value.template is not None else None
    return secret.effective_format is SecretFormat.PLAINTEXT, key, template


def generated_secret_string(plaintext: bool, key: str, template: Mapping[str, Any] | None, generated: str) -> str:
    return generated if plaintext else json.dumps({**(template or {}), key: generated})


ADOPTION_IGNORED_ALWAYS = ["recovery_window_in_days"]
"""Not read back from AWS on import (it only governs deletion), so never a difference to import."""
ADOPTED_ROTATION_IGNORED = ["rotation_lambda_arn", "rotation_rules", "rotate_immediately"]
"""The live rotation stays as it is until the migration (rotate_immediately is not read back either)."""


def adoption_ignore_changes(adopt: Adopt) -> list[str]:
    """Secret inputs the adoption step leaves to the live secret.

    The engine imports a resource by reading it, copying every ignore_changes property from the
    live inputs into the program's, then diffing; any remaining difference fails the import
    (older CLIs) or is applied right after it (pulumi/pulumi developer-docs/architecture/import.md,
    "import resource option"; the change in pulumi/pulumi#19339, documented in pulumi/docs#16580).
    So a live value the declaration does not know is ignored rather than guessed.
    """
    unknown = [field for field in ("kms_key_id", "description", "replicas", "tags") if getattr(adopt, field) is None]
    return ADOPTION_IGNORED_ALWAYS + unknown


def replica_arn(primary_arn: str, region: str) -> str:
    """A replica's ARN: the primary's with the region swapped (same name and suffix)."""
    parts = primary_arn.split(":")
    if len(parts) < 7 or parts[2] != "secretsmanager":
        raise ValueError(f"not a Secrets Manager ARN: {primary_arn}")
    parts[3] = region
    return ":".join(parts)


def arns_by_region(primary_arn: str, primary_region: str, replica_regions: Sequence[str]) -> dict[str, str]:
    return {primary_region: primary_arn, **{region: replica_arn(primary_arn, region) for region in replica_regions}}


def secret_regions(secret: Secret, primary_region: str) -> list[str]:
    return [primary_region, *secret.replicas]


def parameter_resource_suffix(parameter_name: str) -> str:
    """'/prod/orders/log-level' -> 'prod/orders/log-level' for Pulumi resource names."""
    return parameter_name.lstrip("/")


def secrets_output(arn_maps: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, dict[str, str]]]:
    """The `secrets` stack output: {name: {"arn_by_region": {region: arn}}}."""
    return {name: {"arn_by_region": dict(arns)} for name, arns in arn_maps.items()}
