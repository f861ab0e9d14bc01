"""What the installed provider SDKs say about a resource type: its inputs, and the outputs its provider computes.

A Pulumi provider SDK (pulumi_aws, pulumi_random, pulumi_aws_native, ...) is generated from the provider's
schema, and keeps what the offline engine needs to know about a type in two classes:

- the `<Resource>Args` class: the inputs (its property getters carry the Pulumi names) and which of them
  are required (the `__init__` parameters without a default);
- the `<Resource>` class: every output property, typed `pulumi.Output[T]`, and `pulumi.Output[Optional[T]]`
  for an output that may be absent.

An output is computed by the provider when it is not an input (`arn`, `tagsAll`, a secret version's
`versionId`: the outputs `_internal_init` sets to None), or when it is an optional input whose output is
never absent (`rotationEnabled`, `region`, `name`): Pulumi's Terraform bridge types an output as
non-optional when the attribute is Required or Computed, and as optional only when it is Optional and not
Computed (pulumi/pulumi-terraform-bridge, pkg/tfgen/generate.go, `variable.optional`), so an optional
input with a non-optional output is Terraform's Optional+Computed. Everything is read from the installed
SDK, so a provider upgrade that adds a computed attribute is modelled without an edit here.

A type token names its class: `aws:secretsmanager/secretRotation:SecretRotation` is
`pulumi_aws.secretsmanager.SecretRotation` (the package `pulumi_<package>`, with `-` as `_`; the module
before the `/`, a Python keyword suffixed with `_` as the generator does, e.g. `lambda_`; `index` is the
package itself). This module imports only the Pulumi SDK and the provider SDKs.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import keyword
import typing
from collections import abc
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi import _types

__all__ = ["ResourceSchema", "resource_schema", "zero_value"]

KINDS = ("string", "integer", "number", "boolean", "array", "object", "any")
"""The kinds of value an output can hold, as the SDK's annotations give them."""

_ZERO_VALUES: dict[str, Any] = {"string": "", "integer": 0, "number": 0.0, "boolean": False, "any": None}


@dataclass(frozen=True)
class ResourceSchema:
    """One resource type as its installed SDK describes it (Pulumi names throughout)."""

    type: str
    inputs: frozenset[str]
    required_inputs: frozenset[str]
    outputs: dict[str, str]
    """Every output property and its kind (see `KINDS`)."""
    optional_outputs: frozenset[str]
    """Outputs typed `Output[Optional[T]]`: absent unless set."""

    @functools.cached_property
    def computed(self) -> frozenset[str]:
        """The outputs the provider sets: not inputs, or optional inputs whose output is never absent."""
        return frozenset(name for name in self.outputs
                         if name not in self.inputs
                         or (name not in self.required_inputs and name not in self.optional_outputs))


def zero_value(kind: str) -> Any:
    """The value Terraform's plugin SDK keeps for an attribute its provider did not set: the zero value of
    the attribute's type ("", 0, false, an empty list or map; terraform-plugin-sdk's ResourceData reads an
    unset primitive as its zero value), here by the kind the SDK's annotation gives."""
    if kind == "array":
        return []
    if kind == "object":
        return {}
    return _ZERO_VALUES[kind]


def resource_schema(type_: str) -> ResourceSchema | None:
    """The installed SDK's description of `type_`, or None when no installed SDK has that type (a
    component, a provider, a type of an SDK that is not installed)."""
    return _schema(type_)


@functools.cache
def _schema(type_: str) -> ResourceSchema | None:
    classes = _classes(type_)
    if classes is None:
        return None
    resource_class, args_class = classes
    inputs = _types.input_type_py_to_pulumi_names(args_class)
    required = frozenset(inputs[name] for name in _required_parameters(args_class) if name in inputs)
    outputs, optional = {}, set()
    for python_name, pulumi_name in _types.resource_py_to_pulumi_names(resource_class).items():
        annotation = _return_annotation(resource_class, python_name)
        if annotation is None:
            continue
        value_type, is_optional = _output_value_type(annotation)
        outputs[pulumi_name] = _kind(value_type)
        if is_optional:
            optional.add(pulumi_name)
    return ResourceSchema(type=type_, inputs=frozenset(inputs.values()), required_inputs=required,
                          outputs=outputs, optional_outputs=frozenset(optional))


def _classes(type_: str) -> tuple[type, type] | None:
    """The SDK's resource class and its Args class for a type token, if an installed SDK has them."""
    parts = type_.split(":")
    if len(parts) != 3 or parts[0] == "pulumi":
        return None
    package, module_path, name = parts
    module = module_path.split("/")[0]
    path = "pulumi_" + package.replace("-", "_")
    if module != "index":
        path += "." + (module + "_" if keyword.iskeyword(module) else module)
    try:
        imported = importlib.import_module(path)
    except ImportError:
        return None
    resource_class, args_class = getattr(imported, name, None), getattr(imported, f"{name}Args", None)
    if not (isinstance(resource_class, type) and issubclass(resource_class, pulumi.CustomResource)
            and isinstance(args_class, type) and _types.is_input_type(args_class)):
        return None
    return resource_class, args_class


def _required_parameters(args_class: type) -> list[str]:
    parameters = inspect.signature(args_class.__init__).parameters.values()
    return [parameter.name for parameter in parameters
            if parameter.default is inspect.Parameter.empty and parameter.name not in ("self", "__self__")
            and parameter.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]


def _return_annotation(resource_class: type, python_name: str) -> Any:
    """The getter's return annotation as the SDK module evaluated it (`pulumi.Output[...]`; names of other
    modules, e.g. 'outputs.SecretReplica', stay forward references: only their shape matters here)."""
    prop = inspect.getattr_static(resource_class, python_name, None)
    getter = getattr(prop, "fget", None)
    return getattr(getter, "__annotations__", {}).get("return")


def _output_value_type(annotation: Any) -> tuple[Any, bool]:
    """`Output[T]` -> (T, False); `Output[Optional[T]]` -> (T, True)."""
    value_type = annotation
    if typing.get_origin(annotation) is pulumi.Output:
        (value_type,) = typing.get_args(annotation)
    if typing.get_origin(value_type) is typing.Union:
        members = [member for member in typing.get_args(value_type) if member is not type(None)]
        if len(members) < len(typing.get_args(value_type)):
            return (members[0] if len(members) == 1 else typing.Union[tuple(members)]), True
    return value_type, False


def _kind(value_type: Any) -> str:
    origin = typing.get_origin(value_type) or value_type
    if origin is str:
        return "string"
    if origin is bool:
        return "boolean"
    if origin is int:
        return "integer"
    if origin is float:
        return "number"
    if origin in (list, tuple, abc.Sequence) or origin is typing.Sequence:
        return "array"
    if origin in (dict, abc.Mapping) or origin is typing.Mapping:
        return "object"
    if isinstance(value_type, (typing.ForwardRef, str)) or (isinstance(value_type, type) and _types.is_output_type(value_type)):
        return "object"
    return "any"
