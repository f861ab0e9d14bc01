"""The SDK simulation of the packaged program and the plan evaluation of one declaration, and the
differences between the two, told readably.

`both_runs(loaded, mode)` runs the program (secrets_layout/program.py) on the SDK's mock engine and
evaluates the declaration's plan with the same stack, account and secret config the preview gives
the program. `differences(sdk, plan)` compares every field of every registration (whatever
`RegisteredResource` holds: nothing is skipped), in tree order, and the stack outputs; values must be
identical, type included (a float where the SDK has one, not an int that equals it), secrets must be
secret on both sides with equal hidden values, and unknowns the sentinel on both. A difference names
the resource, the field (down to the key inside an input) and both values, secrets shown as [secret].
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from secrets_layout.components.plan.layout import plan_layout
from secrets_layout.components.plan.rotation import ROTATION_CODE_DIRECTORY
from secrets_layout.declaration.loader import LoadedDeclaration
from secrets_layout.engine.plan_evaluation import evaluate_plan
from secrets_layout.engine.recorded_values import RegisteredResource, SecretValue, Simulation, mask
from secrets_layout.engine.simulation import simulate
from secrets_layout.engine.programs import PACKAGED_PROGRAM, simulation_arguments

SHOWN_CHARACTERS = 160
"""A value longer than this is cut in a difference's message."""
_ABSENT = object()


@dataclass(frozen=True)
class Difference:
    where: str
    """The resource (`name (type)`), or `stack outputs`, `resource order`, `simulation`."""
    field: str
    """The field, with the keys and indexes down to the first value that differs (`inputs.tags.owner`)."""
    sdk: str
    plan: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: SDK {self.sdk} | plan {self.plan}"


def both_runs(loaded: LoadedDeclaration, mode: str) -> tuple[Simulation, Simulation]:
    """The SDK simulation of the packaged program and the plan evaluation, of one declaration."""
    return simulate_program(loaded, mode), evaluate(loaded, mode)


def simulate_program(loaded: LoadedDeclaration, mode: str) -> Simulation:
    """The packaged program on the SDK's mock engine, as the preview runs it."""
    return simulate(**simulation_arguments(loaded, mode, program=PACKAGED_PROGRAM))


def evaluate(loaded: LoadedDeclaration, mode: str) -> Simulation:
    """The declaration's plan evaluated with the stack, account and secret config the program is given."""
    arguments = simulation_arguments(loaded, mode, program=PACKAGED_PROGRAM)
    declaration = loaded.declaration
    plan = plan_layout(declaration.environment, declaration, rotation_code_directory=ROTATION_CODE_DIRECTORY)
    return evaluate_plan(plan, project=arguments["project"], stack=arguments["stack"], mode=mode,
                         account_id=arguments["account_id"], secret_config=arguments["secret_config"])


def differences(sdk: Simulation, plan: Simulation) -> list[Difference]:
    """Every difference between the two runs: the runs' own fields, the order of the registrations, each
    registration's fields, the stack outputs."""
    found = [Difference("simulation", field.name, _shown(getattr(sdk, field.name)), _shown(getattr(plan, field.name)))
             for field in dataclasses.fields(Simulation) if field.name not in ("resources", "outputs")
             and not _same(getattr(sdk, field.name), getattr(plan, field.name))]
    found += _order_differences([r.urn for r in sdk.resources], [r.urn for r in plan.resources])
    planned = plan.by_urn()
    for resource in sdk.resources:
        if resource.urn in planned:
            found += _resource_differences(resource, planned[resource.urn])
    found += [Difference("stack outputs", path, sdk_value, plan_value)
              for path, sdk_value, plan_value in _walk(sdk.outputs, plan.outputs, "outputs")]
    return found


def assert_same(sdk: Simulation, plan: Simulation, *, shown: int = 8) -> None:
    found = differences(sdk, plan)
    if found:
        lines = "\n".join(f"  {difference}" for difference in found[:shown])
        more = f"\n  ... and {len(found) - shown} more" if len(found) > shown else ""
        raise AssertionError(f"{len(found)} difference(s) between the SDK simulation and the plan evaluation "
                             f"({sdk.mode}):\n{lines}{more}")


def _order_differences(sdk: list[str], plan: list[str]) -> list[Difference]:
    if sdk == plan:
        return []
    missing, extra = [urn for urn in sdk if urn not in plan], [urn for urn in plan if urn not in sdk]
    found = [Difference("resource order", "missing", _shown(urn), "(absent)") for urn in missing]
    found += [Difference("resource order", "extra", "(absent)", _shown(urn)) for urn in extra]
    if not found:
        index = next(index for index, (left, right) in enumerate(zip(sdk, plan)) if left != right)
        found.append(Difference("resource order", f"[{index}]", _shown(sdk[index]), _shown(plan[index])))
    return found


def _resource_differences(sdk: RegisteredResource, plan: RegisteredResource) -> list[Difference]:
    where = f"{sdk.name} ({sdk.type})"
    return [Difference(where, path, sdk_value, plan_value)
            for field in dataclasses.fields(RegisteredResource)
            for path, sdk_value, plan_value in _walk(getattr(sdk, field.name), getattr(plan, field.name), field.name)]


def _walk(sdk: Any, plan: Any, path: str, secret: bool = False) -> Iterator[tuple[str, str, str]]:
    """(path, SDK value shown, plan value shown) at each place the two differ, not below it."""
    if isinstance(sdk, SecretValue) and isinstance(plan, SecretValue):
        yield from _walk(sdk.reveal(), plan.reveal(), path, secret=True)
    elif isinstance(sdk, SecretValue) or isinstance(plan, SecretValue):
        # The plain side holds what the other keeps secret: neither is shown.
        yield path, _secrecy(sdk), _secrecy(plan)
    elif isinstance(sdk, Mapping) and isinstance(plan, Mapping):
        for key in [*sdk, *(key for key in plan if key not in sdk)]:
            yield from _walk(sdk.get(key, _ABSENT), plan.get(key, _ABSENT), f"{path}.{key}", secret)
    elif _sequence(sdk) and _sequence(plan) and len(sdk) == len(plan):
        for index, (left, right) in enumerate(zip(_ordered(sdk), _ordered(plan))):
            yield from _walk(left, right, f"{path}[{index}]", secret)
    elif isinstance(sdk, pulumi.Asset | pulumi.Archive) or isinstance(plan, pulumi.Asset | pulumi.Archive):
        yield from _walk(_asset(sdk), _asset(plan), path, secret)
    elif not _same(sdk, plan):
        if secret:
            yield path, "[secret]", "[secret] (the hidden values differ)"
        else:
            yield path, _shown(sdk), _shown(plan)


def _secrecy(value: Any) -> str:
    if value is _ABSENT:
        return "(absent)"
    return "[secret]" if isinstance(value, SecretValue) else "a plain value (hidden: the other side keeps it secret)"


def _same(sdk: Any, plan: Any) -> bool:
    """Equal, and of the same type: True is not 1, 30 is not 30.0, a secret is not its value."""
    return type(sdk) is type(plan) and sdk == plan


def _sequence(value: Any) -> bool:
    # The wire has lists only; the recorded tuples (dependencies) and sets (secret_inputs) compare as lists.
    return isinstance(value, list | tuple | frozenset | set)


def _ordered(value: Any) -> list[Any]:
    return sorted(value) if isinstance(value, frozenset | set) else list(value)


def _asset(value: Any) -> Any:
    """An asset or archive as plain data (the SDK's classes compare by identity)."""
    if isinstance(value, pulumi.FileAsset):
        return {"FileAsset": str(value.path)}
    if isinstance(value, pulumi.StringAsset):
        return {"StringAsset": value.text}
    if isinstance(value, pulumi.AssetArchive):
        return {"AssetArchive": {name: _asset(asset) for name, asset in value.assets.items()}}
    if isinstance(value, pulumi.Asset | pulumi.Archive):
        return {type(value).__name__: vars(value)}
    return value


def _shown(value: Any) -> str:
    if value is _ABSENT:
        return "(absent)"
    text = repr(mask(_asset(value)))
    return text if len(text) <= SHOWN_CHARACTERS else text[:SHOWN_CHARACTERS - 3] + "..."
