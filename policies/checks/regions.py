"""Where a secret and its copies live: secret-region-allowed, secret-replica-regions-allowed and
secret-replica-no-force-overwrite."""

from __future__ import annotations

from typing import Any, List, Mapping

from ..definition import ADVISORY, PolicyDefinition
from ..findings import CannotCheck, Finding, NotApplicable
from ..resources import SECRET, SECRETS, Resource, is_unknown, resource_region, secret_shape
from .schemas import REGIONS


def check_secret_region(resource: Resource, config: Mapping[str, Any]) -> List[Finding]:
    allowed = config.get("allowedRegions")
    if not allowed:
        raise NotApplicable('the config key "allowedRegions" is missing, so the secret\'s region cannot be checked')
    region = resource_region(resource)
    if region is None:
        raise NotApplicable("neither the secret nor its provider names a region, so it cannot be checked")
    if is_unknown(region):
        raise CannotCheck("the secret's region (its provider's region) is computed from another resource's output")
    if region in allowed:
        return []
    allowed_text = ", ".join(str(r) for r in allowed)
    return [Finding(("region",), f"The secret is in region {region}, which is not one of the allowed regions "
                                 f"({allowed_text}).",
                    "A secret outside the approved regions escapes the data-residency and recovery plan.",
                    "Deploy it with a provider of an allowed region (region=...), or add "
                    f'{region} to "allowedRegions" in the policy pack config.')]


def check_replica_regions(resource: Resource, config: Mapping[str, Any]) -> List[Finding]:
    allowed = config.get("allowedRegions")
    if not allowed:
        raise NotApplicable('the config key "allowedRegions" is missing, so replica regions cannot be checked')
    field = secret_shape(resource).replicas
    replicas = resource.props.get(field)
    if is_unknown(replicas):
        raise CannotCheck("the replicas are computed from another resource's output")
    findings, unknown = [], False
    allowed_text = ", ".join(str(r) for r in allowed)
    for index, replica in enumerate(replicas or []):
        region = replica.get("region") if isinstance(replica, Mapping) else replica
        if is_unknown(region):
            unknown = True
            continue
        if region not in allowed:
            findings.append(Finding(
                (field, index, "region"), f"Replica {index} is in region {region}, which is not one of the allowed "
                                          f"regions ({allowed_text}).",
                "Copies of a secret outside the approved regions escape the data-residency and recovery plan.",
                'Remove the replica, or add the region to "allowedRegions" in the policy pack config.'))
    if unknown and not findings:
        raise CannotCheck("a replica region is computed from another resource's output")
    return findings


def check_no_force_overwrite(resource: Resource, config: Mapping[str, Any]) -> List[Finding]:
    value = resource.props.get("forceOverwriteReplicaSecret")
    if is_unknown(value):
        raise CannotCheck("force_overwrite_replica_secret is computed from another resource's output")
    if value is not True:
        return []
    return [Finding(("forceOverwriteReplicaSecret",),
                    "force_overwrite_replica_secret is true, so replication overwrites a secret of the same name that "
                    "already exists in a replica region, and whatever used that secret silently gets this one's "
                    "value.",
                    fix="Set force_overwrite_replica_secret=False (the default); if a secret of that name is in the "
                        "way, review and delete it first.")]


SECRET_REPLICA_REGIONS_ALLOWED = PolicyDefinition(
    name="secret-replica-regions-allowed",
    description="Secrets are only replicated to the allowed regions.",
    level=ADVISORY, resource_types=SECRETS, check=check_replica_regions, config={"allowedRegions": REGIONS})

SECRET_REGION_ALLOWED = PolicyDefinition(
    name="secret-region-allowed",
    description="Secrets live in an allowed region (their own or their provider's region).",
    level=ADVISORY, resource_types=SECRETS, check=check_secret_region, config={"allowedRegions": REGIONS})

SECRET_REPLICA_NO_FORCE_OVERWRITE = PolicyDefinition(
    name="secret-replica-no-force-overwrite",
    description="Secrets do not set force_overwrite_replica_secret, which overwrites an existing secret in a replica "
                "region.",
    level=ADVISORY, resource_types=(SECRET,), check=check_no_force_overwrite,
    not_covered=("aws-native: its Secret has no such input",))
