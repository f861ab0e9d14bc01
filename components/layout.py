"""SecretsLayout: one validated declaration -> the whole layout in the security account.

    SecretsLayout "<name>"                                    secrets-layout:layout:SecretsLayout
    ├── pulumi:providers:aws "<name>-aws-<region>"            one per region used, pinned to the security account
    ├── RegionalKey "<name>-kms-<region>"                     per region without a key in kms.keys
    ├── ManagedRotationApp "<name>-rotation-<engine>[-<placement>]"      per managed engine + VPC
    ├── BundledRotationFunction "<name>-rotation-<function>[-<placement>]"  per bundled function + VPC
    ├── ManagedSecret "<secret name>"                         per secret
    ├── ConsumerGrants "<name>-consumer-<account>"            per account with deploy_role_arn and readers
    ├── ParameterSet "<name>-parameters"                      when parameters are declared
    └── RotationAlerts "<name>-alerts"                        when alerts are declared

`stack_outputs` is what the program exports (consumers reference names, not ARNs):

    environment      "prod"
    secrets          {secret name: {"arn_by_region": {region: arn}}}
    secret_names     [secret name, ...]
    kms_key_arns     {region: key arn}
    parameter_names  [parameter name, ...]
    alert_topic_arn  the topic rotation alerts go to (only with alerts:)

The layout is planned once (components/plan/layout.py: a pure function of the declaration) and
realized here with the SDK; the preview evaluates the same plan without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from secrets_layout.components.alerts import RotationAlerts
from secrets_layout.components.consumer import ConsumerGrants
from secrets_layout.components.kms import RegionalKey
from secrets_layout.components.parameters import ParameterSet
from secrets_layout.components.plan.keys import REGIONAL_KEY
from secrets_layout.components.plan.layout import SECRETS_LAYOUT, plan_layout
from secrets_layout.components.plan.providers import AWS_PROVIDER
from secrets_layout.components.plan.rotation import BUNDLED_ROTATION_FUNCTION, MANAGED_ROTATION_APP
from secrets_layout.components.plan.secret import MANAGED_SECRET
from secrets_layout.components.realize import Bindings, PlannedComponent, Realized
from secrets_layout.components.rotation import ROTATION_CODE_DIRECTORY, BundledRotationFunction, ManagedRotationApp
from secrets_layout.components.secret import ManagedSecret
from secrets_layout.declaration.models import Declaration


@dataclass
class SecretsLayoutArgs:
    declaration: Declaration
    """A validated declaration with defaults merged into each secret (the loader's result)."""
    rotation_code_directory: Path = ROTATION_CODE_DIRECTORY
    """Source of the bundled rotation function (default: this repository's rotation/)."""
    config: pulumi.Config | None = None
    """Where `from_config` values are read (default: the project's config namespace)."""


class SecretsLayout(PlannedComponent):
    """Everything one environment declares, in the security account."""

    TYPE = SECRETS_LAYOUT
    providers: dict[str, aws.Provider]
    keys: dict[str, RegionalKey]
    kms_key_arns: dict[str, pulumi.Input[str]]
    managed_rotations: list[ManagedRotationApp]
    bundled_rotations: list[BundledRotationFunction]
    secrets: dict[str, ManagedSecret]
    consumer_grants: dict[str, ConsumerGrants]
    parameters: ParameterSet | None
    alerts: RotationAlerts | None
    stack_outputs: dict[str, Any]

    def __init__(self, name: str, args: SecretsLayoutArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, None, opts)
        plan = plan_layout(name, args.declaration, rotation_code_directory=args.rotation_code_directory)
        self._realize_alone(plan, Bindings(args.config))

    def take(self, realized: Realized) -> None:
        name = self._name
        self.providers = self._children_by_suffix(realized, AWS_PROVIDER, f"{name}-aws-")
        self.keys = self._children_by_suffix(realized, REGIONAL_KEY, f"{name}-kms-")
        self.managed_rotations = list(realized.children(self._key, MANAGED_ROTATION_APP).values())
        self.bundled_rotations = list(realized.children(self._key, BUNDLED_ROTATION_FUNCTION).values())
        self.secrets = realized.children(self._key, MANAGED_SECRET)
        self.consumer_grants = self._children_by_suffix(realized, ConsumerGrants.TYPE, f"{name}-consumer-")
        self.parameters = realized.part(ParameterSet.TYPE, f"{name}-parameters")
        self.alerts = realized.part(RotationAlerts.TYPE, f"{name}-alerts")
        self.stack_outputs = realized.value(realized.plan.exports)
        self.kms_key_arns = self.stack_outputs["kms_key_arns"]

    def _children_by_suffix(self, realized: Realized, resource_type: str, prefix: str) -> dict[str, Any]:
        """This layout's children of one type, by what their name adds to `prefix` (a region, an account)."""
        return {name.removeprefix(prefix): child for name, child in realized.children(self._key, resource_type).items()}
