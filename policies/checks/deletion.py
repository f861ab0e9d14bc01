"""A deleted secret can be brought back: secret-recovery-window and secret-protected."""

from __future__ import annotations

from typing import Any, List, Mapping

from ..definition import MANDATORY, PolicyDefinition
from ..findings import CannotCheck, Finding, NotApplicable
from ..resources import SECRETS, Resource, config_int, is_unknown, secret_shape, show, whole_number

DEFAULT_MINIMUM_RECOVERY_DAYS = 7
MAXIMUM_RECOVERY_DAYS = 30          # AWS's upper bound


def check_recovery_window(resource: Resource, config: Mapping[str, Any]) -> List[Finding]:
    field = secret_shape(resource).recovery_window
    if field is None:
        # CloudFormation's AWS::SecretsManager::Secret, which aws-native follows, has no recovery window
        # property: what a delete does is the Cloud Control handler's choice, not the program's.
        raise NotApplicable("an aws-native Secret has no recovery window input, so the program cannot choose "
                            "one; secret-protected guards it against an accidental delete")
    minimum = config_int(config, "minimumDays", DEFAULT_MINIMUM_RECOVERY_DAYS)
    value = resource.props.get(field)
    if is_unknown(value):
        raise CannotCheck("recovery_window_in_days is computed from another resource's output")
    fix = f"Set recovery_window_in_days to a value from {minimum} to {MAXIMUM_RECOVERY_DAYS}."
    why = (f"A deleted secret must stay restorable for at least {minimum} days, so that a mistaken delete or "
           "`pulumi destroy` can be undone before consumers break.")
    path = (field,)
    if value is None:
        return [Finding(path, "recovery_window_in_days is not set (AWS would then use 30 days, but the window must be "
                              "an explicit, reviewed choice).", why, fix)]
    days = whole_number(value)
    if days is None:
        return [Finding(path, f"recovery_window_in_days is {show(value)}, not a whole number of days.", why, fix)]
    if days == 0:
        return [Finding(path, "recovery_window_in_days is 0, which force-deletes the secret at once with no way to "
                              "restore it.", why, fix)]
    if days < minimum:
        return [Finding(path, f"recovery_window_in_days is {days}, below the minimum of {minimum} days.", why, fix)]
    if days > MAXIMUM_RECOVERY_DAYS:
        return [Finding(path, f"recovery_window_in_days is {days}; AWS accepts at most {MAXIMUM_RECOVERY_DAYS} days, "
                              "so the deployment would fail.", "", fix)]
    return []


def check_protected(resource: Resource, config: Mapping[str, Any]) -> List[Finding]:
    if resource.protect:
        return []
    return [Finding((), "The secret is not protected, so `pulumi destroy` or a refactor that renames it deletes the "
                        "secret and every credential its consumers use.",
                    fix="Set the resource option protect=True (pulumi.ResourceOptions(protect=True)); remove it "
                        "deliberately with `pulumi state unprotect` when the secret really must go.",
                    option="protect")]


SECRET_RECOVERY_WINDOW = PolicyDefinition(
    name="secret-recovery-window",
    description="Secrets keep a recovery window: set, not 0 (force delete), at least minimumDays and at most 30 days.",
    level=MANDATORY, resource_types=SECRETS, check=check_recovery_window,
    config={"minimumDays": {"type": "integer", "minimum": 7, "maximum": 30, "default": DEFAULT_MINIMUM_RECOVERY_DAYS,
                            "description": "Shortest recovery window accepted, in days (7-30)."}},
    not_covered=("aws-native: no recovery window input (not applicable)",))

SECRET_PROTECTED = PolicyDefinition(
    name="secret-protected",
    description="Secrets carry the protect resource option, so that pulumi destroy or a rename cannot delete them.",
    level=MANDATORY, resource_types=SECRETS, check=check_protected)
