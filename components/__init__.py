"""Pulumi components of the secrets layout, importable by other Pulumi programs.

Start from `SecretsLayout` (one validated declaration -> everything in the security account)
or compose the parts yourself. The decisions (policy documents, rotation settings, tags,
ARNs) are pure functions in `policy_documents`, `rotation_settings` and `secret_settings`.

    layout.py       SecretsLayout              secrets-layout:layout:SecretsLayout
    providers.py    regional_providers, assumed_role_provider
    kms.py          RegionalKey                secrets-layout:kms:RegionalKey
    rotation.py     ManagedRotationApp         secrets-layout:rotation:ManagedRotationApp
                    BundledRotationFunction    secrets-layout:rotation:BundledRotationFunction
    secret.py       ManagedSecret              secrets-layout:secret:ManagedSecret
    consumer.py     ConsumerGrants             secrets-layout:consumer:ConsumerGrants
    parameters.py   ParameterSet               secrets-layout:parameters:ParameterSet
    alerts.py       RotationAlerts             secrets-layout:alerts:RotationAlerts
"""

from secrets_layout.components.alerts import RotationAlerts, RotationAlertsArgs
from secrets_layout.components.consumer import ConsumerGrants, ConsumerGrantsArgs
from secrets_layout.components.kms import RegionalKey, RegionalKeyArgs
from secrets_layout.components.layout import SecretsLayout, SecretsLayoutArgs
from secrets_layout.components.parameters import ParameterSet, ParameterSetArgs
from secrets_layout.components.providers import assumed_role_provider, regional_providers
from secrets_layout.components.rotation import (
    BundledRotationFunction,
    BundledRotationFunctionArgs,
    ManagedRotationApp,
    ManagedRotationAppArgs,
)
from secrets_layout.components.secret import ManagedSecret, ManagedSecretArgs

__all__ = [
    "BundledRotationFunction",
    "BundledRotationFunctionArgs",
    "ConsumerGrants",
    "ConsumerGrantsArgs",
    "ManagedRotationApp",
    "ManagedRotationAppArgs",
    "ManagedSecret",
    "ManagedSecretArgs",
    "ParameterSet",
    "ParameterSetArgs",
    "RegionalKey",
    "RegionalKeyArgs",
    "RotationAlerts",
    "RotationAlertsArgs",
    "SecretsLayout",
    "SecretsLayoutArgs",
    "assumed_role_provider",
    "regional_providers",
]
