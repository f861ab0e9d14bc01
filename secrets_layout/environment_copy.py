"""`init --from ENV`: a new environment with what another one declares, as it declares it.

The source's text is edited, not its model re-serialised: `defaults:` stays `defaults:` (never expanded
into every secret), each secret keeps the settings it writes itself (`replicas: []` too), and comments,
blank lines, flow style and quotes survive (secrets_layout/yaml_roundtrip.py). An environment folder
(environments/ENV/: _environment.yaml and a file per team) is copied file by file into a new folder.

What changes, because it names the source environment or one of its resources:
- `environment:`, and the environment's name in secret and parameter names (`prod/orders/x` ->
  `qa/orders/x`), in descriptions (as a word), in tag values equal to it and in account names
  (`prod-app` -> `qa-app`);
- `security_account`, `primary_region`, `organization_id` and `accounts:` are the new environment's;
  readers of an account it does not have are left out (and listed in the header);
- `defaults.protect` is written, as chosen; `defaults.replicas` is the given one, if any;
- not copied: `kms:` key ARNs, `alerts:`, `import_id`/`adopt`, rotation `vpc:`; template and parameter
  values, Lambda ARNs and adapter URLs become REPLACE-ME; a replica in the new primary region goes.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAMLError
from ruamel.yaml.comments import CommentedMap

from secrets_layout import yaml_roundtrip
from secrets_layout.declaration.folder import folder_files, read_text
from secrets_layout.declaration.loader import default_declaration, load_declaration
from secrets_layout.declaration.models import Declaration
from secrets_layout.errors import DeclarationError
from secrets_layout.files import check_regular

PLACEHOLDER = "REPLACE-ME"
STRUCTURAL_TEMPLATE_KEYS = frozenset({"engine"})
"""Template keys that are structure, not values: the managed rotation requires its engine."""
MODELINE = "# yaml-language-server: $schema="


class CopyError(Exception):
    """The copy is not a valid declaration: the message says why."""


@dataclass(frozen=True)
class SourceEnvironment:
    """The environment `--from` names: its declaration (valid) and its files as written."""

    environment: str
    path: Path
    """environments/ENV.yaml, or the folder environments/ENV."""
    declaration: Declaration
    files: tuple[tuple[str, str], ...]
    """(name, text): the file; a folder's settings file first, then its team files."""

    @property
    def is_folder(self) -> bool:
        return self.path.is_dir()


def read_source(environments: Path, environment: str) -> SourceEnvironment:
    """environments/ENV.yaml, else the folder environments/ENV/. Raises UnreadableFile, DeclarationError."""
    path = Path(default_declaration(environment, os.fspath(environments)))
    if os.path.isdir(path):  # False for a name too long for the file system: check_regular names that
        files, _ = folder_files(os.fspath(path))
    else:
        check_regular(path)
        files = [os.fspath(path)]
    declaration = load_declaration(path).declaration
    return SourceEnvironment(environment, path, declaration,
                             tuple((os.path.basename(file), read_text(file)) for file in files))


@dataclass(frozen=True)
class Target:
    """What the new environment is: its name, accounts, regions and protection."""

    environment: str
    security_account: str
    region: str
    accounts: Mapping[str, str]
    replicas: Sequence[str] = ()
    organization_id: str | None = None
    protect: bool = True


@dataclass(frozen=True)
class CopiedEnvironment:
    files: list[tuple[str, str]]
    """(path under environments/, text): ENV.yaml, or ENV/<name> for each file of a folder."""
    declaration: Declaration

    @property
    def regions(self) -> list[str]:
        """Every region the copy deploys to, the primary first: what its policy config must allow."""
        replicas = [*(self.declaration.defaults.replicas or []),
                    *(region for secret in self.declaration.secrets for region in secret.replicas)]
        return list(dict.fromkeys([self.declaration.primary_region, *replicas]))


def copy_environment(source: SourceEnvironment, target: Target) -> CopiedEnvironment:
    """The source's files, edited for the new environment, and the declaration they make."""
    dropped_readers: set[str] = set()  # the source's account names, for the header
    copied = []
    for index, (name, text) in enumerate(source.files):
        try:
            document, indentation = yaml_roundtrip.load(text)
        except YAMLError as error:  # the loader read it; ruamel.yaml may still refuse a construct
            problem = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise CopyError(f"--from {source.environment}: {name} cannot be copied as written ({problem}); "
                            "copy it by hand") from None
        if index == 0:
            _edit_settings(document, source.environment, target)
        if document is not None:
            for secret in document.get("secrets") or []:
                _edit_secret(secret, source, target, dropped_readers)
            for parameter in document.get("parameters") or []:
                _edit_parameter(parameter, source.environment, target.environment)
        shown = f"{target.environment}/{name}" if source.is_folder else f"{target.environment}.yaml"
        copied.append((shown, yaml_roundtrip.dump(document, indentation) if document is not None else text))
    declaration = _validated(copied, source.environment)
    header = _header(source, target, declaration, dropped_readers)
    name, text = copied[0]
    copied[0] = (name, _with_header(text, header, "../schema.json" if source.is_folder else "schema.json"))
    return CopiedEnvironment(copied, declaration)


# -- the settings ------------------------------------------------------------------------------------

def _edit_settings(document: Any, old: str, target: Target) -> None:

    document["environment"] = yaml_roundtrip.restyled(document["environment"], target.environment)
    document["security_account"] = yaml_roundtrip.quoted(target.security_account)
    if target.organization_id:
        _set(document, "organization_id", target.organization_id, after="security_account")
    elif "organization_id" in document:
        yaml_roundtrip.remove(document, "organization_id")
    document["primary_region"] = yaml_roundtrip.restyled(document["primary_region"], target.region)
    accounts = {name: yaml_roundtrip.quoted(account_id) for name, account_id in target.accounts.items()}
    if "accounts" in document:
        yaml_roundtrip.replace_entries(document, "accounts", accounts)
    elif accounts:
        _set(document, "accounts", accounts, after="primary_region")
    for key in ("kms", "alerts"):
        if key in document:
            yaml_roundtrip.remove(document, key)
    _edit_defaults(document, old, target)


def _edit_defaults(document: Any, old: str, target: Target) -> None:

    if document.get("defaults") is None:
        _set(document, "defaults", CommentedMap(), after="accounts")
    defaults = document["defaults"]
    if "rotation" in defaults:
        _edit_rotation(defaults["rotation"], target)
    if "tags" in defaults:
        _retag(defaults["tags"], old, target.environment)
    if target.replicas:
        if "replicas" in defaults:
            with yaml_roundtrip.tail_kept(defaults, "replicas"):
                defaults["replicas"] = yaml_roundtrip.flow_list(list(target.replicas))
        else:
            _set(defaults, "replicas", yaml_roundtrip.flow_list(list(target.replicas)))
    elif "replicas" in defaults:
        yaml_roundtrip.keep_items(defaults, "replicas", lambda region: region != target.region)
    _set(defaults, "protect", target.protect)


def _set(mapping: Any, key: str, value: Any, *, after: str | None = None) -> None:
    """A key's value; a new key goes after `after` (when the mapping has it), else at the end."""

    if key in mapping:
        mapping[key] = value
    else:
        yaml_roundtrip.insert(mapping, key, value, after=after)


# -- secrets and parameters ------------------------------------------------------------------------

def _edit_secret(secret: Any, source: SourceEnvironment, target: Target, dropped_readers: set[str]) -> None:

    old, new = source.environment, target.environment
    secret["name"] = yaml_roundtrip.restyled(secret["name"], _renamed(secret["name"], old, new, "/"))
    if "description" in secret:
        description = secret["description"]
        secret["description"] = yaml_roundtrip.restyled(description, _reworded(description, old, new))
    for key in ("import_id", "adopt"):
        if key in secret:
            yaml_roundtrip.remove(secret, key)
    template = (secret.get("value") or {}).get("template")
    for key, value in (template or {}).items():
        if key not in STRUCTURAL_TEMPLATE_KEYS and not isinstance(value, bool | int | float):
            template[key] = yaml_roundtrip.restyled(value, PLACEHOLDER)
    if "rotation" in secret:
        _edit_rotation(secret["rotation"], target)
    if "readers" in secret:
        def kept(reader: Any) -> bool:
            name = _renamed(reader["account"], old, new)
            if name not in target.accounts:
                dropped_readers.add(str(reader["account"]))
                return False
            reader["account"] = yaml_roundtrip.restyled(reader["account"], name)
            return True

        yaml_roundtrip.keep_items(secret, "readers", kept)
    if "replicas" in secret:
        yaml_roundtrip.keep_items(secret, "replicas", lambda region: region != target.region)
    if "tags" in secret:
        _retag(secret["tags"], old, new)


def _edit_parameter(parameter: Any, old: str, new: str) -> None:

    name = str(parameter["name"])
    renamed = "/" + _renamed(name[1:], old, new, "/") if name.startswith("/") else _renamed(name, old, new, "/")
    parameter["name"] = yaml_roundtrip.restyled(parameter["name"], renamed)
    parameter["value"] = yaml_roundtrip.restyled(parameter["value"], PLACEHOLDER)
    if "description" in parameter:
        description = parameter["description"]
        parameter["description"] = yaml_roundtrip.restyled(description, _reworded(description, old, new))
    if "tags" in parameter:
        _retag(parameter["tags"], old, new)


def _edit_rotation(rotation: Any, target: Target) -> None:

    if "vpc" in rotation:
        yaml_roundtrip.remove(rotation, "vpc")
    if "lambda_arn" in rotation:
        rotation["lambda_arn"] = yaml_roundtrip.restyled(
            rotation["lambda_arn"], f"arn:aws:lambda:{target.region}:{target.security_account}:function:{PLACEHOLDER}")
    adapter = rotation.get("adapter") or {}
    for key in [key for key in adapter if str(key).endswith("_url")]:
        adapter[key] = yaml_roundtrip.restyled(adapter[key], f"https://{PLACEHOLDER}.example/{key}")


def _renamed(name: str, old: str, new: str, separator: str = "-") -> str:
    """`prod/orders/x` -> `qa/orders/x`, `prod-app` -> `qa-app`; other names unchanged."""
    name = str(name)
    if name == old:
        return new
    return new + name[len(old):] if name.startswith(old + separator) else name


def _reworded(text: str, old: str, new: str) -> str:
    """The environment's name replaced where it is a word: "prod-db of prod" -> "qa-db of qa", not "production"."""
    return re.sub(rf"(?<![\w-]){re.escape(old)}(?![\w])", new, str(text))


def _retag(tags: Any, old: str, new: str) -> None:

    for key, value in tags.items():
        if value == old:
            tags[key] = yaml_roundtrip.restyled(value, new)


# -- the header and the check ------------------------------------------------------------------------

def _header(source: SourceEnvironment, target: Target, copy: Declaration, dropped_readers: set[str]) -> list[str]:
    old, new = source.environment, target.environment
    shown = f"environments/{old}/" if source.is_folder else f"environments/{old}.yaml"
    notes = [f"# {new}: what {shown} declares (secrets-layout init --from {old}), none of its values.",
             f"# Replace every {PLACEHOLDER} (template values, parameter values, rotation endpoints) before deploying.",
             "# Not copied: account IDs, KMS key ARNs, import_id/adopt, rotation VPCs, alerts."]
    if dropped_readers:
        notes.append("# Readers left out (no such account here; give --account NAME=ID): "
                     f"{', '.join(sorted(dropped_readers))}.")
    from_config = sorted({secret.value.from_config for secret in copy.secrets if secret.value.from_config})
    if from_config:
        notes.append(f"# Set the from_config values: pulumi config set --secret --stack {new} NAME "
                     f"(for {', '.join(from_config)}).")
    return notes


def _with_header(text: str, notes: list[str], schema: str) -> str:
    """The notes after the schema modeline (the source's, else one for the new file's place)."""
    first, newline, rest = text.partition("\n")
    if first.startswith(MODELINE):
        return first + newline + "".join(f"{note}\n" for note in notes) + rest
    return MODELINE + schema + "\n" + "".join(f"{note}\n" for note in notes) + text


def _validated(files: list[tuple[str, str]], old: str) -> Declaration:
    """The copy loaded as `validate` loads it, from a temporary environments/ folder."""
    with tempfile.TemporaryDirectory(prefix="secrets-layout-copy-") as temporary:
        environments = Path(temporary) / "environments"
        for name, text in files:
            (environments / name).parent.mkdir(parents=True, exist_ok=True)
            (environments / name).write_text(text, encoding="utf-8")
        top = files[0][0].split("/")[0]
        try:
            return load_declaration(environments / top).declaration
        except DeclarationError as error:
            message = str(error).replace(f"{environments}{os.sep}", "environments/")
            raise CopyError(f"--from {old}: the copy is not a valid declaration:\n{message}") from None
