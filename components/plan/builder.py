"""Building a plan: registrations in the order the components make them, each key once."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from secrets_layout.components.plan.model import Invocation, Options, Plan, Registration


@dataclass(frozen=True)
class External:
    """Something a component was given from outside its plan (a provider object, an Output of the
    user's program), by its place in the component's bindings (components/realize.Bindings)."""

    index: int


def key_of(resource_type: str, name: str) -> str:
    """A registration's key in its plan: its type and logical name. Two registrations may share a name
    when their types differ (their URNs differ: the SDK registers both)."""
    return f"{resource_type}::{name}"


class PlanBuilder:
    """Collects one plan's registrations and invocations."""

    def __init__(self) -> None:
        self._registrations: list[Registration] = []
        self._positions: dict[str, int] = {}
        self._invocations: list[Invocation] = []
        self._keys: set[str] = set()

    def add(self, resource_type: str, name: str, *, parent: str | None = None, provider: Any = None,
            inputs: Mapping[str, Any] | None = None, options: Options = Options()) -> str:
        """A custom resource (or provider); returns its key."""
        return self._add(Registration(key_of(resource_type, name), resource_type, name, parent=parent,
                                      provider=provider, inputs=dict(inputs or {}), options=options))

    def component(self, resource_type: str, name: str, *, parent: str | None = None) -> str:
        """A component; its outputs come with `finish`, once its children are planned. Returns its key."""
        return self._add(Registration(key_of(resource_type, name), resource_type, name, parent=parent, component=True))

    def invoke(self, token: str, name: str, arguments: Mapping[str, Any], *, parent: str | None = None,
               provider: Any = None) -> str:
        key = key_of(token, name)
        self._claim(key)
        self._invocations.append(Invocation(key, token, dict(arguments), parent=parent, provider=provider))
        return key

    def finish(self, key: str, outputs: Mapping[str, Any]) -> None:
        """A component's registered outputs, known once its children are planned."""
        position = self._positions[key]
        self._registrations[position] = dataclasses.replace(self._registrations[position], outputs=dict(outputs))

    def build(self, exports: Mapping[str, Any] | None = None) -> Plan:
        return Plan(tuple(self._registrations), tuple(self._invocations), dict(exports or {}))

    def _add(self, registration: Registration) -> str:
        self._claim(registration.key)
        self._positions[registration.key] = len(self._registrations)
        self._registrations.append(registration)
        return registration.key

    def _claim(self, key: str) -> None:
        if key in self._keys:
            raise ValueError(f"two registrations of the plan are {key!r}")
        self._keys.add(key)


def camel(name: str) -> str:
    """`automatically_after_days` -> `automaticallyAfterDays`: an input's name as the engine sends it."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def without_none(values: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs the program leaves out are not sent (the SDK drops None)."""
    return {key: value for key, value in values.items() if value is not None}
