"""The plan of a ManagedSecret: one declared secret with its value, policy, replicas and rotation
(components/secret.py says how each part behaves: rotation owning the value, protection, adoption)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from secrets_layout.components.plan.builder import PlanBuilder, camel, without_none
from secrets_layout.components.plan.model import Derived, FromConfig, Options, Ref, Secret
from secrets_layout.components.rotation_settings import ROTATE_IMMEDIATELY, rotation_rules
from secrets_layout.components.secret_settings import (
    ADOPTED_ROTATION_IGNORED,
    INITIAL_VERSION_STAGE,
    adoption_ignore_changes,
    generated_value_settings,
    password_settings,
    secret_tags,
)
from secrets_layout.declaration.models import Secret as DeclaredSecret

MANAGED_SECRET = "secrets-layout:secret:ManagedSecret"
SECRET = "aws:secretsmanager/secret:Secret"
PASSWORD = "random:index/randomPassword:RandomPassword"
VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
VALUE_IGNORED_WHEN_ROTATING = ("secret_string", "version_stages")


def plan_managed_secret(plan: PlanBuilder, name: str, *, parent: str | None, secret: DeclaredSecret, environment: str,
                        primary_region: str, providers: Mapping[str, Any], kms_key_arns: Mapping[str, Any],
                        resource_policy: Mapping[str, Any], rotation_lambda_arn: Any = None,
                        rotation_dependencies: Sequence[Any] = (), protect: bool = False) -> str:
    """The component and its parts; returns the Secret's plan key."""
    primary = providers[primary_region]
    rotates = rotation_lambda_arn is not None
    if rotates and not secret.rotates:
        raise ValueError(f"{secret.name}: a rotation function was given but the secret declares no enabled "
                         "rotation; add rotation: {every_days: N} (or schedule) to the secret")
    component = plan.component(MANAGED_SECRET, name, parent=parent)
    if secret.adopt is not None:
        key = _plan_adoption(plan, component, name, secret, primary, rotation_lambda_arn, protect)
    else:
        key = plan.add(SECRET, f"{name}-secret", parent=component, provider=primary, inputs=without_none({
            "name": secret.name,
            "description": secret.description,
            "kmsKeyId": kms_key_arns[primary_region],
            "recoveryWindowInDays": secret.recovery_window_days,
            "replicas": [{"region": region, "kmsKeyId": kms_key_arns[region]} for region in secret.replicas],
            "tags": secret_tags(secret, environment),
        }), options=Options(protect=protect, import_id=secret.import_id))
        value = _value(plan, component, name, secret, protect)
        version = None
        if value is not None:
            version = plan.add(VERSION, f"{name}-version", parent=component, provider=primary, inputs=without_none({
                "secretId": Ref(key, "id"),
                "secretString": value,
                "versionStages": ["AWSCURRENT", INITIAL_VERSION_STAGE] if rotates else None,
            }), options=Options(protect=protect, ignore_changes=VALUE_IGNORED_WHEN_ROTATING if rotates else (),
                                additional_secret_outputs=("secret_string",)))
        plan.add(POLICY, f"{name}-policy", parent=component, provider=primary, inputs={
            "secretArn": Ref(key, "arn"), "policy": json.dumps(resource_policy), "blockPublicPolicy": True})
        if rotates and secret.rotation is not None:
            _plan_rotation(plan, component, name, key, secret, primary, rotation_lambda_arn,
                           Options(depends_on=(*([version] if version else []), *rotation_dependencies)))
    plan.finish(component, {
        "name": secret.name, "arn": Ref(key, "arn"),
        "arn_by_region": Derived("arns-by-region", (Ref(key, "arn"), primary_region,
                                                     tuple(secret.deployed_replica_regions)))})
    return key


def _value(plan: PlanBuilder, component: str, name: str, secret: DeclaredSecret, protect: bool) -> Any:
    """The secret string, secret; None for an external value."""
    source = secret.value
    if source.from_config is not None:
        return Secret(FromConfig(source.from_config))
    if source.generate is None:
        return None
    password = plan.add(PASSWORD, f"{name}-password", parent=component,
                        inputs={camel(key): value for key, value in password_settings(secret).items()},
                        options=Options(protect=protect))
    return Secret(Derived("generated-value", (*generated_value_settings(secret), Ref(password, "result"))))


def _plan_rotation(plan: PlanBuilder, component: str, name: str, key: str, secret: DeclaredSecret, primary: Any,
                   rotation_lambda_arn: Any, options: Options) -> None:
    assert secret.rotation is not None
    plan.add(ROTATION, f"{name}-rotation", parent=component, provider=primary, inputs={
        "secretId": Ref(key, "id"),
        "rotationLambdaArn": rotation_lambda_arn,
        "rotationRules": {camel(rule): value for rule, value in rotation_rules(secret.rotation).items()},
        "rotateImmediately": ROTATE_IMMEDIATELY,
    }, options=options)


def _plan_adoption(plan: PlanBuilder, component: str, name: str, secret: DeclaredSecret, primary: Any,
                   rotation_lambda_arn: Any, protect: bool) -> str:
    """Step 1 of adoption: import the secret as it is, and change nothing about it. Returns its key."""
    adopt = secret.adopt
    assert adopt is not None and secret.import_id is not None, "validated: adopt goes with import_id"
    key = plan.add(SECRET, f"{name}-secret", parent=component, provider=primary, inputs=without_none({
        "name": secret.name,
        "description": adopt.description,
        "kmsKeyId": adopt.kms_key_id,
        "recoveryWindowInDays": secret.recovery_window_days,
        "replicas": None if adopt.replicas is None else [
            without_none({"region": replica.region, "kmsKeyId": replica.kms_key_id}) for replica in adopt.replicas],
        "tags": dict(adopt.tags) if adopt.tags is not None else None,
    }), options=Options(protect=protect, import_id=secret.import_id,
                        ignore_changes=tuple(adoption_ignore_changes(adopt))))
    if adopt.rotates and rotation_lambda_arn is not None:
        # A SecretRotation is imported by its secret's ARN (terraform-provider-aws
        # secretsmanager/secret_rotation.go: @ArnIdentity("secret_id")).
        _plan_rotation(plan, component, name, key, secret, primary, rotation_lambda_arn,
                       Options(import_id=secret.import_id, ignore_changes=tuple(ADOPTED_ROTATION_IGNORED)))
    return key
