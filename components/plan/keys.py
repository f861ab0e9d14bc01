"""The plan of a RegionalKey: the environment's customer managed key in one region, and its alias
(components/kms.py says why)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from secrets_layout.components.plan.builder import PlanBuilder
from secrets_layout.components.plan.model import Options, Ref
from secrets_layout.components.policy_documents import kms_key_policy
from secrets_layout.declaration.models import MANAGED_BY

REGIONAL_KEY = "secrets-layout:kms:RegionalKey"
KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"


def key_alias(environment: str) -> str:
    return f"alias/secrets/{environment}"


def plan_regional_key(plan: PlanBuilder, name: str, *, parent: str | None, environment: str, region: str,
                      security_account: str, reader_roles: Sequence[tuple[str, str]], provider: Any,
                      protect: bool = False, deletion_window_in_days: int = 30,
                      tags: Mapping[str, str] | None = None,
                      service_statements: Sequence[Mapping[str, Any]] = ()) -> str:
    """The component and its key and alias; returns the key's plan key (its `arn` is the key's ARN)."""
    component = plan.component(REGIONAL_KEY, name, parent=parent)
    policy = kms_key_policy(region=region, security_account=security_account, reader_roles=reader_roles,
                            service_statements=service_statements)
    key = plan.add(KEY, f"{name}-key", parent=component, provider=provider, inputs={
        "description": f"Secrets Manager secrets of {environment} ({region})",
        "enableKeyRotation": True,
        "deletionWindowInDays": deletion_window_in_days,
        "policy": json.dumps(policy),
        "tags": {**(tags or {}), "environment": environment, "managed-by": MANAGED_BY},
    }, options=Options(protect=protect))
    alias = plan.add(ALIAS, f"{name}-alias", parent=component, provider=provider, inputs={
        "name": key_alias(environment), "targetKeyId": Ref(key, "keyId"),
    })
    plan.finish(component, {"key_arn": Ref(key, "arn"), "alias_name": Ref(alias, "name")})
    return key
