"""Rotation untested below: a secret that rotates here, whose counterpart in a lower environment
(`lower_environments:`) has not rotated successfully within its interval, rotates here first (the
article's pitfall 6). Read from the live account: the counterpart's LastRotatedDate, which Secrets Manager
sets when a rotation finishes (DescribeSecret, "LastRotatedDate: The last date and time that Secrets Manager
rotated the secret"). A lower environment in another account is named in the notes: these credentials
cannot read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from secrets_layout.audit import findings as kinds
from secrets_layout.audit.collect import AwsClients, KeyResolver, list_live_secrets
from secrets_layout.audit.findings import Finding
from secrets_layout.components.rotation_settings import rotation_rules
from secrets_layout.declaration.models import Declaration, Rotation
from secrets_layout.declaration.parity import Lower, Unreadable, counterpart_name
from secrets_layout.policies.schedule import ScheduleError, rotation_interval_days


def interval_days(rotation: Rotation) -> float | None:
    """The longest time between two rotations the declaration asks for (None: cannot be judged)."""
    rules = rotation_rules(rotation)
    try:
        return rotation_interval_days(rules.get("automatically_after_days"), rules.get("schedule_expression"))
    except ScheduleError:
        return None


def untested_below(declaration: Declaration, lower: Mapping[str, Lower], clients: AwsClients,
                   resolver: KeyResolver, now: datetime) -> tuple[list[Finding], list[str]]:
    """The findings, and notes on the lower environments that could not be read."""
    found: list[Finding] = []
    notes: list[str] = []
    rotating = [secret for secret in declaration.secrets if secret.rotates]
    for environment, below in lower.items():
        if not rotating:
            break
        if below is None or isinstance(below, Unreadable):
            why = ("is not declared beside this declaration" if below is None
                   else f"is declared in {below.path}, which is not a valid declaration")
            notes.append(f"{environment} {why}; rotation below {declaration.environment} was not checked there")
            continue
        if below.security_account != declaration.security_account:
            notes.append(f"{environment} keeps its secrets in account {below.security_account}, not "
                         f"{declaration.security_account}; audit it there to see whether its rotations succeed")
            continue
        live = {secret.name: secret for secret in
                list_live_secrets(clients, below.primary_region, f"{environment}/", resolver)}
        declared = {secret.name: secret for secret in below.secrets}
        for secret in rotating:
            name = counterpart_name(secret.name, environment)
            counterpart = declared.get(name)
            days = interval_days(counterpart.rotation if counterpart is not None and counterpart.rotates
                                 else secret.rotation)
            last = live[name].last_rotated if name in live else None
            if last is not None and (days is None or now - last <= timedelta(days=days)):
                continue
            when = (f"last rotated {last:%Y-%m-%d}, more than {days:g} days ago" if last is not None
                    else "never rotated" if name in live else "not in the account")
            found.append(Finding(
                secret.name, declaration.primary_region, kinds.ROTATION_UNTESTED_BELOW,
                f"rotation untested below {declaration.environment}: {name} in {environment} is {when}, so this "
                f"rotation's next run here is not known to work; rotate {name} in {environment} first "
                f"(aws secretsmanager rotate-secret --secret-id {name} --region {below.primary_region}) and fix it "
                "there if it fails"))
    return found, notes
