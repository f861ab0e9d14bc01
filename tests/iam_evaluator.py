"""An outside IAM policy evaluator for the access-matrix tests: principalmapper's local simulation.

principalmapper (PyPI `principalmapper`, NCC Group's PMapper) evaluates a request the way IAM's
policy evaluation logic does: explicit denies in every policy first, then the resource policy
(cross-account: the resource policy AND the caller's identity policy must allow; same account:
either, except KMS, whose key policy must always allow), then the identity policies, with the
condition operators (String*, Arn*, Bool, Null, ...IfExists, ForAnyValue/ForAllValues):
principalmapper/querying/query_interface.py, local_check_authorization_full.

It is the only library on PyPI found to evaluate resource policies, identity policies and
request conditions together across accounts. iam-ape (Orca) computes effective permissions from
an account's authorization details without a request context; sibyl-aws simulates SCPs and RCPs.
Its last release (1.1.5) predates Python 3.10 and imports `Mapping` from `collections` (removed
in 3.10, still so upstream: nccgroup/PMapper principalmapper/util/case_insensitive_dict.py), so
the two names are provided before the import. Nothing else of it is changed.

What it does not model (said where it matters in the tests): forward access sessions (a
service calling KMS for a principal is given here as the principal's request with
kms:ViaService set, which is how KMS sees it), SCPs/RCPs, permission boundaries and session
policies (none in this layout), and the request context keys AWS adds: the tests pass them.
"""

from __future__ import annotations

import collections
import collections.abc
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any


def _provide_collections_aliases() -> None:
    for name in ("Mapping", "MutableMapping"):
        if not hasattr(collections, name):
            setattr(collections, name, getattr(collections.abc, name))


_provide_collections_aliases()

from principalmapper.common import Node, Policy  # noqa: E402
from principalmapper.querying.query_interface import local_check_authorization_full  # noqa: E402

LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def role(arn: str, policies: Sequence[Mapping[str, Any]] = ()) -> Node:
    """An IAM role with these identity policies attached (inline, as documents)."""
    attached = [Policy(f"{arn}#policy{index}", f"policy{index}", dict(policy)) for index, policy in enumerate(policies)]
    return Node(
        arn=arn,
        id_value="AROA" + hashlib.sha256(arn.encode()).hexdigest()[:17].upper(),
        attached_policies=attached,
        group_memberships=[],
        trust_policy=LAMBDA_TRUST,
        instance_profile=None,
        num_access_keys=0,
        active_password=False,
        is_admin=False,
        permissions_boundary=None,
        has_mfa=False,
        tags={},
    )


def account_of(arn: str) -> str:
    return arn.split(":")[4]


def allowed(
    principal: Node,
    action: str,
    resource: str,
    *,
    context: Mapping[str, str] | None = None,
    resource_policy: Mapping[str, Any] | None = None,
) -> bool:
    """Whether IAM allows the request; the resource's account owns the resource policy.

    `aws:PrincipalArn`, `aws:PrincipalAccount` and `aws:userid` are added by principalmapper;
    `aws:PrincipalIsAWSService` is "false" (every caller here is an IAM role) unless given.
    """
    keys = {"aws:PrincipalIsAWSService": "false", **(context or {})}
    return local_check_authorization_full(
        principal,
        action,
        resource,
        keys,
        dict(resource_policy) if resource_policy is not None else None,
        account_of(resource) if resource_policy is not None else None,
        None,
        None,
    )
