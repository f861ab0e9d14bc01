"""Who read which secret of the environment: AccessEvents -> per secret and principal -> findings.

Pure functions; the events come from secrets_layout.audit.trail. A secretId is the caller's own words
(a name, a full ARN or a partial ARN), so it is ours only when it names a secret of the environment
where that secret lives: an ARN's account must be the security account and its region one of the
secret's (primary and replicas); a name is resolved in the region of the call (CloudTrail's awsRegion)
and the caller's account, which for every source the audit reads is the security account. Secrets
are the declared ones and any other under `<environment>/` (undeclared ones are shown too).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from secrets_layout.audit import findings as kinds
from secrets_layout.audit.analysis import LiveSecret
from secrets_layout.audit.findings import AccessEvent, Finding, KmsDenial, PrincipalAccess
from secrets_layout.components.policy_documents import role_arn
from secrets_layout.declaration.models import Declaration

SAME_REQUEST = timedelta(seconds=5)
"""A refused kms:Decrypt this close to a refused GetSecretValue of the same principal and secret is
the Decrypt Secrets Manager made for that request (CloudTrail's eventTime has whole seconds)."""

ARN_SUFFIX_LENGTH = 6


@dataclass(frozen=True)
class SecretArn:
    account: str
    region: str
    name: str


def parse_secret_arn(reference: str) -> SecretArn | None:
    """`arn:<partition>:secretsmanager:<region>:<account>:secret:<name>[-XXXXXX]` (None if not one)."""
    parts = reference.split(":", 6)
    if len(parts) != 7 or parts[0] != "arn" or parts[2] != "secretsmanager" or parts[5] != "secret" or not parts[6]:
        return None
    return SecretArn(account=parts[4], region=parts[3], name=secret_name_of(reference))


def secret_name_of(reference: str) -> str:
    """The secret's name from what a caller passed: a name, a full ARN or a partial ARN."""
    if reference.startswith("arn:") and ":secret:" in reference:
        name = reference.split(":secret:", 1)[1]
        # A full ARN ends in '-' and six characters that AWS appended; a partial ARN does not.
        head, _, tail = name.rpartition("-")
        return head if head and len(tail) == ARN_SUFFIX_LENGTH else name
    return reference


@dataclass(frozen=True)
class Ownership:
    """The environment's secrets and the regions each lives in, in the security account."""

    account: str
    prefix: str
    regions: Mapping[str, frozenset[str]]
    """name -> its regions (primary and replicas), declared or live."""
    layout_regions: frozenset[str]

    @classmethod
    def of(cls, declaration: Declaration, live_by_region: Mapping[str, Sequence[LiveSecret]]) -> Ownership:
        regions: dict[str, set[str]] = defaultdict(set)
        for secret in declaration.secrets:
            regions[secret.name].update([declaration.primary_region, *secret.replicas])
        for live_secrets in live_by_region.values():
            for live in live_secrets:
                regions[live.name].update([live.region, *(replica.region for replica in live.replicas)])
        return cls(account=declaration.security_account, prefix=f"{declaration.environment}/",
                   regions={name: frozenset(where) for name, where in regions.items()},
                   layout_regions=frozenset(declaration.regions))

    def secret_of(self, reference: str, region: str) -> str | None:
        """The environment's secret that `reference`, passed in a call to `region`, names (None: not ours)."""
        if reference.startswith("arn:"):
            arn = parse_secret_arn(reference)
            if arn is None or arn.account != self.account:
                return None
            name, region = arn.name, arn.region
        else:
            name = reference
        if not name.startswith(self.prefix):
            return None
        return name if region in self.regions.get(name, self.layout_regions) else None


def unique_events(events: Iterable[AccessEvent]) -> list[AccessEvent]:
    """The same event seen by two sources (LookupEvents and the trail) counts once: CloudTrail's eventID
    (with the secret: a refused batch stands for one attempt per listed secret)."""
    seen: dict[object, AccessEvent] = {}
    for event in events:
        key = (event.event_id, event.secret) if event.event_id else event
        seen.setdefault(key, event)
    return list(seen.values())


def _refused_by_kms(failure: AccessEvent, denials: Sequence[KmsDenial]) -> bool:
    return failure.refused_by_kms or any(
        denial.principal == failure.principal and abs(denial.time - failure.time) <= SAME_REQUEST for denial in denials)


def _latest(times: Iterable[datetime]) -> datetime | None:
    return max(times, default=None)


def summarise_access(
    events: Iterable[AccessEvent], ownership: Ownership, *, kms_denials: Iterable[KmsDenial] = ()
) -> list[PrincipalAccess]:
    """Reads and failed attempts per secret of the environment, by account and principal."""
    grouped: dict[tuple[str, str, str], list[AccessEvent]] = defaultdict(list)
    for event in unique_events(events):
        name = ownership.secret_of(event.secret, event.region)
        if name is not None:
            grouped[(name, event.account, event.principal)].append(event)
    denials: dict[str, list[KmsDenial]] = defaultdict(list)
    for denial in kms_denials:
        name = ownership.secret_of(denial.secret_arn, denial.region)
        if name is not None:
            denials[name].append(denial)
    summaries = []
    for (name, account, principal), group in grouped.items():
        read = [event for event in group if not event.failed]
        failed = [event for event in group if event.failed]
        by_kms = [event for event in failed if _refused_by_kms(event, denials[name])]
        refused = [event for event in failed if event.denied] + [event for event in by_kms if not event.denied]
        summaries.append(PrincipalAccess(
            secret=name, account=account, principal=principal,
            reads=len(read), last_read=_latest(event.time for event in read),
            failed=len(failed), last_failed=_latest(event.time for event in failed),
            errors=tuple(sorted(Counter(str(event.error_code) for event in failed).items())),
            denied=len(refused), denied_by_kms=len(by_kms), last_denied=_latest(event.time for event in refused),
        ))
    return sorted(summaries, key=lambda access: (access.secret, access.account, access.principal))


def declared_readers(declaration: Declaration) -> dict[str, frozenset[str]]:
    """secret name -> the ARNs of the roles declared to read it (CloudTrail names an assumed role by its
    role's ARN, path included: trail._principal)."""
    return {
        secret.name: frozenset(role_arn(declaration.account_id(reader.account), role)
                               for reader in secret.readers for role in reader.roles)
        for secret in declaration.secrets
    }


def refusal_messages(item: PrincipalAccess, *, declared_reader: bool) -> list[str]:
    """What one principal's refused reads of one secret mean, and the fix: a declared reader refused by
    KMS needs the key policy or a grant, one refused by a policy needs the policy restored or its own
    IAM policy; anyone else is a consumer nobody declared, or someone probing."""
    who = f"{item.principal} (account {item.account})"
    last = f"last {item.last_denied:%Y-%m-%d %H:%M} UTC"
    if not declared_reader:
        return [f"{item.denied} denied read(s) by {who}, {last}: a consumer without access, or someone probing; "
                "declare the reader or find who it is"]
    messages = []
    if item.denied_by_kms:
        messages.append(
            f"{item.denied_by_kms} read(s) by {who}, a declared reader, refused by KMS, {last}: the secret's KMS key "
            "does not let it decrypt; fix the key policy or grant (kms:Decrypt for this role through Secrets "
            "Manager; `pulumi up` restores the key policy the program deploys)")
    if item.denied > item.denied_by_kms:
        messages.append(
            f"{item.denied - item.denied_by_kms} denied read(s) by {who}, a declared reader, {last}: the secret's "
            "resource policy or the role's own IAM policy refuses it; restore the resource policy with `pulumi up` "
            "(see policy-drift) or grant the role the policy of `secrets-layout consumer-policy`")
    return messages


def access_findings(access: Iterable[PrincipalAccess], declaration: Declaration) -> list[Finding]:
    """A finding per refusal. Failed attempts that were no refusal (throttling, a secret that does not
    exist) are counted in the access section only."""
    readers = declared_readers(declaration)
    return [
        Finding(item.secret, declaration.primary_region, kinds.ACCESS_DENIED, message)
        for item in access
        if item.denied
        for message in refusal_messages(item, declared_reader=item.principal in readers.get(item.secret, ()))
    ]
