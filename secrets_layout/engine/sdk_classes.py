"""What each SDK resource class does to a registration before the engine sees it, read from the class.

A pulumi_aws / pulumi_random resource class is generated code (pulumi-terraform-bridge's Python
codegen), and its `_internal_init` changes what the program gave it in a few fixed ways:

- `__props__.__dict__["x"] = None if x is None else pulumi.Output.secret(x)`: the input is secret
  (a provider's `accessKey`, a version's `secretString`);
- `... pulumi.Output.from_input(x).apply(pulumi.runtime.to_json) ...`: the input is sent as JSON text
  (a provider's non-string config, e.g. `allowedAccountIds` -> '["111111111111"]');
- `if x is None: x = <constant>` / `x = _utilities.get_env("A", "B")`: a default the program did not
  write (the provider's `skipRegionValidation` true) or one read from the environment (`AWS_REGION`);
- `secret_opts = pulumi.ResourceOptions(additional_secret_outputs=[...])`: outputs the class marks
  secret, after those the program named (`ResourceOptions.merge` appends);
- `alias_opts = pulumi.ResourceOptions(aliases=[...])`: former types (none of the layout's types has one).

`profile(cls)` reads these from the class's source (Python's `ast`, never by running it), with the
class's Python -> engine name tables (the SDK's `pulumi._types`), so the plan's evaluation
(engine/plan_evaluation.py) treats a registration as the class would without importing pulumi_aws.
`sdk_classes.json` holds the profiles of the layout's types for the installed SDK versions
(`make sdk-classes` writes it; tests/test_plan_evaluation.py derives it again and compares); with other
versions installed the profiles are derived at run time instead.
"""

from __future__ import annotations

import ast
import importlib.metadata
import inspect
import json
import textwrap
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PROFILES_FILE = Path(__file__).with_name("sdk_classes.json")
SDK_DISTRIBUTIONS = ("pulumi", "pulumi_aws", "pulumi_random")


@dataclass(frozen=True)
class ClassProfile:
    """What one resource class adds to or changes in a registration (engine names throughout)."""

    secret_inputs: tuple[str, ...] = ()
    json_inputs: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    """Inputs the class sets when the program leaves them out, as the class writes them (before JSON)."""
    environment_defaults: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Inputs the class reads from the first set environment variable of these when left out."""
    additional_secret_outputs: tuple[str, ...] = ()
    input_names: Mapping[str, str] = field(default_factory=dict)
    """Python name -> engine name of the inputs whose names differ (`ignore_changes` is translated)."""
    output_names: Mapping[str, str] = field(default_factory=dict)
    """Python name -> engine name of the properties whose names differ (`additional_secret_outputs`)."""


def installed_versions() -> dict[str, str]:
    return {name: importlib.metadata.version(name) for name in SDK_DISTRIBUTIONS}


def profile(cls: type) -> ClassProfile:
    """The class's profile, from the source of its `_internal_init` and its name tables."""
    from pulumi import _types

    tree = ast.parse(textwrap.dedent(inspect.getsource(cls._internal_init)))
    input_names = dict(_types.input_type_py_to_pulumi_names(_args_class(cls)))
    output_names = dict(_types.resource_py_to_pulumi_names(cls))
    engine = lambda name: input_names.get(name, name)  # noqa: E731 - one lookup, named for reading
    secret, as_json, defaults, environment, extra_secrets = [], [], {}, {}, []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and _props_key(node.targets[0]) is not None:
            key = _props_key(node.targets[0])
            if _calls(node.value, "secret"):
                secret.append(engine(key))
            if _calls(node.value, "to_json"):
                as_json.append(engine(key))
        elif isinstance(node, ast.If) and _is_none_test(node.test) and len(node.body) == 1 \
                and isinstance(node.body[0], ast.Assign):
            name, value = node.test.left.id, node.body[0].value
            if isinstance(value, ast.Constant):
                defaults[engine(name)] = value.value
            elif _calls(value, "get_env"):
                environment[engine(name)] = tuple(argument.value for argument in value.args)
        elif isinstance(node, ast.keyword) and node.arg == "additional_secret_outputs":
            extra_secrets = [element.value for element in node.value.elts]
        elif isinstance(node, ast.keyword) and node.arg == "aliases":
            raise NotImplementedError(f"{cls.__name__} declares aliases, which plan evaluation does not model")
    return ClassProfile(
        secret_inputs=tuple(dict.fromkeys(secret)), json_inputs=tuple(dict.fromkeys(as_json)), defaults=defaults,
        environment_defaults=environment, additional_secret_outputs=tuple(extra_secrets),
        input_names={name: translated for name, translated in input_names.items() if name != translated},
        output_names={name: translated for name, translated in output_names.items() if name != translated})


def derive_profiles(classes: Mapping[str, type]) -> dict[str, ClassProfile]:
    return {token: profile(cls) for token, cls in sorted(classes.items())}


def profiles_document(profiles: Mapping[str, ClassProfile]) -> str:
    """sdk_classes.json's text: the versions the profiles were read from, and the profiles."""
    document = {"versions": installed_versions(),
                "classes": {token: asdict(found) for token, found in profiles.items()}}
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def load_profiles(types: frozenset[str] | None = None) -> dict[str, ClassProfile]:
    """The profiles of the layout's types: sdk_classes.json when it was written from the installed SDK
    versions, else derived now from the installed classes (importing them: slower)."""
    stored = json.loads(PROFILES_FILE.read_text(encoding="utf-8")) if PROFILES_FILE.is_file() else None
    if stored is not None and stored["versions"] == installed_versions():
        return {token: _from_json(found) for token, found in stored["classes"].items()}
    from secrets_layout.components.realize import CUSTOM_TYPES

    return derive_profiles({token: cls for token, cls in CUSTOM_TYPES.items() if types is None or token in types})


def _from_json(found: Mapping[str, Any]) -> ClassProfile:
    return ClassProfile(
        secret_inputs=tuple(found["secret_inputs"]), json_inputs=tuple(found["json_inputs"]),
        defaults=dict(found["defaults"]),
        environment_defaults={name: tuple(variables) for name, variables in found["environment_defaults"].items()},
        additional_secret_outputs=tuple(found["additional_secret_outputs"]),
        input_names=dict(found["input_names"]), output_names=dict(found["output_names"]))


def _args_class(cls: type) -> type:
    """The class's `<Name>Args` input type (its name table is the inputs')."""
    module = inspect.getmodule(cls)
    return getattr(module, f"{cls.__name__}Args")


def _props_key(target: ast.expr) -> str | None:
    """`x` of `__props__.__dict__["x"]`."""
    if (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Attribute)
            and target.value.attr == "__dict__" and isinstance(target.slice, ast.Constant)):
        return target.slice.value
    return None


def _calls(node: ast.AST, attribute: str) -> bool:
    """Whether the expression calls something named `attribute` (`pulumi.Output.secret`, `.apply(to_json)`)."""
    return any((isinstance(inner, ast.Attribute) and inner.attr == attribute) for inner in ast.walk(node))


def _is_none_test(test: ast.expr) -> bool:
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Is) and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value is None)


def main() -> None:
    """`python -m secrets_layout.engine.sdk_classes`: write sdk_classes.json for the installed SDK."""
    from secrets_layout.components.realize import CUSTOM_TYPES

    PROFILES_FILE.write_text(profiles_document(derive_profiles(CUSTOM_TYPES)), encoding="utf-8")


if __name__ == "__main__":
    main()
