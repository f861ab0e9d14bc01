"""The pure functions a `Derived` value applies, by name.

Each runs in two places with the same arguments: inside an Output's `apply` when the components
realize a plan (components/realize.py), and in the preview's evaluation of the plan once every
reference is resolved (secrets_layout/engine/plan_evaluation.py). While a reference is unknown (a
dry run of resources being created), neither runs and the value is unknown, as the SDK leaves an
`apply` of an unknown Output.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from secrets_layout.components.policy_documents import replica_keys_policy, rotation_function_policy
from secrets_layout.components.secret_settings import arns_by_region, generated_secret_string


def _json(document: Any) -> str:
    return json.dumps(document)


def _item(mapping: Mapping[str, Any], key: str) -> Any:
    return mapping[key]


def _last_path_segment(arn: str) -> str:
    """`arn:aws:iam::111111111111:role/path/name` -> `name`: a role's name from its ARN."""
    return arn.rsplit("/", 1)[-1]


def _rotation_function_policy(function_name: str, region: str, security_account: str,
                              kms_key_arns: Mapping[str, str]) -> str:
    return json.dumps(rotation_function_policy(function_name=function_name, region=region,
                                               security_account=security_account, kms_key_arns=kms_key_arns))


def _replica_keys_policy(primary_region: str, security_account: str, kms_key_arns: Mapping[str, str]) -> str:
    return json.dumps(replica_keys_policy(primary_region=primary_region, security_account=security_account,
                                          kms_key_arns=kms_key_arns))


def _arns_by_region(primary_arn: str, primary_region: str, replica_regions: Sequence[str]) -> dict[str, str]:
    return arns_by_region(primary_arn, primary_region, list(replica_regions))


DERIVATIONS: Mapping[str, Callable[..., Any]] = {
    "json": _json,
    "item": _item,
    "last-path-segment": _last_path_segment,
    "rotation-function-policy": _rotation_function_policy,
    "replica-keys-policy": _replica_keys_policy,
    "generated-value": generated_secret_string,
    "arns-by-region": _arns_by_region,
}
