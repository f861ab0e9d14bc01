"""The registry: every policy of the pack, once, in the catalog's order (SPEC section 5, then the
policies added since). The pack, ``validate``, the preview's locations and the README's policy table
all read this tuple."""

from __future__ import annotations

from typing import Dict, Tuple

from .checks.access import SECRET_POLICY_ALLOWED_ACCOUNTS, SECRET_POLICY_DENY_OUTSIDE, SECRET_POLICY_NO_PUBLIC_ACCESS
from .checks.deletion import SECRET_PROTECTED, SECRET_RECOVERY_WINDOW
from .checks.keys import (
    KMS_KEY_NOT_PENDING_DELETION,
    KMS_KEY_POLICY_NO_PUBLIC_ACCESS,
    KMS_KEY_ROTATION_ENABLED,
    SECRET_CUSTOMER_MANAGED_KEY,
    SECRET_REPLICA_CUSTOMER_MANAGED_KEY,
)
from .checks.naming import SECRET_NAME_CONVENTION
from .checks.regions import SECRET_REGION_ALLOWED, SECRET_REPLICA_NO_FORCE_OVERWRITE, SECRET_REPLICA_REGIONS_ALLOWED
from .checks.rotation import SECRET_ROTATION_MAX_INTERVAL, SECRET_ROTATION_REQUIRED
from .checks.strength import GENERATED_CREDENTIAL_STRENGTH
from .checks.tagging import SECRET_REQUIRED_TAGS
from .definition import PolicyDefinition

POLICIES: Tuple[PolicyDefinition, ...] = (
    SECRET_NAME_CONVENTION,
    SECRET_RECOVERY_WINDOW,
    SECRET_ROTATION_REQUIRED,
    SECRET_ROTATION_MAX_INTERVAL,
    SECRET_CUSTOMER_MANAGED_KEY,
    SECRET_REPLICA_CUSTOMER_MANAGED_KEY,
    SECRET_POLICY_NO_PUBLIC_ACCESS,
    SECRET_POLICY_ALLOWED_ACCOUNTS,
    SECRET_POLICY_DENY_OUTSIDE,
    SECRET_REQUIRED_TAGS,
    SECRET_PROTECTED,
    KMS_KEY_ROTATION_ENABLED,
    SECRET_REPLICA_REGIONS_ALLOWED,
    KMS_KEY_POLICY_NO_PUBLIC_ACCESS,
    KMS_KEY_NOT_PENDING_DELETION,
    SECRET_REGION_ALLOWED,
    SECRET_REPLICA_NO_FORCE_OVERWRITE,
    GENERATED_CREDENTIAL_STRENGTH,
)

BY_NAME: Dict[str, PolicyDefinition] = {policy.name: policy for policy in POLICIES}
