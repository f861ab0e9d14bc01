"""The plan of a ParameterSet: one SSM String parameter per declared parameter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from secrets_layout.components.plan.builder import PlanBuilder, without_none
from secrets_layout.components.secret_settings import parameter_resource_suffix, parameter_tags
from secrets_layout.declaration.models import Parameter

PARAMETER_SET = "secrets-layout:parameters:ParameterSet"
PARAMETER = "aws:ssm/parameter:Parameter"


def plan_parameter_set(plan: PlanBuilder, name: str, *, parent: str | None, environment: str,
                       parameters: Sequence[Parameter], provider: Any) -> dict[str, str]:
    """The component and one parameter each; returns the parameters' plan keys by parameter name."""
    component = plan.component(PARAMETER_SET, name, parent=parent)
    keys = {}
    for parameter in parameters:
        # `value` is always a secret in the SDK; these values are not secret by construction
        # (credentials are rejected), so previews may show them.
        keys[parameter.name] = plan.add(
            PARAMETER, f"{name}-{parameter_resource_suffix(parameter.name)}", parent=component, provider=provider,
            inputs=without_none({"name": parameter.name, "type": "String", "insecureValue": parameter.value,
                                 "description": parameter.description,
                                 "tags": parameter_tags(parameter, environment)}))
    plan.finish(component, {"names": [parameter.name for parameter in parameters]})
    return keys
