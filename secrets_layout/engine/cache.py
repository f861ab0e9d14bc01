"""A content-keyed cache of a revision's deployment simulation and of the pack's verdicts
(`preview --cache DIR`), so a pull-request preview need not simulate its base again.

What is stored, per declaration content (`simulation_key`):

- the deployment simulation's resources in the form `changes.plan_changes` compares them
  (`comparable_resources`): every field of `RegisteredResource` but the outputs (the classification
  reads none of them), every secret value replaced by a digest, every asset or archive by its
  content hash (`engine.values.hashed`). The head of every preview goes through the same function
  before `plan_changes`, cached or not, so both sides are compared the same way either way;
- the pack's Analyze answers by request digest (`verdict_memo.VerdictMemo`), under a key that adds
  the pack's files and the policy config's content (`verdict_key`);
- who can read each secret of the deployment (review/access.py's `AccessMap`, as review/access_json.py
  writes it: names, ARNs, capabilities and a digest of each secret's inputs, no document), under a key
  that adds the account it was computed for (`access_key`): a pull request whose base is stored
  evaluates only the secrets whose inputs it changed.

The format is JSON, never pickle: a cache restored from CI holds data that cannot run code. An entry
that cannot be read, is not JSON, or is of another format version is a warning and a miss (the
preview then simulates, as without a cache). Files are written atomically (files.write_atomically: a
temporary file in the same folder, then `os.replace`) and nothing is written outside the cache folder. A temporary that a
preview killed mid-write left (SIGKILL runs no cleanup) is removed by a later write once it is an hour
old (`remove_stale_temporaries`): never sooner, so a preview writing into the same folder is not disturbed.

An entry is read like a declaration (files.read_bytes): a regular file only, never a FIFO (opening
one waits for a writer) nor a link to a device (/dev/zero never ends), and at most
MAX_ENTRY_BYTES; JSON nested deeper than the interpreter's recursion limit is corrupt, not a crash.
Each entry carries the SHA-256 of its body as written, so an entry edited by hand (or damaged in a
way that is still JSON of the right shape) is a warning and a miss, never a different report.

Why a digest of a secret value is safe on disk: a preview never holds a real secret. A `from_config`
value is the placeholder `programs.CONFIG_PLACEHOLDER`, a generated value is the fake cloud's
(fake_cloud._random_password: derived from the resource's name), and the declaration cannot hold a
literal value (models.ValueSource). The digest is plain SHA-256 over a canonical JSON form, the same
on every machine, so two caches of the same content agree.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata, util
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime.proto import analyzer_pb2

from secrets_layout.engine.recorded_values import RegisteredResource, SecretValue
from secrets_layout.engine.values import HashedArchive, HashedAsset, HashedAssetArchive, hashed, is_asset
from secrets_layout.files import UnreadableFile, brief_problem, read_bytes, write_atomically
from secrets_layout.review.access import AccessMap
from secrets_layout.review.access_json import access_map_from_json, access_map_to_json

FORMAT_VERSION = 2
"""Raised whenever what is stored, or what a key covers, changes meaning."""

KEYED_DISTRIBUTIONS = ("pulumi", "pulumi-aws", "pulumi-random", "pulumi-policy", "protobuf", "pydantic", "PyYAML")
"""The SDK and providers the program runs on, the pack's runtime, the protobuf that serializes
the Analyze requests whose digests key the verdicts, and what the program reads the declaration
with (the loader runs inside the program: PyYAML parses it, pydantic validates it and fills its
defaults, so another version of either may declare other resources from the same bytes)."""

MAX_ENTRY_BYTES = 512 * 1024 * 1024
"""A stored deployment of 1,000 secrets is about 10 MB; anything past this bound is not one of ours."""

STALE_TEMPORARY_SECONDS = 60 * 60
"""How old (by mtime) a temporary of `_write` must be before the cache removes it as left by a killed
preview. A temporary lives from mkstemp to os.replace: one write of one entry, seconds even for an
entry near MAX_ENTRY_BYTES, and its mtime moves with every write. Two CI jobs sharing the folder (a
network filesystem's clock against this machine's, NTP keeps them within seconds) never come near
an hour, so a concurrent preview's temporary is never taken."""

PACKAGES = ("secrets_layout", "secrets_layout.components", "secrets_layout.policies", "secrets_layout.rotation")
"""Every folder of the installed package (pyproject.toml package-dir maps components/, policies/ and
rotation/ into it): the program's components, the pack and the rotation code a simulation zips."""

_BODY = {"simulation": "resources", "verdicts": "verdicts", "access": "access"}
"""The field of an entry of each kind that holds what was stored (beside format, key and sha256)."""
_INSTEAD = {"simulation": "simulated instead", "verdicts": "simulated instead", "access": "evaluated instead"}
"""What the preview does without an entry of each kind, as its warning says."""
_TEMPORARY_NAME = re.compile(r"\.[0-9a-f]{16}\.[a-z0-9_]{8}\.tmp")
"""What `_write` (files.write_atomically's mkstemp) names a temporary, exactly: "." + the key's first 16 digits + "." + 8
random characters + ".tmp" (CPython Lib/tempfile.py: mkstemp's name is prefix + next(_RandomNameSequence)
+ suffix, and _RandomNameSequence draws 8 of "abcdefghijklmnopqrstuvwxyz0123456789_")."""
_SKIPPED_FOLDERS = frozenset({"__pycache__", "node_modules", "site-packages"})
_TAG = "\u0000secrets-layout"
"""Marks an encoded secret digest, asset or archive; a mapping of the data holding this key is escaped."""


# ------------------------------------------------------------------------------------------------
# The comparable form: what is stored, and what the head is compared as
# ------------------------------------------------------------------------------------------------


def secret_digest(value: Any) -> str:
    """SHA-256 of a secret's value as canonical JSON: equal exactly when `values.same` finds the
    values equal (numbers cross the engine protocol as doubles: 7 and 7.0 are one value)."""
    canonical = json.dumps(_canonical(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, SecretValue):
        return {_TAG: "secret", "value": _canonical(value.reveal())}
    if is_asset(value):
        return _encode(hashed(value))
    if isinstance(value, Mapping):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def comparable(value: Any) -> Any:
    """`value` with each secret's hidden value replaced by its digest (still a `SecretValue`: it is
    masked and compared as before) and each asset or archive by its content-hash stand-in."""
    if type(value) is str:  # most values, and none of the kinds below (a shortcut past their checks)
        return value
    if isinstance(value, SecretValue):
        return SecretValue(secret_digest(value.reveal()))
    if is_asset(value):
        return hashed(value)
    if isinstance(value, Mapping):
        return {key: comparable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [comparable(item) for item in value]
    return value


def comparable_resources(resources: Iterable[RegisteredResource]) -> list[RegisteredResource]:
    """Resources as `plan_changes` compares them, on both sides of every preview (see the module)."""
    return [dataclasses.replace(resource, inputs=comparable(resource.inputs), outputs={}) for resource in resources]


# ------------------------------------------------------------------------------------------------
# JSON encoding of resources
# ------------------------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, SecretValue):
        return {_TAG: "secret", "digest": value.reveal()}
    if isinstance(value, HashedAssetArchive):
        return {_TAG: "asset-archive", "sha256": value.sha256,
                "assets": {name: _encode(item) for name, item in value.assets.items()}}
    if isinstance(value, HashedAsset):
        return {_TAG: "asset", "sha256": value.sha256}
    if isinstance(value, HashedArchive):
        return {_TAG: "archive", "sha256": value.sha256}
    if isinstance(value, pulumi.Asset | pulumi.Archive):
        raise TypeError("an asset must be reduced to its content hash (comparable) before it is stored")
    if isinstance(value, Mapping):
        encoded = {key: _encode(item) for key, item in value.items()}
        return {_TAG: "mapping", "items": encoded} if _TAG in value else encoded
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    if value is None or isinstance(value, str | bool | int | float):
        return value
    raise TypeError(f"{type(value).__name__} values are not stored in the preview cache")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        tag = value.get(_TAG)
        if tag is None:
            return {key: _decode(item) for key, item in value.items()}
        if tag == "secret" and isinstance(value.get("digest"), str):
            return SecretValue(value["digest"])
        if tag in ("asset", "archive", "asset-archive") and not isinstance(value.get("sha256"), str | None):
            raise ValueError("a content hash that is not a string")
        if tag == "asset":
            return HashedAsset(value["sha256"])
        if tag == "archive":
            return HashedArchive(value["sha256"])
        if tag == "asset-archive" and isinstance(value.get("assets"), dict):
            return HashedAssetArchive(value["sha256"], {name: _decode(item) for name, item in value["assets"].items()})
        if tag == "mapping" and isinstance(value.get("items"), dict):
            return {key: _decode(item) for key, item in value["items"].items()}
        raise ValueError(f"a malformed value tagged {tag!r}")
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


_FIELDS = tuple(field for field in dataclasses.fields(RegisteredResource) if field.name != "outputs")


def resource_to_json(resource: RegisteredResource) -> dict[str, Any]:
    """One comparable resource as JSON data (every field but the outputs)."""
    data: dict[str, Any] = {}
    for field in _FIELDS:
        value = getattr(resource, field.name)
        if field.name == "inputs":
            value = _encode(value)
        elif isinstance(value, frozenset):
            value = sorted(value)
        elif isinstance(value, tuple):
            value = list(value)
        elif field.name == "property_dependencies":
            value = {name: list(urns) for name, urns in value.items()}
        data[field.name] = value
    return data


def _of_type(annotation: str, value: Any) -> bool:
    """Whether JSON data has the shape `resource_to_json` writes for a field of that annotation."""
    return _checker(annotation)(value)


@functools.lru_cache(maxsize=None)
def _checker(annotation: str) -> Callable[[Any], bool]:
    """The test of `_of_type` for one annotation, made once (a stored deployment has thousands of resources)."""
    if annotation.endswith(" | None"):
        inner = _checker(annotation.removesuffix(" | None"))
        return lambda value: value is None or inner(value)
    if annotation in ("str", "bool"):
        expected = str if annotation == "str" else bool
        return lambda value: isinstance(value, expected)
    if annotation in ("tuple[str, ...]", "frozenset[str]"):
        return lambda value: isinstance(value, list) and all(isinstance(item, str) for item in value)
    if annotation.startswith("dict[str, "):
        inner_annotation = annotation.removeprefix("dict[str, ").removesuffix("]")
        if inner_annotation == "Any":
            return lambda value: isinstance(value, dict)
        inner = _checker(inner_annotation)
        return lambda value: isinstance(value, dict) and all(inner(item) for item in value.values())
    # A field type this reader does not know (RegisteredResource changed): never guessed.
    raise ValueError(f"no reader for a field of type {annotation}")


def resource_from_json(data: Mapping[str, Any]) -> RegisteredResource:
    """The inverse of `resource_to_json`; ValueError when the fields are not RegisteredResource's,
    or a value is not of its field's type."""
    if not isinstance(data, Mapping):
        raise ValueError("a resource that is not a JSON object")
    names = {field.name for field in _FIELDS}
    if set(data) != names:
        raise ValueError(f"fields differ from RegisteredResource's: {sorted(set(data) ^ names)}")
    values: dict[str, Any] = {}
    for field in _FIELDS:
        value = data[field.name]
        declared = str(field.type)
        if not _of_type(declared, value):
            raise ValueError(f"{field.name} is not of type {declared}")
        if field.name == "inputs":
            value = _decode(value)
        elif field.name == "property_dependencies":
            value = {name: tuple(urns) for name, urns in value.items()}
        elif declared.startswith("frozenset"):
            value = frozenset(value)
        elif declared.startswith("tuple"):
            value = tuple(value)
        values[field.name] = value
    return RegisteredResource(outputs={}, **values)


# ------------------------------------------------------------------------------------------------
# Keys
# ------------------------------------------------------------------------------------------------


def declaration_files(declaration_path: str | os.PathLike[str]) -> dict[str, bytes]:
    """The declaration's files by name relative to the declaration: one file (by its name), or the
    regular `*.yaml` files (not links) of an environment folder whose names do not start with "." (what the
    loader reads, declaration/folder.py, and what declaration/revision.write_at copies)."""
    path = Path(declaration_path)
    if not path.is_dir():
        return {path.name: path.read_bytes()}
    return {f"{path.name}/{entry.name}": entry.read_bytes() for entry in sorted(path.iterdir(), key=lambda e: e.name)
            if entry.name.endswith(".yaml") and not entry.name.startswith(".") and entry.is_file()
            and not entry.is_symlink()}


def package_folders() -> list[Path]:
    """The folders of the installed package's parts (found without importing them)."""
    folders = []
    for name in PACKAGES:
        spec = util.find_spec(name)
        # rotation/ has no __init__.py (it is the Lambda's code): a namespace package, no origin.
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        if spec is None or not locations:
            raise RuntimeError(f"{name} is not importable")
        folders.append(Path(spec.origin).resolve().parent if spec.origin else Path(locations[0]).resolve())
    return folders


def _source_files(folder: Path, *, python_only: bool) -> Iterable[tuple[str, Path]]:
    for root, folders, files in os.walk(folder):
        # A dot-folder (.git, .venv, .pytest_cache) or a virtualenv is not the program's source.
        folders[:] = sorted(name for name in folders if not name.startswith(".") and name not in _SKIPPED_FOLDERS
                            and not (Path(root) / name / "pyvenv.cfg").exists())
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")) or (python_only and not name.endswith(".py")):
                continue
            path = Path(root) / name
            yield path.relative_to(folder).as_posix(), path


def _versions() -> dict[str, str]:
    found = {"python": sys.version}
    for distribution in KEYED_DISTRIBUTIONS:
        try:
            found[distribution] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            found[distribution] = "(not installed)"
    return found


class _Hasher:
    def __init__(self, kind: str) -> None:
        self._digest = hashlib.sha256()
        self.text("format", f"secrets-layout preview cache {kind} v{FORMAT_VERSION}")

    def text(self, label: str, value: str) -> None:
        self.data(label, value.encode("utf-8", errors="surrogateescape"))

    def data(self, label: str, value: bytes) -> None:
        # Length-prefixed: no two sequences of (label, value) feed the same bytes.
        for part in (label.encode("utf-8", errors="surrogateescape"), value):
            self._digest.update(len(part).to_bytes(8, "big") + part)

    def files(self, label: str, named: Iterable[tuple[str, Path]]) -> None:
        for name, path in named:
            self.data(f"{label}:{name}", path.read_bytes())

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def simulation_key(declaration_path: str | os.PathLike[str], arguments: Mapping[str, Any],
                   packaged_program: Path) -> str:
    """The content a deployment simulation depends on: the declaration's files, the program (and,
    for a program outside the package, the .py files of its folder), every file of the installed
    package, the versions of Python and the SDKs, and `simulate`'s arguments that are not paths.
    Paths never enter it: the base is simulated from a temporary copy."""
    key = _Hasher("simulation")
    for name, content in declaration_files(declaration_path).items():
        key.data(f"declaration:{name}", content)
    program = Path(arguments["program"]).resolve()
    packaged = program == packaged_program.resolve()
    key.text("packaged program", str(packaged))
    key.data("program", program.read_bytes())
    if not packaged:
        key.files("program folder", _source_files(program.parent, python_only=True))
    for number, folder in enumerate(package_folders()):
        key.files(f"package {PACKAGES[number]}", _source_files(folder, python_only=False))
    for name, version in sorted(_versions().items()):
        key.text(f"version {name}", version)
    plain = {
        "project": arguments["project"], "stack": arguments["stack"], "account_id": arguments["account_id"],
        "mode": arguments["mode"], "secret_config": sorted(arguments["secret_config"]),
        "config": sorted(arguments["config"]), "root_directory": arguments["root_directory"] is not None,
    }
    key.text("arguments", json.dumps(plain, sort_keys=True))
    return key.hexdigest()


def verdict_key(simulation: str, pack_dir: Path, policy_config: Path) -> str:
    """The simulation's key, the pack's files and the policy config's content."""
    key = _Hasher("verdicts")
    key.text("simulation", simulation)
    key.files("pack", _source_files(pack_dir, python_only=False))
    key.data("policy config", policy_config.read_bytes())
    return key.hexdigest()


def access_key(simulation: str, account: str) -> str:
    """The simulation's key and the account the access map was computed for."""
    key = _Hasher("access")
    key.text("simulation", simulation)
    key.text("account", account)
    return key.hexdigest()


# ------------------------------------------------------------------------------------------------
# The folder
# ------------------------------------------------------------------------------------------------


class PreviewCache:
    """Entries in one folder: `<key>.simulation.json`, `<key>.verdicts.json` and `<key>.access.json`.
    Reading never raises for a bad entry: it returns None and adds a warning to `warnings`."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.warnings: list[str] = []

    def _path(self, key: str, kind: str) -> Path:
        if not (len(key) == 64 and all(char in "0123456789abcdef" for char in key)):
            raise ValueError("a cache key is a sha256 hex digest")
        return self.folder / f"{key}.{kind}.json"

    def _read(self, key: str, kind: str) -> Any | None:
        """The entry's body (what `_write` was given), or None: missing, or a warning said why not."""
        path = self._path(key, kind)
        try:
            os.stat(path)
        except FileNotFoundError:
            return None  # no entry, or a link to nothing: a miss
        except OSError as error:
            self._warn(key, kind, f"unreadable ({brief_problem(error)})")
            return None
        try:
            raw = read_bytes(path, MAX_ENTRY_BYTES)
            if len(raw) > MAX_ENTRY_BYTES:
                self._warn(key, kind, f"larger than {MAX_ENTRY_BYTES // (1024 * 1024)} MiB")
                return None
            data = json.loads(raw)
        except UnreadableFile as error:
            self._warn(key, kind, f"unreadable ({brief_problem(error)})")
            return None
        except (OSError, ValueError, RecursionError) as error:
            self._warn(key, kind, f"unreadable ({type(error).__name__})")
            return None
        if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION or data.get("key") != key:
            found = data.get("format") if isinstance(data, dict) else None
            self._warn(key, kind, f"of format {found!r}, not {FORMAT_VERSION}" if found != FORMAT_VERSION
                       else "not the entry its name says")
            return None
        field, digest = _BODY[kind], data.get("sha256")
        # The digest is of the body's bytes as written, checked in place: the parsed body is never
        # encoded again (0.13 s for a 10 MB deployment, on the path of every cached pull request).
        head = _entry_head(key, kind, digest) if isinstance(digest, str) else b""
        intact = (set(data) == {"format", "key", "sha256", field} and bool(head) and raw.startswith(head)
                  and raw.endswith(b"}") and digest == _sha256(raw[len(head):-1]))
        if not intact:
            self._warn(key, kind, "altered since it was written (its sha256 does not match its content)")
            return None
        return data[_BODY[kind]]

    def _warn(self, key: str, kind: str, why: str) -> None:
        name = self._path(key, kind).name
        self.warnings.append(f"preview cache: {name} in {self.folder} is {why}; not used ({_INSTEAD[kind]})")

    def remove_stale_temporaries(self) -> None:
        """Remove what a preview killed while writing an entry left: the temporaries `_write` names
        (_TEMPORARY_NAME), regular files only, last modified over STALE_TEMPORARY_SECONDS ago. Links
        are never followed and nothing else in the folder is touched; an entry that vanishes (another
        preview cleaning the same folder) or cannot be read or removed is left as it is, silently."""
        oldest = time.time() - STALE_TEMPORARY_SECONDS
        try:
            with os.scandir(self.folder) as entries:
                stale = [entry.path for entry in entries if _TEMPORARY_NAME.fullmatch(entry.name) and _older(entry, oldest)]
        except OSError:
            return  # no folder yet, or one that cannot be listed: nothing of ours to remove
        for path in stale:
            # Swapped for a link since: unlink removes the link, never its target.
            with contextlib.suppress(OSError):
                os.unlink(path)

    def _write(self, key: str, kind: str, body: Any) -> None:
        path = self._path(key, kind)
        self.folder.mkdir(parents=True, exist_ok=True)
        # Every preview with a cache writes its head's entries: a temporary that a killed one left
        # is removed by a later one.
        self.remove_stale_temporaries()
        # The cache's own file: replaced whatever is there (an entry of the same key is the same entry).
        write_atomically(path, entry_bytes(key, kind, body), replace=True, prefix=f".{key[:16]}.", suffix=".tmp")

    def load_simulation(self, key: str) -> list[RegisteredResource] | None:
        data = self._read(key, "simulation")
        if data is None:
            return None
        try:
            return [resource_from_json(item) for item in data]
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as error:
            self._warn(key, "simulation", f"corrupt ({type(error).__name__})")
            return None

    def store_simulation(self, key: str, resources: Iterable[RegisteredResource]) -> None:
        """`resources` in their comparable form (`comparable_resources`)."""
        self._write(key, "simulation", [resource_to_json(resource) for resource in resources])

    def load_verdicts(self, key: str) -> dict[str, analyzer_pb2.AnalyzeResponse] | None:
        """Analyze answers by request digest (`verdict_memo.VerdictMemo`)."""
        data = self._read(key, "verdicts")
        if data is None:
            return None
        try:
            return {digest: json_format.ParseDict(answer, analyzer_pb2.AnalyzeResponse())
                    for digest, answer in data.items()}
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError, json_format.ParseError) as error:
            self._warn(key, "verdicts", f"corrupt ({type(error).__name__})")
            return None

    def store_verdicts(self, key: str, verdicts: Mapping[str, analyzer_pb2.AnalyzeResponse]) -> None:
        self._write(key, "verdicts", {digest: json_format.MessageToDict(answer)
                                      for digest, answer in sorted(verdicts.items())})

    def load_access(self, key: str) -> AccessMap | None:
        data = self._read(key, "access")
        if data is None:
            return None
        try:
            return access_map_from_json(data)
        except (ValueError, RecursionError) as error:
            self._warn(key, "access", f"corrupt ({type(error).__name__})")
            return None

    def store_access(self, key: str, found: AccessMap) -> None:
        self._write(key, "access", access_map_to_json(found))


def _older(entry: os.DirEntry[str], oldest: float) -> bool:
    """Whether the entry is a regular file (not a link to one) last modified before `oldest`."""
    try:
        return entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < oldest
    except OSError:
        return False  # vanished since it was listed, or cannot be examined: not ours to remove


def entry_bytes(key: str, kind: str, body: Any) -> bytes:
    """An entry as `_write` stores it: the header, then the body, whose digest the header carries."""
    # dumps, not dump: only a one-shot encoding uses the json module's C encoder (json.encoder,
    # JSONEncoder.iterencode), about five times faster on a 10 MB deployment.
    encoded = json.dumps(body, separators=(",", ":"), allow_nan=True).encode("utf-8")
    return _entry_head(key, kind, _sha256(encoded)) + encoded + b"}"


def _entry_head(key: str, kind: str, digest: str) -> bytes:
    return f'{{"format":{FORMAT_VERSION},"key":{json.dumps(key)},"sha256":{json.dumps(digest)},"{_BODY[kind]}":'.encode()


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()
