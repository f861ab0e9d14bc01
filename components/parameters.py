"""ParameterSet: non-sensitive configuration in SSM Parameter Store.

    ParameterSet "<name>"                                   secrets-layout:parameters:ParameterSet
    └── aws:ssm/parameter:Parameter "<name>-<path>"         type String, one per declared parameter

Parameters are plain Strings on purpose: the declaration rejects anything that looks like a
credential, and secrets belong in Secrets Manager. Their values go to `insecure_value`, so a
preview shows what changes (the SDK makes `value` a secret output).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from secrets_layout.components.plan.builder import PlanBuilder
from secrets_layout.components.plan.parameters import PARAMETER, PARAMETER_SET, plan_parameter_set
from secrets_layout.components.realize import Bindings, PlannedComponent, Realized
from secrets_layout.components.secret_settings import parameter_resource_suffix
from secrets_layout.declaration.models import Parameter


@dataclass
class ParameterSetArgs:
    environment: str
    """The environment slug, for tags."""
    parameters: Sequence[Parameter]
    """The declared parameters."""
    provider: aws.Provider
    """The primary region's provider in the security account."""


class ParameterSet(PlannedComponent):
    """One SSM String parameter per declared parameter."""

    TYPE = PARAMETER_SET
    parameters: dict[str, aws.ssm.Parameter]
    names: list[str]

    def __init__(self, name: str, args: ParameterSetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, None, opts)
        bindings, plan = Bindings(), PlanBuilder()
        plan_parameter_set(plan, name, parent=None, environment=args.environment, parameters=args.parameters,
                           provider=bindings.external(args.provider))
        self._realize_alone(plan.build(), bindings)

    def take(self, realized: Realized) -> None:
        self.names = list(realized.outputs_of(self._key)["names"])
        self.parameters = {parameter: realized.part(PARAMETER, f"{self._name}-{parameter_resource_suffix(parameter)}")
                           for parameter in self.names}
