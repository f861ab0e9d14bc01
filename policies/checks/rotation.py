"""Secrets rotate, often enough: secret-rotation-required (stack) and secret-rotation-max-interval."""

from __future__ import annotations

from typing import Any, List, Mapping, Optional, Sequence

from ..definition import MANDATORY, PolicyDefinition, StackVerdict
from ..findings import CannotCheck, Finding
from ..resources import (
    NATIVE_SECRET,
    SECRET,
    ROTATIONS,
    SECRET_TAG,
    SECRETS,
    Resource,
    config_int,
    is_unknown,
    secret_label,
    show,
    tag_view,
    whole_number,
)
from ..schedule import ScheduleError, format_days, longest_gap_details, secrets_manager_problems, window_problems
from .links import secret_links

DEFAULT_MAXIMUM_ROTATION_DAYS = 90
# RotationRules.AutomaticallyAfterDays accepts 1-1000 (Secrets Manager API reference, RotationRulesType:
# https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotationRulesType.html).
MAXIMUM_AUTOMATIC_DAYS = 1000
ROTATION_EXEMPT_TAG = "rotation-exempt"
RULES = "rotationRules"
ROTATION_RESOURCE = {
    SECRET: ("SecretRotation", "aws.secretsmanager.SecretRotation"),
    NATIVE_SECRET: ("RotationSchedule", "aws_native.secretsmanager.RotationSchedule"),
}
"""A secret's type -> the rotation resource its provider has, as a message names it."""
_WHY = "A credential that lives longer stays usable longer after it leaks."


# --------------------------------------------------------------------------------------------
# secret-rotation-max-interval
# --------------------------------------------------------------------------------------------


def check_rotation_interval(resource: Resource, config: Mapping[str, Any]) -> List[Finding]:
    maximum = config_int(config, "maximumDays", DEFAULT_MAXIMUM_ROTATION_DAYS)
    if resource.props.get("rotationEnabled") is False:
        return []  # rotation switched off: secret-rotation-required reports it
    rules = resource.props.get(RULES)
    if is_unknown(rules):
        raise CannotCheck("rotation_rules is computed from another resource's output")
    if not isinstance(rules, Mapping) or (rules.get("automaticallyAfterDays") is None
                                          and rules.get("scheduleExpression") is None):
        return [Finding((RULES,), "The rotation has no rotation_rules (automatically_after_days or "
                                  "schedule_expression), so how often it rotates cannot be shown to be within "
                                  f"{maximum} days.",
                        fix=f'Set rotation_rules, e.g. {{"automatically_after_days": {maximum}}}.')]
    after, expression = rules.get("automaticallyAfterDays"), rules.get("scheduleExpression")
    if is_unknown(after) or is_unknown(expression):
        raise CannotCheck("the rotation schedule is computed from another resource's output")
    if after is not None and expression is not None:
        return [Finding((RULES,), "rotation_rules sets both automatically_after_days and schedule_expression; AWS "
                                  "accepts only one and rejects the rotation.", fix="Keep one of them.")]
    found = (_after_days(after, maximum) if after is not None else _schedule(expression, maximum))
    return found or _window(rules.get("duration"), expression)


def _after_days(after: Any, maximum: int) -> List[Finding]:
    path = (RULES, "automaticallyAfterDays")
    days = whole_number(after)
    if days is None or days < 1:
        return [Finding(path, f"automatically_after_days is {show(after)}, not a whole number of days >= 1.",
                        fix=f"Set automatically_after_days to a whole number from 1 to {maximum}.")]
    if days > MAXIMUM_AUTOMATIC_DAYS:
        return [Finding(path, f"automatically_after_days is {days}; Secrets Manager accepts 1 to "
                              f"{MAXIMUM_AUTOMATIC_DAYS} days, so the deployment would fail.",
                        fix=f"Set automatically_after_days to {min(maximum, 1000)} or less.")]
    if days > maximum:
        return [Finding(path, f"The secret rotates every {format_days(days)} (automatically_after_days), longer "
                              f"than the maximum of {maximum} days.", _WHY,
                        f"Set automatically_after_days to {maximum} or less.")]
    return []


def _schedule(expression: Any, maximum: int) -> List[Finding]:
    path = (RULES, "scheduleExpression")
    if not isinstance(expression, str):
        return [Finding(path, f"schedule_expression is {show(expression)}, not a rate() or cron() expression.",
                        fix=f"Use e.g. rate({maximum} days).")]
    try:
        gap = longest_gap_details(expression)
    except ScheduleError as error:
        return [Finding(path, f'The rotation schedule "{expression}" cannot be judged: {error.reason}.',
                        f"A schedule that cannot be read cannot be shown to rotate within {maximum} days (and AWS "
                        "may reject it).",
                        "Use rate(N days), rate(N hours) or a valid AWS cron(minutes hours day-of-month month "
                        "day-of-week year) expression.")]
    if gap.days <= maximum + 1e-9:
        limits = secrets_manager_problems(expression)
        if limits:
            return [Finding(path, f'Secrets Manager rejects the rotation schedule "{expression}": '
                                  f'{"; ".join(limits)}, so the deployment would fail '
                                  "(https://docs.aws.amazon.com/secretsmanager/latest/userguide/"
                                  "rotate-secrets_schedule.html).",
                            fix="Use e.g. rate(N days) or cron(0 H D M ? *) with minutes 0 and year *.")]
        return []
    if gap.end is None and gap.start is not None:
        return [Finding(path, f'The rotation schedule "{expression}" stops running after {gap.start:%Y-%m-%d %H:%M} '
                              "UTC (its year field is not *), so the secret is then never rotated again.", _WHY,
                        f"Use * as the year, e.g. rate({maximum} days).")]
    example = f" (e.g. from {gap.start:%Y-%m-%d %H:%M} to {gap.end:%Y-%m-%d %H:%M} UTC)" if gap.start else ""
    return [Finding(path, f'The rotation schedule "{expression}" leaves up to {format_days(gap.days)} between two '
                          f"rotations{example}, longer than the maximum of {maximum} days.", _WHY,
                    f"Use a schedule whose longest gap is at most {maximum} days, e.g. rate({maximum} days).")]


def _window(duration: Any, expression: Optional[str]) -> List[Finding]:
    """The rotation window (``duration``), which AWS refuses when it runs into the next window or day."""
    if duration is None:
        return []
    if is_unknown(duration):
        raise CannotCheck("the rotation window (duration) is computed from another resource's output")
    problems = window_problems(duration, expression)
    if not problems:
        return []
    with_schedule = f' with the schedule "{expression}"' if expression else ""
    return [Finding((RULES, "duration"),
                    f'Secrets Manager rejects the rotation window duration {show(duration)}{with_schedule}: '
                    f"{problems[0]}, so the deployment would fail (RotationRulesType.Duration: the window must not "
                    "extend into the next rotation window or the next UTC day).",
                    fix="Shorten duration so that each window closes by midnight UTC and before the next one opens.")]


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


def rotation_enabled(rotation: Resource) -> bool:
    """Whether a rotation resource turns rotation on.

    Its ``rotationRules`` decide, known or not: pulumi-aws's SecretRotation "defaults to enabled when
    rotation_rules is configured" (terraform-provider-aws internal/service/secretsmanager/
    secret_rotation.go: ``rotation_rules`` Required, Create calls RotateSecret with the rules, which
    turns rotation on; ``rotation_enabled`` is computed), and aws-native's RotationSchedule is
    CloudFormation's AWS::SecretsManager::RotationSchedule, whose RotationRules set the schedule. So a
    preview, where the rules' values or the whole object may be unknown, still knows rotation is on; only
    an explicit ``rotationEnabled: false``, or no rules at all, is off. How often it rotates is the
    interval policy's question.
    """
    props = rotation.props
    if props.get("rotationEnabled") is False:
        return False
    rules = props.get(RULES)
    if is_unknown(rules):
        return True
    if not isinstance(rules, Mapping):
        return False
    return any(rules.get(key) is not None for key in ("automaticallyAfterDays", "scheduleExpression"))


def check_rotation_required(resources: Sequence[Resource], config: Mapping[str, Any]) -> StackVerdict:
    """Every secret has an enabled rotation unless exempt.

    A value that is unknown never makes a violation: a secret is only reported when no rotation can be
    linked to it. What stays undecided (a rotation or tag whose secret is not known yet) is said once for
    the stack.
    """
    links = secret_links(resources, ROTATIONS)
    tag_links = secret_links(resources, (SECRET_TAG,))
    verdict, undecided = StackVerdict(), []
    for secret in (r for r in resources if r.type in SECRETS):
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
        rotations = links.linked.get(secret.urn, [])
        if any(rotation_enabled(r) for r in rotations):
            continue
        label = secret_label(secret)
        if links.maybe.get(secret.urn) or unknown:
            undecided.append(label)
            continue
        empty_reason = ROTATION_EXEMPT_TAG in tags and not rotation_exemption(tags)
        note = f" (its {ROTATION_EXEMPT_TAG} tag gives no reason, so it does not count)" if empty_reason else ""
        why = "A credential that is never rotated stays valid forever after it leaks."
        kind, resource_class = ROTATION_RESOURCE[secret.type]
        if rotations:
            names = ", ".join(r.name for r in rotations)
            verdict.findings.append((secret.urn, Finding(
                (), f'Secret "{label}" has a {kind} ({names}) that is disabled or has no rotation_rules{note}.',
                why, "Enable it with rotation_rules, or, if the secret cannot be rotated, tag it kind=generic or "
                     f'{ROTATION_EXEMPT_TAG}="<reason>".')))
        else:
            verdict.findings.append((secret.urn, Finding(
                (), f'Secret "{label}" has no {kind}{note}.', why,
                f"Add an {resource_class} with secret_id set to this secret and rotation_rules, or, "
                f'if it cannot be rotated, tag it kind=generic or {ROTATION_EXEMPT_TAG}="<reason>".')))
    if undecided:
        verdict.undecided = CannotCheck(f"whether {', '.join(undecided)} {'is' if len(undecided) == 1 else 'are'} "
                                        "rotated depends on values that are not known yet").message
    return verdict


SECRET_ROTATION_REQUIRED = PolicyDefinition(
    name="secret-rotation-required",
    description="Every secret has an enabled SecretRotation, unless its kind tag is generic or a rotation-exempt tag "
                "gives the reason.",
    level=MANDATORY, resource_types=(*SECRETS, *ROTATIONS, SECRET_TAG), check=check_rotation_required, stack=True)

SECRET_ROTATION_MAX_INTERVAL = PolicyDefinition(
    name="secret-rotation-max-interval",
    description="Secrets rotate at least every maximumDays days; rate() and cron() schedules are judged by the longest "
                "gap between two runs, and the rotation window must close before the next one and by midnight UTC.",
    level=MANDATORY, resource_types=ROTATIONS, check=check_rotation_interval,
    config={"maximumDays": {"type": "integer", "minimum": 1, "maximum": 1000, "default": DEFAULT_MAXIMUM_ROTATION_DAYS,
                            "description": "Longest interval accepted between two rotations, in days."}})
