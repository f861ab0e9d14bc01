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

The components are imported on first use (PEP 562's module __getattr__): the pure modules
(policy_documents, rotation_settings, secret_settings) are what `validate` builds the pack's
resources with, and importing them must not need the Pulumi SDK, which `validate` does without.
"""

from __future__ import annotations

import importlib
from typing import Any

_MODULE_OF = {
    "RotationAlerts": "alerts", "RotationAlertsArgs": "alerts",
    "ConsumerGrants": "consumer", "ConsumerGrantsArgs": "consumer",
    "RegionalKey": "kms", "RegionalKeyArgs": "kms",
    "SecretsLayout": "layout", "SecretsLayoutArgs": "layout",
    "ParameterSet": "parameters", "ParameterSetArgs": "parameters",
    "assumed_role_provider": "providers", "regional_providers": "providers",
    "BundledRotationFunction": "rotation", "BundledRotationFunctionArgs": "rotation",
    "ManagedRotationApp": "rotation", "ManagedRotationAppArgs": "rotation",
    "ManagedSecret": "secret", "ManagedSecretArgs": "secret",
}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
