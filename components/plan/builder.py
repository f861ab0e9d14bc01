"""Building a plan: registrations in the order the components make them, each key once."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from secrets_layout.components.plan.model import Invocation, Plan, Registration


@dataclass(frozen=True)
class External:
    """Something a component was given from outside its plan (a provider object, an Output of the
    user's program), by its place in the component's bindings (components/realize.Bindings)."""

    index: int


class PlanBuilder:
    """Collects one plan's registrations and invocations."""

    def __init__(self) -> None:
        self._registrations: list[Registration] = []
        self._invocations: list[Invocation] = []
        self._keys: set[str] = set()

    def add(self, registration: Registration) -> str:
        self._claim(registration.key)
        self._registrations.append(registration)
        return registration.key

    def invoke(self, invocation: Invocation) -> str:
        self._claim(invocation.key)
        self._invocations.append(invocation)
        return invocation.key

    def finish(self, key: str, outputs: Mapping[str, Any]) -> None:
        """A component's registered outputs, known once its children are planned."""
        index = next(i for i, registration in enumerate(self._registrations) if registration.key == key)
        self._registrations[index] = dataclasses.replace(self._registrations[index], outputs=dict(outputs))

    def build(self, exports: Mapping[str, Any] | None = None) -> Plan:
        return Plan(tuple(self._registrations), tuple(self._invocations), dict(exports or {}))

    def _claim(self, key: str) -> None:
        if key in self._keys:
            raise ValueError(f"two registrations of the plan are named {key!r}")
        self._keys.add(key)


def camel(name: str) -> str:
    """`automatically_after_days` -> `automaticallyAfterDays`: an input's name as the engine sends it."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def without_none(values: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs the program leaves out are not sent (the SDK drops None)."""
    return {key: value for key, value in values.items() if value is not None}
