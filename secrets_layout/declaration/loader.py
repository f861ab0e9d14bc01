"""environments/<env>.yaml -> a validated Declaration and the source map of where everything is.

Order: read (size bound) -> YAML with positions -> merge `defaults:` into each secret -> models
-> cross-field rules (secrets_layout.declaration.rules). Any problem raises DeclarationError carrying every
issue with FILE:LINE:COLUMN, the field path and the fix; nothing reaches Pulumi before that.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path as FilePath

from pydantic import ValidationError

from secrets_layout.declaration.credentials import credential_findings, redact_issues
from secrets_layout.declaration.field_messages import message_for
from secrets_layout.declaration.folder import default_declaration, read_folder, read_text
from secrets_layout.declaration.models import Declaration, union_member, without_union_tags
from secrets_layout.declaration.rules import check_declaration, no_secret_values_in_git
from secrets_layout.declaration.yaml_source import MAX_FILE_BYTES, Position, SourceMap, YamlSourceError, load_yaml
from secrets_layout.errors import DeclarationError, Issue, Path, format_path
from secrets_layout.files import read_bytes, shown

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
__all__ = ["LoadedDeclaration", "default_declaration", "load_declaration", "merge_defaults", "parse_declaration",
           "plaintext_stack_secrets"]


@dataclass(frozen=True)
class LoadedDeclaration:
    """A valid declaration with the positions of what it was made from."""

    declaration: Declaration
    source_map: SourceMap
    path: str = ""
    """The environment folder it was read from; empty for one file."""

    @property
    def file(self) -> str:
        """The declaration file; of an environment folder, its settings file."""
        return self.source_map.file

    @property
    def declaration_path(self) -> str:
        """What the declaration was read from, as given: the file or the environment folder."""
        return self.path or self.file

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
    """Read and validate a declaration: one file, or an environment folder (secrets_layout.declaration.folder).
    Raises DeclarationError, or UnreadableFile (an OSError) if it is not a readable regular file or
    folder (a FIFO, a device, a symbolic link loop)."""
    file = os.fspath(path)
    if os.path.isdir(file):
        with _collector_paused():
            loaded = _redacted(lambda: _validate(*read_folder(file)), path=file)
    else:
        loaded = parse_declaration(read_text(file), file)
    stack_issues = plaintext_stack_secrets(loaded)
    if stack_issues:
        raise DeclarationError(stack_issues)
    return loaded


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
    return _redacted(lambda: _parse_unredacted(text, file))


def _redacted(load: Callable[[], LoadedDeclaration], path: str = "") -> LoadedDeclaration:
    try:
        loaded = load()
    except DeclarationError as error:
        # No message may repeat a credential, whatever produced it (a mapping key in a path, a
        # value quoted in "is not an AWS region" or "unknown field").
        raise DeclarationError(redact_issues(error.issues)) from None
    return dataclasses.replace(loaded, path=path) if path else loaded


def _parse_unredacted(text: str, file: str) -> LoadedDeclaration:
    try:
        data, source_map = load_yaml(text, file)
    except YamlSourceError as error:
        raise DeclarationError([_issue(SourceMap(file), error.path, error.message, error.position)]) from None
    if not isinstance(data, dict):
        raise DeclarationError([Issue(file, 1, 1, "(document)",
                                      "a declaration is a mapping with environment:, security_account:, secrets: ...; "
                                      "see environments/schema.json")])
    return _validate(data, source_map)


def _validate(data: dict, source_map: SourceMap) -> LoadedDeclaration:
    data = merge_defaults(data, source_map)
    credential_findings_ = no_secret_values_in_git(data)
    credential_findings_ += _more_credentials(data, source_map.binary, {path for path, _ in credential_findings_})
    credential_issues = [_issue(source_map, path, message) for path, message in credential_findings_]
    try:
        declaration = Declaration.model_validate(data)
    except ValidationError as error:
        raise DeclarationError(_without_inherited_repeats(_pydantic_issues(error, source_map) + credential_issues)) from None
    issues = _rule_issues(check_declaration(declaration), source_map)
    if issues or credential_issues:
        raise DeclarationError(_without_inherited_repeats(issues + credential_issues))
    return LoadedDeclaration(declaration, source_map)


def _more_credentials(data: dict, binary: list[Path], already: set[Path]) -> list[tuple[Path, str]]:
    """Credentials in the other strings that reach AWS: descriptions (of secrets and parameters),
    rotation reasons (they become the rotation-exempt tag), the keys of tags, templates and
    accounts whatever their values, and `!!binary` values anywhere (PyYAML builds bytes for
    them, which the text fields accept)."""
    # Every string goes to the scan, whose own prefilter (credentials.might_fire) is proven against
    # the plugins on the line they read: a looser look at the text alone dropped tokens among words.
    literals = [(path, key, value) for path, key, value in _free_text(data, binary) if path not in already]
    findings = credential_findings((key, value) for _, key, value in literals)
    reported: set[Path] = set()
    result = []
    for (path, _, _), reasons in zip(literals, findings):
        if reasons and path not in reported:
            reported.add(path)
            result.append((path, f"this looks like a credential ({', '.join(reasons)}); secret values never go into git, "
                                 "and this text is stored in AWS as it is: remove it"))
    return result


def _free_text(data: dict, binary: list[Path]) -> Iterator[tuple[Path, str, str]]:
    def mapping(node: object) -> dict:
        return node if isinstance(node, dict) else {}

    def keys(node: object, path: Path) -> Iterator[tuple[Path, str, str]]:
        for key in mapping(node):
            if isinstance(key, str):
                yield path + (key,), "value", key

    def text(node: object, path: Path) -> Iterator[tuple[Path, str, str]]:
        if isinstance(node, str):
            yield path, "value", node

    defaults = mapping(data.get("defaults"))
    yield from text(mapping(defaults.get("rotation")).get("reason"), ("defaults", "rotation", "reason"))
    yield from keys(defaults.get("tags"), ("defaults", "tags"))
    yield from keys(data.get("accounts"), ("accounts",))
    for section in ("secrets", "parameters"):
        items = data.get(section)
        for index, item in enumerate(items if isinstance(items, list) else []):
            item = mapping(item)
            path = (section, index)
            yield from text(item.get("description"), path + ("description",))
            yield from keys(item.get("tags"), path + ("tags",))
            if section == "secrets":
                yield from text(mapping(item.get("rotation")).get("reason"), path + ("rotation", "reason"))
                yield from keys(mapping(item.get("value")).get("template"), path + ("value", "template"))
    for path in binary:
        node: object = data
        for part in path:
            node = node.get(part) if isinstance(node, dict) else node[part] if isinstance(node, list) and isinstance(part, int) and part < len(node) else None
        if isinstance(node, bytes):
            key = next((part for part in reversed(path) if isinstance(part, str)), "value")
            yield path, key, node.decode("utf-8", errors="replace")


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
    written_defaults = _Copies(source_map, source_map.within(("defaults",)))
    for index, secret in enumerate(secrets):
        if isinstance(secret, dict):
            secret = dict(secret)
            for field, inherited in defaults.items():
                source, target = ("defaults", field), ("secrets", index, field)
                if field not in secret:
                    # Shared, not copied: the merged document is only read (by the models and the rules).
                    secret[field] = inherited
                    written_defaults.alias(source, target)
                elif field == "rotation":
                    secret[field] = _merge_rotation(inherited, secret[field], source, target, source_map, written_defaults)
                elif field in _MERGED_MAPPINGS:
                    secret[field] = _merge_mapping(inherited, secret[field], source, target, source_map, written_defaults)
        merged["secrets"].append(secret)
    return merged


class _Copies:
    """SourceMap.alias from one small origin map, many times over: what is under each source is
    looked up once, and each copy costs its own size only (1,000 secrets copy the same few
    defaults thousands of times). `SourceMap.alias(source, target, origin)` is the reference."""

    def __init__(self, source_map: SourceMap, origin: SourceMap):
        self.source_map = source_map
        self.origin = origin
        self._under: dict[Path, tuple[list, list]] = {}

    def alias(self, source: Path, target: Path) -> None:
        under = self._under.get(source)
        if under is None:
            size = len(source)
            under = self._under[source] = tuple(
                [(path[size:], mark) for path, mark in table.items() if path[:size] == source]
                for table in (self.origin.values, self.origin.keys))
        values, keys = under
        self.source_map.values.update({target + rest: mark for rest, mark in values})
        self.source_map.keys.update({target + rest: mark for rest, mark in keys})


def _merge_mapping(inherited: object, own: object, source: Path, target: Path, source_map: SourceMap,
                   written_defaults: _Copies) -> object:
    if not isinstance(inherited, dict) or not isinstance(own, dict):
        return own
    for key in inherited.keys() - own.keys():
        written_defaults.alias(source + (key,), target + (key,))
    return {**inherited, **own}


def _merge_rotation(inherited: object, own: object, source: Path, target: Path, source_map: SourceMap,
                    written_defaults: _Copies) -> object:
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
    """An issue at `path` of the merged document, in the file and with the path the author wrote."""
    position = position or source_map.locate(path)
    return Issue(position.file or source_map.file, position.line, position.column,
                 format_path(source_map.local_path(path)), message)


_ITEM_REFERENCE = re.compile(r"\(also (secrets|parameters)\[(\d+)\]\)")


def _rule_issues(findings: list[tuple[Path, str]], source_map: SourceMap) -> list[Issue]:
    """The cross-field rules' findings as issues. In an environment folder, "(also secrets[3])" (an
    index into the merged document) becomes the other item's file and position, and a clash between
    two files (a duplicate name) is reported in both, so each file's owners see it."""
    issues = []
    for path, message in findings:
        reference = _ITEM_REFERENCE.search(message) if source_map.items else None
        if reference is None:
            issues.append(_issue(source_map, path, message))
            continue
        other = (reference.group(1), int(reference.group(2)))
        issue = _issue(source_map, path, _ITEM_REFERENCE.sub(_placed(other, source_map), message))
        issues.append(issue)
        if source_map.file_of(other) != source_map.file_of(path):
            mirrored = _ITEM_REFERENCE.sub(_placed(path[:2], source_map), message)
            issues.append(_issue(source_map, (*other, *path[2:]), mirrored))
    return issues


def _placed(item: Path, source_map: SourceMap) -> str:
    position = source_map.locate(item)
    return (f"(also {format_path(source_map.local_path(item))} at "
            f"{shown(source_map.file_of(item))}:{position.line}:{position.column})")


def _without_inherited_repeats(issues: list[Issue]) -> list[Issue]:
    """A bad value under defaults: is reported once, at defaults, not again for each secret."""
    seen: set[tuple[str, int, int, str]] = set()
    unique = []
    for issue in sorted(issues, key=lambda issue: not issue.path.startswith("defaults")):
        spot = (issue.file, issue.line, issue.column, issue.message)
        if spot not in seen:
            seen.add(spot)
            unique.append(issue)
    return unique


def plaintext_stack_secrets(loaded: LoadedDeclaration) -> list[Issue]:
    """`from_config` values written in plain text in the stack's Pulumi.<environment>.yaml.

    `pulumi config set --secret NAME` stores `NAME: {secure: v1:...}`; a plain `NAME: value` is the
    credential itself, committed to git (https://www.pulumi.com/docs/iac/concepts/secrets/).
    The stack file is the one beside the Pulumi.yaml found above the declaration; none, or one that
    cannot be read, is not this command's business (the Pulumi CLI reports it).
    """
    names = {secret.value.from_config for secret in loaded.declaration.secrets if secret.value.from_config}
    project_folder = _project_folder(FilePath(loaded.file).resolve().parent)
    if not names or project_folder is None:
        return []
    stack_file = project_folder / f"Pulumi.{loaded.declaration.environment}.yaml"
    project = _read_yaml(project_folder / "Pulumi.yaml")
    namespace = project[0].get("name") if project and isinstance(project[0], dict) else None
    stack = _read_yaml(stack_file)
    if stack is None or not isinstance(stack[0], dict) or not isinstance(stack[0].get("config"), dict):
        return []
    data, source_map = stack
    try:
        shown_file = stack_file.relative_to(FilePath.cwd().resolve()).as_posix()
    except ValueError:
        shown_file = os.fspath(stack_file)
    issues = []
    for key, value in data["config"].items():
        name = str(key).split(":", 1)[1] if ":" in str(key) else str(key)
        if name not in names or (":" in str(key) and namespace and str(key).split(":", 1)[0] != namespace):
            continue
        if isinstance(value, dict) and "secure" in value:
            continue
        position = source_map.locate(("config", key))
        issues.append(Issue(shown_file, position.line, position.column, format_path(("config", key)),
                            f"the from_config value {name} is stored in plain text, so the credential is in git; "
                            f"remove the line, rotate the credential, and set it with "
                            f"pulumi config set --secret --stack {loaded.declaration.environment} {name}"))
    return issues


def _project_folder(start: FilePath) -> FilePath | None:
    for folder in (start, *list(start.parents)[:2]):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    return None


def _read_yaml(file: FilePath) -> tuple[object, SourceMap] | None:
    """A Pulumi project or stack file as Pulumi reads it (values are their text: `load_yaml`)."""
    try:
        raw = read_bytes(file, MAX_FILE_BYTES)
        return load_yaml(raw.decode("utf-8"), os.fspath(file), scalars_as_text=True)
    except (OSError, UnicodeDecodeError, YamlSourceError):
        return None
