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

from secrets_layout.components.secret_settings import parameter_resource_suffix, parameter_tags
from secrets_layout.declaration.models import Parameter


@dataclass
class ParameterSetArgs:
    environment: str
    """The environment slug, for tags."""
    parameters: Sequence[Parameter]
    """The declared parameters."""
    provider: aws.Provider
    """The primary region's provider in the security account."""


class ParameterSet(pulumi.ComponentResource):
    """One SSM String parameter per declared parameter."""

    parameters: dict[str, aws.ssm.Parameter]
    names: list[str]

    def __init__(self, name: str, args: ParameterSetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("secrets-layout:parameters:ParameterSet", name, None, opts)
        self.parameters = {
            parameter.name: aws.ssm.Parameter(
                f"{name}-{parameter_resource_suffix(parameter.name)}",
                name=parameter.name,
                type="String",
                # `value` is always a secret in the SDK; these values are not secret by
                # construction (credentials are rejected), so previews may show them.
                insecure_value=parameter.value,
                description=parameter.description,
                tags=parameter_tags(parameter, args.environment),
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
            )
            for parameter in args.parameters
        }
        self.names = [parameter.name for parameter in args.parameters]
        self.register_outputs({"names": self.names})
