"""One registered definition per policy: name, description, default level, config schema, the
resource types it judges, and its check (checkov's check classes and pulumi/compliance-policies'
``registerPolicy`` carry the same facts; here they are one frozen value).

The pack (``policies/pack.py``) turns each definition into a pulumi_policy policy; ``secrets_layout``
runs the same checks on the resources a declaration would make (``validate``) and to find the field
behind a violation the pack reported (``preview``); the README's policy table is rendered from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, List, Mapping, Optional, Sequence, Tuple

from .findings import Finding
from .resources import Resource

MANDATORY, ADVISORY = "mandatory", "advisory"

ResourceCheck = Callable[[Resource, Mapping[str, Any]], List[Finding]]


@dataclass
class StackVerdict:
    """What a stack check found: (secret or key URN, finding) pairs, and what it could not decide
    because values are unknown during a preview (``None`` when everything was decided)."""

    findings: List[Tuple[str, Finding]] = field(default_factory=list)
    undecided: Optional[str] = None


StackCheck = Callable[[Sequence[Resource], Mapping[str, Any]], StackVerdict]


@dataclass(frozen=True)
class PolicyDefinition:
    name: str
    """Kebab-case, part of the contract (SPEC section 5): policy configs and reports name it."""
    description: str
    level: str
    """The default enforcement level: mandatory or advisory."""
    resource_types: Tuple[str, ...]
    """The resource types it judges (a stack policy: the types it reads, and links among them only). The
    preview's pack host gives the policy nothing else (secrets_layout/engine/pack_host.py, JUDGED_TYPES)."""
    check: Callable[..., Any]
    """``(Resource, config) -> [Finding]``; a stack policy's ``(resources, config) -> StackVerdict``."""
    config: Optional[Mapping[str, Any]] = None
    """JSON Schema of each config property (Pulumi's ``PolicyConfigSchema.properties``)."""
    stack: bool = False
    """Judges the whole stack in AnalyzeStack (outputs, dependencies) instead of one resource's inputs."""
    not_covered: Tuple[str, ...] = ()
    """What the policy cannot see, said in the README's table (e.g. an input a provider does not have)."""

    def applies_to(self, resource_type: str) -> bool:
        return resource_type in self.resource_types
