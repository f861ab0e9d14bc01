"""The policy pack's configuration as the Pulumi CLI reconciles it, without gRPC or the Pulumi SDK.

`pulumi preview --policy-pack-config FILE` reads FILE, starts from every policy's default level and
config-schema defaults, applies the pack's initial config and then the file (`all` sets every
level), and validates each policy's properties against its schema before it calls `Configure`
(https://www.pulumi.com/docs/iac/using-pulumi/crossguard/configuration/). The preview's
AnalyzerClient and `validate` (secrets_layout.findings.declared) both reconcile here, so `validate`
needs nothing of the Pulumi SDK.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence, Union

from secrets_layout.engine.policy_config import ENFORCEMENT_LEVELS

__all__ = ["ENFORCEMENT_LEVELS", "AnalyzerError", "PolicyConfigError", "PolicyInfo", "load_policy_config",
           "reconcile_config"]


class AnalyzerError(RuntimeError):
    """Talking to the policy pack failed."""


class PolicyConfigError(AnalyzerError, ValueError):
    """The policy pack configuration is invalid (what ``pulumi preview`` would refuse)."""


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    description: str
    enforcement_level: str
    kind: str                                   # "resource" | "stack" | "unknown"
    config_schema: Optional[Dict[str, Any]]     # {"properties": {...}, "required": [...]} or None


def whole_numbers(value: Any) -> Any:
    """Undo protobuf's double-only numbers for display: 7.0 -> 7."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [whole_numbers(v) for v in value]
    return value


def _parse_config(data: Any, source: str) -> Dict[str, Dict[str, Any]]:
    """The CLI's parsing of a ``--policy-pack-config`` document: policy -> level string or object."""
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise PolicyConfigError(f"{source}: the policy pack config must be a JSON object of policy name -> config")
    result: Dict[str, Dict[str, Any]] = {}
    for name, value in data.items():
        if isinstance(value, str):
            entry: Dict[str, Any] = {"enforcementLevel": value}
        elif isinstance(value, Mapping):
            entry = dict(value)
        else:
            raise PolicyConfigError(f"{source}: parsing {name!r}: {value!r} is not a valid value; "
                                    "must be a string or object")
        level = entry.get("enforcementLevel")
        if level is not None and level not in ENFORCEMENT_LEVELS:
            raise PolicyConfigError(f"{source}: parsing enforcement level for {name!r}: {level!r} is not a valid "
                                    f"enforcement level ({', '.join(ENFORCEMENT_LEVELS)})")
        if entry:
            result[name] = entry
    return result


def load_policy_config(path: Union[str, os.PathLike]) -> Dict[str, Dict[str, Any]]:
    """Read a ``--policy-pack-config`` file: ``{"policy": "mandatory" | {"enforcementLevel": ..., key: value}}``.

    String values are normalised to ``{"enforcementLevel": value}``.  Raises :class:`PolicyConfigError`.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise PolicyConfigError(f"cannot read policy pack config {path}: {error.strerror or error}") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as error:
        raise PolicyConfigError(f"{path}: not valid JSON: {error}") from None
    return _parse_config(data, str(path))


def _apply(result: Dict[str, Dict[str, Any]], config: Mapping[str, Mapping[str, Any]]) -> None:
    everything = config.get("all", {})
    if everything.get("enforcementLevel"):
        for entry in result.values():
            entry["enforcementLevel"] = everything["enforcementLevel"]
    for name, given in config.items():
        entry = result.setdefault(name, {"enforcementLevel": None, "properties": {}})
        for key, value in given.items():
            if key == "enforcementLevel":
                entry["enforcementLevel"] = value
            else:
                entry["properties"][key] = value


def reconcile_config(policies: Sequence[PolicyInfo], config: Optional[Mapping[str, Any]] = None,
                     initial: Optional[Mapping[str, Any]] = None) -> Dict[str, Dict[str, Any]]:
    """What the CLI sends to ``Configure``: every policy's default level and schema defaults, then the
    pack's initial config, then ``config`` (``"all"`` sets every level), validated against each
    policy's config schema.  Returns ``{policy: {"enforcementLevel": str, "properties": dict}}``.
    Raises :class:`PolicyConfigError` with every schema error, as ``pulumi preview`` refuses to run.
    """
    import jsonschema  # a dependency of the project; imported here to keep start-up light

    result: Dict[str, Dict[str, Any]] = {}
    for policy in policies:
        defaults = {}
        for key, schema in ((policy.config_schema or {}).get("properties") or {}).items():
            if isinstance(schema, Mapping) and "default" in schema:
                defaults[key] = schema["default"]
        result[policy.name] = {"enforcementLevel": policy.enforcement_level, "properties": defaults}
    if initial:
        _apply(result, _parse_config(initial, "initial config"))
    if config:
        _apply(result, _parse_config(config, "policy pack config"))
    errors = []
    for policy in policies:
        if not policy.config_schema:
            continue
        schema: Dict[str, Any] = {"type": "object"}
        if policy.config_schema.get("properties"):
            schema["properties"] = policy.config_schema["properties"]
        if policy.config_schema.get("required"):
            schema["required"] = policy.config_schema["required"]
        validator = jsonschema.Draft7Validator(schema)
        for error in sorted(validator.iter_errors(result[policy.name]["properties"]), key=lambda e: list(e.path)):
            where = ".".join(str(p) for p in error.path)
            errors.append(f"{policy.name}: {where + ': ' if where else ''}{error.message}")
    if errors:
        raise PolicyConfigError("policy pack configuration is invalid:\n  " + "\n  ".join(errors))
    for name, entry in result.items():
        if entry["enforcementLevel"] is None:
            entry["enforcementLevel"] = "advisory"
        entry["properties"] = whole_numbers(entry["properties"])
    return result
