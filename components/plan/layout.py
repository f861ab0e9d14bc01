"""The plan of a SecretsLayout: one validated declaration -> every registration of the layout, in
the order the components make them (components/layout.py draws the tree), and the program's exports.

A pure function of the declaration: the components realize it with the SDK (`pulumi up`), and the
preview evaluates it without (secrets_layout/engine/plan_evaluation.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from secrets_layout.components.alert_settings import eventbridge_key_statement
from secrets_layout.components.plan.alerts import plan_rotation_alerts
from secrets_layout.components.plan.builder import PlanBuilder
from secrets_layout.components.plan.consumer import plan_consumer_grants
from secrets_layout.components.plan.keys import plan_regional_key
from secrets_layout.components.plan.model import Derived, Plan, Ref
from secrets_layout.components.plan.parameters import plan_parameter_set
from secrets_layout.components.plan.providers import plan_regional_providers
from secrets_layout.components.plan.rotation import plan_bundled_rotation_function, plan_managed_rotation_app
from secrets_layout.components.plan.secret import plan_managed_secret
from secrets_layout.components.policy_documents import consumer_grant_policies, reader_roles, secret_policy_for
from secrets_layout.components.rotation_settings import bundled_rotation_groups, managed_rotation_groups, rotation_method
from secrets_layout.declaration.models import Declaration

SECRETS_LAYOUT = "secrets-layout:layout:SecretsLayout"


def _suffixed(*parts: str) -> str:
    return "-".join(part for part in parts if part)


def plan_layout(name: str, declaration: Declaration, *, rotation_code_directory: Path,
                parent: str | None = None) -> Plan:
    """Every registration of the layout, and the stack outputs (`stack_outputs`) as exports."""
    plan = PlanBuilder()
    environment, primary_region = declaration.environment, declaration.primary_region
    tags = {"environment": environment}
    layout = plan.component(SECRETS_LAYOUT, name, parent=parent)
    providers = plan_regional_providers(plan, f"{name}-aws", regions=declaration.regions,
                                        account_id=declaration.security_account, parent=layout)
    primary = providers[primary_region]
    kms_key_arns: dict[str, Any] = {}
    readers = reader_roles(declaration)
    for region in declaration.regions:
        existing = declaration.kms.keys.get(region)
        if existing is not None:
            kms_key_arns[region] = existing
            continue
        key = plan_regional_key(plan, f"{name}-kms-{region}", parent=layout, environment=environment, region=region,
                                security_account=declaration.security_account, reader_roles=readers,
                                provider=providers[region], protect=declaration.protected_by_default,
                                service_statements=_key_service_statements(declaration, region))
        kms_key_arns[region] = Ref(key, "arn")

    # Which function rotates each secret, and what its rotation must wait for.
    rotation_arns: dict[str, Any] = {}
    rotation_dependencies: dict[str, tuple[str, ...]] = {}
    for group in managed_rotation_groups(declaration.secrets):
        function_arn, app = plan_managed_rotation_app(
            plan, _suffixed(f"{name}-rotation-{group.managed.value}", group.placement), parent=layout, managed=group.managed, region=primary_region,
            function_name=group.function_name(environment), provider=primary, vpc=group.vpc,
            kms_key_arn=kms_key_arns[primary_region], kms_key_arns=dict(kms_key_arns),
            security_account=declaration.security_account, master_secret_arn=group.master_secret_arn,
            exclude_characters=group.exclude_characters, tags=tags)
        for secret_name in group.secret_names:
            rotation_arns[secret_name] = function_arn
            rotation_dependencies[secret_name] = (app,)
    for bundled in bundled_rotation_groups(declaration.secrets):
        function_arn, permission = plan_bundled_rotation_function(
            plan, _suffixed(f"{name}-rotation-{bundled.function.value}", bundled.placement), parent=layout,
            function_name=bundled.function_name(environment), region=primary_region,
            security_account=declaration.security_account, kms_key_arns=dict(kms_key_arns), provider=primary,
            vpc=bundled.vpc, code_directory=rotation_code_directory, tags=tags, allowed_hosts=bundled.allowed_hosts)
        for secret_name in bundled.secret_names:
            rotation_arns[secret_name] = function_arn
            rotation_dependencies[secret_name] = (permission,)
    for secret in declaration.secrets:
        if rotation_method(secret) == "lambda_arn" and secret.rotation and secret.rotation.lambda_arn:
            rotation_arns[secret.name] = secret.rotation.lambda_arn

    secret_arns = {}
    for secret in declaration.secrets:
        key = plan_managed_secret(
            plan, secret.name, parent=layout, secret=secret, environment=environment, primary_region=primary_region,
            providers=providers, kms_key_arns=kms_key_arns, resource_policy=secret_policy_for(declaration, secret),
            rotation_lambda_arn=rotation_arns.get(secret.name),
            rotation_dependencies=rotation_dependencies.get(secret.name, ()), protect=declaration.protects(secret))
        secret_arns[secret.name] = Derived("arns-by-region", (Ref(key, "arn"), primary_region,
                                                               tuple(secret.deployed_replica_regions)))

    for account_name, account in declaration.accounts.items():
        if account.deploy_role_arn is None:
            continue
        policies_by_role = consumer_grant_policies(declaration, account_name)
        if policies_by_role:
            plan_consumer_grants(plan, f"{name}-consumer-{account_name}", parent=layout, environment=environment,
                                 account_id=account.id, deploy_role_arn=account.deploy_role_arn,
                                 region=primary_region, policies_by_role=policies_by_role)
    if declaration.parameters:
        plan_parameter_set(plan, f"{name}-parameters", parent=layout, environment=environment,
                           parameters=declaration.parameters, provider=primary)
    topic_arn = None
    if declaration.alerts is not None:
        topic_arn = plan_rotation_alerts(
            plan, f"{name}-alerts", parent=layout, environment=environment,
            security_account=declaration.security_account, primary_region=primary_region,
            regions=declaration.regions, alerts=declaration.alerts, providers=providers,
            kms_key_arn=kms_key_arns[primary_region], tags=tags)

    exports: dict[str, Any] = {
        "environment": environment,
        "secrets": {secret_name: {"arn_by_region": arns} for secret_name, arns in secret_arns.items()},
        "secret_names": list(secret_arns),
        "kms_key_arns": dict(kms_key_arns),
        "parameter_names": [parameter.name for parameter in declaration.parameters],
    }
    if topic_arn is not None:
        exports["alert_topic_arn"] = topic_arn
    plan.finish(layout, exports)
    return plan.build(exports)


def _key_service_statements(declaration: Declaration, region: str) -> list[dict[str, Any]]:
    # A created alert topic is encrypted with the primary region's key, so EventBridge must be
    # able to use that key (components/alerts.py says why).
    alerts = declaration.alerts
    if alerts is None or alerts.topic is None or region != declaration.primary_region:
        return []
    return [eventbridge_key_statement()]
