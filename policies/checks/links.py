"""Which resources name which secret: rotations and tags point at a secret by ``secretId``.

Used by the stack policies (secret-rotation-required, secret-required-tags), which see every
resource with its dependencies (AnalyzeStack).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from ..resources import SECRETS, Resource, contains_unknown, is_unknown, resource_region

_RANDOM_SUFFIX_RE = re.compile(r"-[A-Za-z0-9]{6}", re.ASCII)
_SECRET_ARN_RE = re.compile(r"arn:(?P<partition>[^:]+):secretsmanager:(?P<region>[^:]*):(?P<account>[^:]*):secret:"
                            r"(?P<rest>.+)", re.ASCII | re.DOTALL)


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


def secret_links(resources: Sequence[Resource], linker_types: Sequence[str]) -> SecretLinks:
    """Which resources of ``linker_types`` (rotations, secretsmanager Tags) name which secret by
    their ``secretId``.

    Certain: (1) ``secretId`` depends on the secret (the engine's property dependencies, sent with
    AnalyzeStack: this works during a preview, when the secret's ARN is unknown); (2) ``secretId``
    equals the secret's known ARN/id, or is its name or partial ARN in the same region (a name means
    the secret of that name in the caller's region, so the same name in two regions is two secrets).
    Maybe: ``secretId`` is unknown without a dependency, or names a secret whose name, ARN or region is
    not known yet.
    """
    secrets = [r for r in resources if r.type in SECRETS]
    by_urn = {s.urn: s for s in secrets}
    links = SecretLinks()
    for linker in (r for r in resources if r.type in linker_types):
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
