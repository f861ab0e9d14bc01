"""environments/<env>.yaml -> a validated Declaration and the source map of where everything is.

Order: read (size bound) -> YAML with positions -> merge `defaults:` into each secret -> models
-> cross-field rules (secrets_layout.rules). Any problem raises DeclarationError carrying every
issue with FILE:LINE:COLUMN, the field path and the fix; nothing reaches Pulumi before that.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path as FilePath

from pydantic import ValidationError

from secrets_layout.errors import DeclarationError, Issue, Path, format_path
from secrets_layout.field_messages import message_for
from secrets_layout.models import Declaration, union_member, without_union_tags
from secrets_layout.rules import check_declaration, no_secret_values_in_git
from secrets_layout.yaml_source import MAX_FILE_BYTES, Position, SourceMap, YamlSourceError, load_yaml

# Within rotation, these keys are alternatives: a secret that sets one of a group's keys (left)
# drops the inherited keys of the group (right) instead of ending up with two schedules or two
# functions. A function's settings (adapter, bootstrap) go with it, but setting one of them alone
# keeps the inherited function.
_ROTATION_ALTERNATIVES = (
    (frozenset({"every_days", "schedule"}), frozenset({"every_days", "schedule"})),
    (frozenset({"managed", "function", "lambda_arn", "vpc"}),
     frozenset({"managed", "function", "lambda_arn", "vpc", "adapter", "bootstrap"})),
)
_MERGED_MAPPINGS = ("tags",)


@dataclass(frozen=True)
class LoadedDeclaration:
    """A valid declaration with the positions of what it was made from."""

    declaration: Declaration
    source_map: SourceMap

    @property
    def file(self) -> str:
        return self.source_map.file

    def secret_position(self, secret_name: str) -> Position:
        """Where the secret of that name is declared (its `- name:` item). KeyError if none is."""
        return self.source_map.locate(("secrets", self._secret_indexes[secret_name]))

    def parameter_position(self, parameter_name: str) -> Position:
        """Where the parameter of that name is declared. KeyError if none is."""
        return self.source_map.locate(("parameters", self._parameter_indexes[parameter_name]))

    @functools.cached_property
    def _parameter_indexes(self) -> dict[str, int]:
        return {parameter.name: index for index, parameter in enumerate(self.declaration.parameters)}

    @functools.cached_property
    def _secret_indexes(self) -> dict[str, int]:
        # Looked up once per resource by the preview: an index, not a scan of every secret.
        return {secret.name: index for index, secret in enumerate(self.declaration.secrets)}


def load_declaration(path: str | os.PathLike[str]) -> LoadedDeclaration:
    """Read and validate a declaration file. Raises DeclarationError, or OSError if unreadable."""
    file = os.fspath(path)
    with open(file, "rb") as stream:
        raw = stream.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise DeclarationError([Issue(file, 1, 1, "(document)",
                                      f"file is larger than {MAX_FILE_BYTES // 1024} KiB; split it into smaller declarations")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DeclarationError([Issue(file, line, 1, "(document)", "not UTF-8 text; save the file as UTF-8")]) from None
    return parse_declaration(text, file)


def parse_declaration(text: str, file: str) -> LoadedDeclaration:
    """Validate declaration text; `file` is the name used in messages."""
    with _collector_paused():
        return _parse(text, file)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    # A large declaration builds tens of thousands of small objects that all live until the
    # load ends; the cyclic collector would rescan them again and again (40% of a 1,000-secret
    # load) without ever finding garbage.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _parse(text: str, file: str) -> LoadedDeclaration:
    try:
        data, source_map = load_yaml(text, file)
    except YamlSourceError as error:
        raise DeclarationError([_issue(SourceMap(file), error.path, error.message, error.position)]) from None
    if not isinstance(data, dict):
        raise DeclarationError([Issue(file, 1, 1, "(document)",
                                      "a declaration is a mapping with environment:, security_account:, secrets: ...; "
                                      "see environments/schema.json")])
    data = merge_defaults(data, source_map)
    credential_issues = [_issue(source_map, path, message) for path, message in no_secret_values_in_git(data)]
    try:
        declaration = Declaration.model_validate(data)
    except ValidationError as error:
        raise DeclarationError(_without_inherited_repeats(_pydantic_issues(error, source_map) + credential_issues)) from None
    issues = [_issue(source_map, path, message) for path, message in check_declaration(declaration)]
    if issues or credential_issues:
        raise DeclarationError(_without_inherited_repeats(issues + credential_issues))
    return LoadedDeclaration(declaration, source_map)


def merge_defaults(data: dict, source_map: SourceMap) -> dict:
    """Apply `defaults:` to every secret that does not set a field itself.

    Mappings (rotation, tags) merge key by key with the secret's keys winning; a rotation with
    `enabled: false` drops the inherited schedule; lists and scalars replace. Inherited values keep
    the position they have under defaults:, so errors point at the line that wrote them.
    """
    defaults, secrets = data.get("defaults"), data.get("secrets")
    if not isinstance(defaults, dict) or not isinstance(secrets, list):
        return data
    merged = dict(data, secrets=[])
    written_defaults = source_map.within(("defaults",))
    for index, secret in enumerate(secrets):
        if isinstance(secret, dict):
            secret = dict(secret)
            for field, inherited in defaults.items():
                source, target = ("defaults", field), ("secrets", index, field)
                if field not in secret:
                    # Shared, not copied: the merged document is only read (by the models and the rules).
                    secret[field] = inherited
                    source_map.alias(source, target, written_defaults)
                elif field == "rotation":
                    secret[field] = _merge_rotation(inherited, secret[field], source, target, source_map, written_defaults)
                elif field in _MERGED_MAPPINGS:
                    secret[field] = _merge_mapping(inherited, secret[field], source, target, source_map, written_defaults)
        merged["secrets"].append(secret)
    return merged


def _merge_mapping(inherited: object, own: object, source: Path, target: Path, source_map: SourceMap,
                   written_defaults: SourceMap) -> object:
    if not isinstance(inherited, dict) or not isinstance(own, dict):
        return own
    for key in inherited.keys() - own.keys():
        source_map.alias(source + (key,), target + (key,), written_defaults)
    return {**inherited, **own}


def _merge_rotation(inherited: object, own: object, source: Path, target: Path, source_map: SourceMap,
                    written_defaults: SourceMap) -> object:
    if not isinstance(inherited, dict) or not isinstance(own, dict) or own.get("enabled") is False:
        return own
    dropped = set().union(*(group for trigger, group in _ROTATION_ALTERNATIVES if trigger & own.keys()))
    kept = {key: value for key, value in inherited.items() if key not in dropped}
    return _merge_mapping(kept, own, source, target, source_map, written_defaults)


def _pydantic_issues(error: ValidationError, source_map: SourceMap) -> list[Issue]:
    issues = []
    for detail in error.errors(include_url=False):
        written = tuple(part for part in detail["loc"] if part != "[key]")
        location = without_union_tags(written)
        member = union_member(written)
        # Within a discriminated union (rotation.adapter) the member's own fields explain the error.
        message = message_for(member[0], detail, member[1]) if member and member[1] else message_for(Declaration, detail, location)
        if detail["type"] == "missing":
            position = source_map.locate(location[:-1])
        elif detail["type"] == "extra_forbidden" or "[key]" in detail["loc"]:
            position = source_map.locate_key(location)
        else:
            # Values the models build themselves (an account's `id` from its short form) have no
            # position of their own: report the value as it was written.
            location = source_map.known_prefix(location) or location
            position = source_map.locate(location)
        issues.append(_issue(source_map, location, message, position))
    return issues


def _issue(source_map: SourceMap, path: Path, message: str, position: Position | None = None) -> Issue:
    position = position or source_map.locate(path)
    return Issue(source_map.file, position.line, position.column, format_path(path), message)


def _without_inherited_repeats(issues: list[Issue]) -> list[Issue]:
    """A bad value under defaults: is reported once, at defaults, not again for each secret."""
    seen: set[tuple[int, int, str]] = set()
    unique = []
    for issue in sorted(issues, key=lambda issue: not issue.path.startswith("defaults")):
        spot = (issue.line, issue.column, issue.message)
        if spot not in seen:
            seen.add(spot)
            unique.append(issue)
    return unique
