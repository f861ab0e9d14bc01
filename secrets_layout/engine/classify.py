"""The step the engine takes for each resource, from two recorded deployments.

`base` plays the stack's state (the declaration at --base, deployed by today's code) and
`current` the goal the program registers now. The rules follow pulumi/pulumi
pkg/resource/deploy/step_generator.go (generateSteps, providerChanged, diff,
applyReplaceOnChanges, processIgnoreChanges) and step.go (DeleteStep):

- no old state at the URN or at one of the resource's aliases: `create`, or `import` when the
  resource has an import id (isImport := goal.Custom && goal.ID != "" && (!hasOld ||
  old.External || oldImportID != goal.ID), where oldImportID is the old import id);
- an old state whose import id differs from the goal's: `import` as well (ImportReplacementStep);
- a provider reference to another provider: replaced when the new provider's DiffConfig asks
  for it (ReplaceKeys ["provider"]); otherwise the inputs are diffed as usual;
- inputs that differ, after the `ignore_changes` paths are reset to their old values: `replace`
  when one of them forces a new resource (force_new) or is in `replace_on_changes`, else
  `update`; a component (no provider) with different inputs is an `update`; a pulumi-aws 7
  resource's `region` differs only when the region in effect does (its own, else its provider's),
  and then replaces it;
- nothing differs: `same`, even when `protect` or the parent changed (the engine then writes the
  new option with a SameStep; it is reported as a changed option);
- an old state no goal claims: `delete`.

A replacement is blocked when both the old and the new resource are protected ("unable to
replace resource ... as it is currently marked for protection"; unprotecting and replacing in
one update is allowed); a deletion is blocked when the old resource is protected ("resource ...
cannot be deleted because it is protected", step.go deleteProtectedError).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from secrets_layout.engine import force_new
from secrets_layout.engine.recorded_values import STACK_TYPE, UNKNOWN, RegisteredResource
from secrets_layout.engine.values import same

Kind = Literal["create", "update", "replace", "delete", "same", "import"]
KINDS: tuple[Kind, ...] = ("create", "update", "replace", "delete", "same", "import")


@dataclass(frozen=True)
class OptionChange:
    option: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Classification:
    urn: str
    type: str
    name: str
    kind: Kind
    changed_properties: tuple[str, ...] = ()
    replace_properties: tuple[str, ...] = ()
    """The changed properties (or "provider") that force the replacement."""
    changed_options: tuple[OptionChange, ...] = ()
    blocked: bool = False
    """The engine refuses this step because the resource is protected."""
    previous_urn: str | None = None
    """The URN in the base when an alias carried the resource to a new URN."""
    unknown_type: bool = False
    """No ForceNew data for this type: an update may in truth be a replacement."""
    old: RegisteredResource | None = None
    new: RegisteredResource | None = None


def classify_all(current: Sequence[RegisteredResource], base: Sequence[RegisteredResource]) -> list[Classification]:
    """One classification per current resource (in order), then one `delete` per base resource
    that nothing claims (in base order)."""
    before = {resource.urn: resource for resource in base}
    now = {resource.urn: resource for resource in current}
    claimed: set[str] = set()
    aliases = _alias_table(current)
    results = []
    for resource in current:
        old = before.get(resource.urn)
        previous = None
        if old is None:
            for alias in aliases[resource.urn]:
                if alias in before and alias not in now and alias not in claimed:
                    old, previous = before[alias], alias
                    break
        if old is not None:
            claimed.add(old.urn)
        results.append(classify(old, resource, before=before, now=now, aliases=aliases, previous_urn=previous))
    results.extend(_deleted(old) for old in base if old.urn not in now and old.urn not in claimed)
    return results


def classify(old: RegisteredResource | None, new: RegisteredResource, *,
             before: Mapping[str, RegisteredResource] | None = None,
             now: Mapping[str, RegisteredResource] | None = None,
             aliases: Mapping[str, tuple[str, ...]] | None = None,
             previous_urn: str | None = None) -> Classification:
    """The step for `new` given its old state (None: not in the base). `before`/`now` hold the
    base's and current resources by URN, for their providers."""
    before, now, aliases = before or {}, now or {}, aliases or {}
    common = dict(urn=new.urn, type=new.type, name=new.name, old=old, new=new, previous_urn=previous_urn)
    if old is None:
        return Classification(kind="import" if new.custom and new.import_id else "create", **common)
    if new.custom and new.import_id and (old.read or old.import_id != new.import_id):
        return Classification(kind="import", **common)

    options = _changed_options(old, new, aliases)
    changed = changed_properties(old, new)
    if "region" in changed and force_new.is_regional(new.type) and _same_region(old, new, before, now):
        changed = tuple(name for name in changed if name != "region")
    replace: tuple[str, ...] = ()
    if _provider_forces_replacement(old, new, before, now, aliases):
        replace = ("provider",)
    replace = replace + force_new.replacing_properties(new.type, changed, new.replace_on_changes,
                                                       old.inputs, new.inputs)
    unknown = new.custom and bool(changed) and not replace and not force_new.is_known(new.type)
    if replace:
        kind: Kind = "replace"
    elif changed:
        kind = "update"
    else:
        kind = "same"
    blocked = kind == "replace" and bool(old.protect) and bool(new.protect)
    return Classification(kind=kind, changed_properties=changed, replace_properties=replace, changed_options=options,
                          blocked=blocked, unknown_type=unknown, **common)


def _deleted(old: RegisteredResource) -> Classification:
    return Classification(urn=old.urn, type=old.type, name=old.name, kind="delete", blocked=bool(old.protect), old=old)


def changed_properties(before: RegisteredResource, after: RegisteredResource) -> tuple[str, ...]:
    """Top-level inputs that differ once the `ignore_changes` paths of `after` are reset to
    their old values (engine: processIgnoreChanges), compared by content (values.same)."""
    inputs = _ignoring(before.inputs, after.inputs, after.ignore_changes)
    names = before.inputs.keys() | inputs.keys()
    return tuple(sorted(name for name in names if not same(before.inputs.get(name), inputs.get(name))))


def _ignoring(old: Mapping[str, Any], new: Mapping[str, Any], paths: Sequence[str]) -> dict[str, Any]:
    result = dict(new)
    for path in paths:
        head, *rest = path.replace("[", ".").replace("]", "").split(".")
        # The Python SDK sends the names as written in the program; inputs are camelCase.
        key = next((name for name in (head, _camel(head)) if name in old or name in result), _camel(head))
        if not rest:
            if key in old:
                result[key] = old[key]
            else:
                result.pop(key, None)
            continue
        result[key] = _reset(old.get(key), result.get(key), rest)
    return result


def _reset(old: Any, new: Any, path: list[str]) -> Any:
    """`new` with the value at `path` taken from `old` (unchanged when either side lacks it)."""
    head, *rest = path
    if isinstance(new, Mapping) and isinstance(old, Mapping) and head in old:
        copy = dict(new)
        copy[head] = old[head] if not rest else _reset(old[head], new.get(head), rest)
        return copy
    if isinstance(new, list) and isinstance(old, list) and head.isdigit() and int(head) < min(len(old), len(new)):
        copy = list(new)
        index = int(head)
        copy[index] = old[index] if not rest else _reset(old[index], new[index], rest)
        return copy
    return new


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _changed_options(old: RegisteredResource, new: RegisteredResource,
                     aliases: Mapping[str, tuple[str, ...]]) -> tuple[OptionChange, ...]:
    changes = []
    if bool(old.protect) != bool(new.protect):
        changes.append(OptionChange("protect", bool(old.protect), bool(new.protect)))
    if old.provider != new.provider and not _aliased(old.provider, new.provider, aliases):
        changes.append(OptionChange("provider", old.provider, new.provider))
    if old.parent != new.parent and not _aliased(old.parent, new.parent, aliases):
        changes.append(OptionChange("parent", old.parent, new.parent))
    for option in ("delete_before_replace", "retain_on_delete"):
        if bool(getattr(old, option)) != bool(getattr(new, option)):
            changes.append(OptionChange(option, bool(getattr(old, option)), bool(getattr(new, option))))
    return tuple(changes)


def _aliased(old_urn: str | None, new_urn: str | None, aliases: Mapping[str, tuple[str, ...]]) -> bool:
    return bool(old_urn and new_urn and old_urn in aliases.get(new_urn, ()))


def _provider_forces_replacement(old: RegisteredResource, new: RegisteredResource,
                                 before: Mapping[str, RegisteredResource], now: Mapping[str, RegisteredResource],
                                 aliases: Mapping[str, tuple[str, ...]]) -> bool:
    """providerChanged: the same provider (or one aliased from it) never forces anything; another
    one does when its DiffConfig against the old provider's inputs asks for a replacement."""
    if not new.custom or old.provider == new.provider or _aliased(old.provider, new.provider, aliases):
        return False
    if not old.provider or not new.provider:
        return True
    old_provider, new_provider = before.get(old.provider), now.get(new.provider)
    if old_provider is None or new_provider is None:
        return True
    rule = force_new.PROVIDER_FORCE_NEW.get(new_provider.type)
    if rule is None or old_provider.type != new_provider.type:
        return True
    changed = changed_properties(old_provider, new_provider)
    return any(rule.forces(name) for name in changed)


def _same_region(old: RegisteredResource, new: RegisteredResource, before: Mapping[str, RegisteredResource],
                 now: Mapping[str, RegisteredResource]) -> bool:
    """The same region in effect on both sides: a pulumi-aws 7 resource's region is its own `region` input,
    else its provider's; the provider plans the same value either way (terraform-provider-aws
    internal/provider/sdkv2/region.go, `defaultRegion`), so making the provider's region explicit, or
    dropping it, is no change. Unknown on either side: a change."""
    regions = [_region_in_effect(resource, resources) for resource, resources in ((old, before), (new, now))]
    return regions[0] is not None and regions[0] == regions[1]


def _region_in_effect(resource: RegisteredResource, resources: Mapping[str, RegisteredResource]) -> str | None:
    own = resource.inputs.get("region")
    if own is None:
        provider = resources.get(resource.provider or "")
        own = provider.inputs.get("region") if provider is not None else None
    return own if isinstance(own, str) and own != UNKNOWN else None


def _alias_table(resources: Sequence[RegisteredResource]) -> dict[str, tuple[str, ...]]:
    """Every URN each resource may have had: its own aliases, and those it inherits from its
    parent's (engine: source_eval.go inheritedChildAlias, which also rewrites a child name that
    starts with the parent's name)."""
    by_urn = {resource.urn: resource for resource in resources}
    table: dict[str, tuple[str, ...]] = {}

    def of(resource: RegisteredResource) -> tuple[str, ...]:
        if resource.urn in table:
            return table[resource.urn]
        found = list(resource.aliases)
        parent = by_urn.get(resource.parent or "")
        if parent is not None:
            for parent_alias in of(parent):
                found.append(_inherited_child_alias(resource, parent, parent_alias))
        table[resource.urn] = tuple(dict.fromkeys(found))
        return table[resource.urn]

    for resource in resources:
        of(resource)
    return table


def _inherited_child_alias(child: RegisteredResource, parent: RegisteredResource, parent_alias: str) -> str:
    prefix, _, rest = parent_alias.partition("::")  # "urn:pulumi:<stack>", "<project>::<type>::<name>"
    project, qualified_type, alias_name = rest.split("::", 2)
    name = alias_name + child.name[len(parent.name):] if child.name.startswith(parent.name) else child.name
    parent_type = "" if qualified_type == STACK_TYPE else qualified_type.split("$")[-1]
    # Qualified the way the simulation qualifies URNs (the parent's own type, see make_urn).
    child_type = f"{parent_type}${child.type}" if parent_type else child.type
    return f"{prefix}::{project}::{child_type}::{name}"
