"""`preview --cache DIR` changes no result: a pull-request preview whose base deployment (and the
pack's verdicts on it) come from the cache gives the JSON report of the preview that simulates the
base, byte for byte; the cache misses whenever what a simulation or a verdict depends on changes;
a bad entry is a warning and a simulation; no secret value reaches the disk; and the pack's verdict
memo (always on) gives the violations of a pack asked every request."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from cli_support import assert_no_traceback, run_cli
from preview_support import DEV, git, repository_with
from secrets_layout.engine import cache as preview_cache
from secrets_layout.engine.analyzer_client import DEFAULT_PACK_DIR, AnalyzerClient
from secrets_layout.engine.verdict_memo import VerdictMemo
from secrets_layout.declaration.loader import load_declaration
from secrets_layout.engine.cache import (PreviewCache, access_key, comparable_resources, resource_from_json,
                                         resource_to_json, simulation_key, verdict_key)
from secrets_layout.engine.changes import plan_changes
from secrets_layout.engine.recorded_values import SecretValue
from secrets_layout.engine.values import HashedAsset, plain, same
from secrets_layout.engine.policy_check import analyzer_resources
from secrets_layout.engine.programs import CONFIG_PLACEHOLDER, PACKAGED_PROGRAM, evaluate_declaration, simulation_arguments
from secrets_layout.preview import run_preview
from secrets_layout.reports import preview_json, preview_markdown, preview_text
from secrets_layout.review import access

ROOT = Path(__file__).resolve().parents[1]
DEV_CONFIG = ROOT / "policies" / "config" / "dev.json"
TODAY = date(2026, 11, 30)

NEW_SECRET = """  - name: dev/search/api-token
    description: Search service token
    kind: generic
    value: {external: true}
    rotation: {enabled: false, reason: the vendor issues tokens only through its console}
    readers: [{account: dev-app, roles: [SearchRole]}]

parameters:"""
FLAG_SECRET = DEV[DEV.index("  - name: dev/tools/feature-flag-sdk-key"):DEV.index("parameters:")]

# What a pull request changes in environments/dev.yaml (base: DEV as committed): replacements.
CHANGES = {
    "description changed": [("description: Stripe test-mode key", "description: Stripe test-mode key of dev")],
    "secret added": [("parameters:", NEW_SECRET)],
    "secret removed": [(FLAG_SECRET, "")],
    "generated length changed": [("length: 32", "length: 40")],
    "from_config name changed": [("from_config: stripeApiKey", "from_config: stripeKey")],
    # A reader in another account: the key policies list every reader account.
    "reader account added": [
        ('  dev-app: "444444444444"\n', '  dev-app: "444444444444"\n  dev-analytics: "555555555555"\n'),
        ("readers: [{account: dev-app, roles: [DevAppRole]}]",
         "readers: [{account: dev-app, roles: [DevAppRole]}, {account: dev-analytics, roles: [BiRole]}]")],
    "rotation changed": [("rotation: {every_days: 7}", "rotation: {every_days: 14}")],
    # The components set no retain_on_delete, so protect is the option a declaration changes.
    "protect changed": [("  protect: false", "  protect: true")],
    "violation introduced": [("rotation: {every_days: 7}", "rotation: {every_days: 400}")],
    # Access: the secret policy and every key policy (which lists each reader) change.
    "reader added": [("roles: [PaymentsRole]", "roles: [PaymentsRole, RefundsRole]")],
    "reader removed": [("roles: [DevAppRole, DeveloperRole]", "roles: [DevAppRole]")],
    # Every secret policy gains a deny, and the access maps' organization changes.
    "organization added": [('security_account: "111111111111"\n',
                            'security_account: "111111111111"\norganization_id: o-a1b2c3d4e5\n')],
    # us-east-1's key is no longer made here: its policy is not in the stack (reads depend on it).
    "existing key named": [("primary_region: us-east-1\n", "primary_region: us-east-1\nkms:\n  keys:\n"
                            "    us-east-1: arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab\n")],
}
KEY_POLICY_CHANGES = ("secret added", "reader account added", "reader added", "reader removed", "organization added",
                      "existing key named")
"""The changes to the inputs of every secret's access: each key policy lists every reader of its region (a
secret removed whose reader still reads another secret leaves the key policies as they were)."""


def changed(name: str) -> str:
    text = DEV
    for before, after in CHANGES[name]:
        assert before in text, (name, before)
        text = text.replace(before, after, 1)
    return text


def json_report(file: Path, **options) -> str:
    return preview_json.render(run_preview(file, policy_config=DEV_CONFIG, today=TODAY, **options))


def reports(file: Path, **options) -> dict[str, str]:
    """The preview's report in each format a pull request is shown in."""
    report = run_preview(file, policy_config=DEV_CONFIG, today=TODAY, **options)
    return {"json": preview_json.render(report), "markdown": preview_markdown.render(report),
            "text": preview_text.render(report)}


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """A repository at DEV, and a cache filled by the preview of that revision (the push to main)."""
    tmp_path = tmp_path_factory.mktemp("cache")
    repository, file = repository_with(tmp_path, "dev", DEV)
    folder = tmp_path / "preview-cache"
    run_preview(file, policy_config=DEV_CONFIG, today=TODAY, cache=folder)
    return repository, file, folder


def _counting_evaluations(monkeypatch) -> list[str]:
    """The secrets whose access review/access.py evaluates (rather than takes from a known map)."""
    evaluated: list[str] = []
    real = access._secret_access

    def counted(secret, *arguments):
        evaluated.append(secret.name)
        return real(secret, *arguments)

    monkeypatch.setattr(access, "_secret_access", counted)
    return evaluated


@pytest.mark.slow
@pytest.mark.parametrize("change", list(CHANGES))
def test_a_warm_cache_gives_the_report_of_the_simulated_base(filled, change, monkeypatch):
    """The JSON, markdown and text reports byte for byte; and the base's access map comes from the
    cache, so the head evaluates only the secrets whose access inputs the change touched."""
    repository, file, folder = filled
    file.write_text(changed(change))
    evaluated = _counting_evaluations(monkeypatch)
    try:
        said: list[str] = []
        warm = reports(file, base="HEAD", cache=folder, progress=said.append)
        evaluated_warm = list(evaluated)
        simulated = reports(file, base="HEAD")
    finally:
        file.write_text(DEV)
    assert any("the deployment at HEAD is in the cache" in line for line in said), said
    assert warm == simulated
    report = json.loads(simulated["json"])
    assert report["warnings"] == []
    # The base's access came from the cache: only the head's secrets whose inputs changed were evaluated.
    head_secrets = sorted(secret["name"] for secret in yaml.safe_load(changed(change))["secrets"])
    assert sorted(evaluated_warm) == (head_secrets if change in KEY_POLICY_CHANGES else [])
    cold = evaluated[len(evaluated_warm):]
    assert sorted(cold[:len(head_secrets)]) == head_secrets, "without the cache: all of the head, then the base's changed"
    shows = any(resource["change"] != "same" or resource.get("changed_options") for resource in report["resources"])
    # Both sides of a preview hold the placeholder for every from_config value, so renaming the
    # config key changes no input (as without a cache); every other change shows in the plan.
    assert shows == (change != "from_config name changed")
    if change == "violation introduced":
        assert report["violations"]


@pytest.mark.slow
def test_the_cli_with_a_warm_cache_prints_the_report_without_one_and_adds_only_the_heads_entries(tmp_path):
    """The main case through the real entry point: the push fills the cache, the pull request reads it."""
    repository, file = repository_with(tmp_path, "dev", DEV)
    folder = tmp_path / "ci-cache" / "preview"
    arguments = ("preview", str(file), "--policy-config", str(DEV_CONFIG), "--format", "json")
    filling = run_cli(*arguments, "--cache", str(folder), cwd=repository)
    assert filling.returncode == 0, filling.stderr
    filled_entries = set(folder.iterdir())
    assert {path.name.split(".", 1)[1] for path in filled_entries} == {"simulation.json", "verdicts.json", "access.json"}
    file.write_text(changed("reader account added"))
    warm = run_cli(*arguments, "--base", "HEAD", "--cache", str(folder), cwd=repository)
    cold = run_cli(*arguments, "--base", "HEAD", cwd=repository)
    assert_no_traceback(warm)
    assert (warm.returncode, warm.stdout) == (cold.returncode, cold.stdout)
    # A hit stores the head's deployment, verdicts and access map, nothing for the base (a miss would add it).
    assert len(set(folder.iterdir()) - filled_entries) == 3
    assert not list(folder.glob("*.tmp")), "atomic writes leave no temporary file"


@pytest.mark.slow
def test_without_the_option_nothing_is_written_and_with_it_only_in_the_folder(tmp_path):
    repository, file = repository_with(tmp_path, "dev", DEV)

    def files() -> list[Path]:
        return sorted(path for path in tmp_path.rglob("*") if ".git" not in path.parts)

    before = files()
    json_report(file)
    assert files() == before
    folder = tmp_path / "a" / "b"
    json_report(file, cache=folder)
    assert [path for path in files() if path not in before] == [tmp_path / "a", folder, *sorted(folder.iterdir())]


@pytest.mark.parametrize(("make", "given", "problem"), [
    (lambda place: place.write_text(""), "", "not a folder"),
    (lambda place: os.mkfifo(place), "", "not a folder"),
    (lambda place: place.symlink_to("/dev/zero"), "", "not a folder"),
    (lambda place: place.write_text(""), "/cache", "a part of this path is a file, not a folder"),
    (lambda place: place.write_text(""), "/a/b/cache", "a part of this path is a file, not a folder"),
], ids=["a file", "a FIFO", "a link to /dev/zero", "in a file", "deep in a file"])
def test_a_cache_that_cannot_be_a_folder_is_a_usage_error(tmp_path, make, given, problem):
    """Said before any simulation, with exit 2 - not a warning after a full preview that the cache
    could not be written."""
    repository, file = repository_with(tmp_path, "dev", DEV)
    make(tmp_path / "not-a-folder")
    cache = f"{tmp_path / 'not-a-folder'}{given}"
    result = run_cli("preview", str(file), "--cache", cache, cwd=repository)
    assert result.returncode == 2
    assert f"--cache {cache}: {problem}; give a folder (it is created if missing)" in result.stderr
    assert_no_traceback(result)


# ------------------------------------------------------------------------------------------------
# Bad entries
# ------------------------------------------------------------------------------------------------


def _corrupt(entry: Path) -> None:
    entry.write_text('{"format": 1, "key": "')


def _foreign(entry: Path) -> None:
    entry.write_text(json.dumps({**json.loads(entry.read_text()), "format": 99}))


def _resealed(entry: Path, edit) -> None:
    """An entry edited with its checksum computed again: only the shape checks can tell."""
    data = json.loads(entry.read_text())
    edit(data)
    kind = entry.name.split(".")[1]
    entry.write_bytes(preview_cache.entry_bytes(data["key"], kind, data[preview_cache._BODY[kind]]))


def _wrong_fields(entry: Path) -> None:
    _resealed(entry, lambda data: data["resources"][0].pop("protect"))


def _wrong_type(entry: Path) -> None:
    _resealed(entry, lambda data: data["resources"][-1].update(inputs=5))


def _wrong_tag(entry: Path) -> None:
    _resealed(entry, lambda data: data["resources"][-1]["inputs"].update(
        x={preview_cache._TAG: "secret", "digest": 7}))


def _reader_account_a_number(entry: Path) -> None:
    _resealed(entry, lambda data: data["access"]["places"][0]["rows"][0].__setitem__(0, 444444444444))


def _access_without_inputs(entry: Path) -> None:
    _resealed(entry, lambda data: data["access"].pop("inputs"))


def _access_hand_edited(entry: Path) -> None:
    """A reader's actions taken away, as JSON of the right shape: the checksum tells."""
    data = json.loads(entry.read_text())
    data["access"]["places"][0]["rows"][0][2] = []
    entry.write_text(json.dumps(data, separators=(",", ":")))


def _hand_edited(entry: Path) -> None:
    """Still JSON of the right shape, and a different deployment: a secret's description changed."""
    data = json.loads(entry.read_text())
    described = next(item for item in data["resources"] if isinstance(item["inputs"].get("description"), str))
    described["inputs"]["description"] += " (edited)"
    entry.write_text(json.dumps(data, separators=(",", ":")))


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "damage", "why"), [
    ("simulation", _corrupt, "unreadable (JSONDecodeError)"),
    ("simulation", _foreign, "of format 99, not 2"),
    ("simulation", _hand_edited, "altered since it was written (its sha256 does not match its content)"),
    ("simulation", _wrong_fields, "corrupt (ValueError)"),
    ("simulation", _wrong_type, "corrupt (ValueError)"),
    ("simulation", _wrong_tag, "corrupt (ValueError)"),
    ("verdicts", _corrupt, "unreadable (JSONDecodeError)"),
    ("access", _corrupt, "unreadable (JSONDecodeError)"),
    ("access", _foreign, "of format 99, not 2"),
    ("access", _access_hand_edited, "altered since it was written (its sha256 does not match its content)"),
    ("access", _reader_account_a_number, "corrupt (ValidationError)"),
    ("access", _access_without_inputs, "corrupt (ValidationError)"),
], ids=["corrupt simulation", "foreign version", "hand-edited", "other fields", "a field of another type", "a malformed tag",
        "corrupt verdicts", "corrupt access", "access of a foreign version", "hand-edited access",
        "access with a number for an account", "access without inputs"])
def test_a_bad_entry_is_a_warning_and_the_base_is_simulated(tmp_path, kind, damage, why):
    """...or, for an access map, evaluated again (and stored again)."""
    repository, file = repository_with(tmp_path, "dev", DEV)
    folder = tmp_path / "preview-cache"
    json_report(file, cache=folder)
    base_key = _key(file)
    key = {"simulation": base_key, "verdicts": verdict_key(base_key, DEFAULT_PACK_DIR, DEV_CONFIG),
           "access": access_key(base_key, "111111111111")}[kind]
    entry = folder / f"{key}.{kind}.json"
    assert entry.is_file()
    damage(entry)
    file.write_text(changed("description changed"))
    warned = json.loads(json_report(file, base="HEAD", cache=folder))
    simulated = json.loads(json_report(file, base="HEAD"))
    instead = "evaluated instead" if kind == "access" else "simulated instead"
    assert warned["warnings"] == [f"preview cache: {entry.name} in {folder} is {why}; not used ({instead})"]
    assert {**warned, "warnings": []} == simulated
    if kind == "access":
        again = PreviewCache(folder)
        assert again.load_access(key) is not None and again.warnings == [], "the base's map is stored again"


RESOURCE = preview_cache.RegisteredResource(
    urn="urn:pulumi:dev::secrets-layout::aws:secretsmanager/secret:Secret::s", type="aws:secretsmanager/secret:Secret",
    name="s", custom=True, id=None, parent=None, provider=None, inputs={}, outputs={}, secret_inputs=frozenset(),
    protect=True, ignore_changes=(), import_id=None, depends_on=(), dependencies=(), property_dependencies={},
    additional_secret_outputs=(), replace_on_changes=(), delete_before_replace=None, retain_on_delete=None)


KEY = "b" * 64
ENTRY = f"{KEY}.simulation.json"
# Loads the entry in a child with 1 GB of address space: an unbounded read fails there, not here.
LOADER = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from secrets_layout.engine.cache import PreviewCache
cache = PreviewCache(sys.argv[1])
print(repr((cache.load_simulation(sys.argv[2]), cache.warnings)))
"""


def _deeply_nested(entry: Path) -> None:
    entry.write_text('{"format":2,"key":"' + KEY + '","sha256":"x","resources":' + "[" * 100_000 + "]" * 100_000 + "}")


def _resealed_deep_inputs(entry: Path) -> None:
    """A checksum that matches (as a forger would make it) over inputs that JSON reads and that are
    nested past what decoding them can recurse."""
    nested = '{"a":' * 950 + "1" + "}" * 950
    body = "[" + json.dumps(preview_cache.resource_to_json(RESOURCE), separators=(",", ":")).replace(
        '"inputs":{}', '"inputs":' + nested) + "]"
    entry.write_text('{"format":2,"key":"' + KEY + '","sha256":"' + preview_cache._sha256(body.encode()) + '","resources":'
                     + body + "}")


@pytest.mark.parametrize(("make", "why"), [
    (lambda entry: entry.symlink_to("/dev/zero"), "unreadable (a character device, not a regular file)"),
    (lambda entry: os.mkfifo(entry), "unreadable (a FIFO (named pipe), not a regular file)"),
    (lambda entry: entry.mkdir(), "unreadable (a folder, not a regular file)"),
    (lambda entry: entry.symlink_to(entry), "unreadable (a loop of symbolic links)"),
    (lambda entry: entry.write_bytes(b'{"format":"\xff\xfe"}'), "unreadable (UnicodeDecodeError)"),
    (lambda entry: entry.write_bytes(b""), "unreadable (JSONDecodeError)"),
    (_deeply_nested, "unreadable (RecursionError)"),
    (_resealed_deep_inputs, "corrupt (RecursionError)"),
], ids=["link to /dev/zero", "FIFO", "folder", "link loop", "binary", "empty", "nested 100,000 deep",
        "resealed inputs nested 950 deep"])
def test_an_entry_that_is_not_a_file_of_ours_is_a_warning_in_bounded_time_and_memory(tmp_path, make, why):
    """Read like a declaration (files.read_bytes): never opened if not a regular file (a FIFO blocks
    open(), /dev/zero never ends), bounded, and nesting past the recursion limit is no traceback."""
    make(tmp_path / ENTRY)
    loaded = subprocess.run([sys.executable, "-c", LOADER, str(tmp_path), KEY], capture_output=True, text=True,
                            timeout=30, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert loaded.stderr == ""
    assert loaded.stdout.strip() == repr((None, [f"preview cache: {ENTRY} in {tmp_path} is {why}; not used (simulated instead)"]))


def test_an_entry_past_the_bound_is_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(preview_cache, "MAX_ENTRY_BYTES", 100)
    (tmp_path / ENTRY).write_text('{"format":2,"key":"' + KEY + '","sha256":"x","resources":[' + "1," * 60 + "1]}")
    cache = PreviewCache(tmp_path)
    assert cache.load_simulation(KEY) is None
    assert cache.warnings == [f"preview cache: {ENTRY} in {tmp_path} is larger than 0 MiB; not used (simulated instead)"]


# ------------------------------------------------------------------------------------------------
# Stale temporaries
# ------------------------------------------------------------------------------------------------

STALE = preview_cache.STALE_TEMPORARY_SECONDS
TEMPORARY = f".{KEY[:16]}.abc_1234.tmp"
"""A name of the shape `_write`'s mkstemp gives: "." + the key's first 16 digits + "." + CPython's 8
random characters (Lib/tempfile.py, _RandomNameSequence: a-z, 0-9 and _) + ".tmp"."""
# Killed between mkstemp and os.replace, as by SIGKILL (no except clause runs): the temporary stays.
KILLED_WRITER = """
import os, signal, sys
from secrets_layout.engine import cache
os.replace = lambda *arguments: os.kill(os.getpid(), signal.SIGKILL)
cache.PreviewCache(sys.argv[1]).store_simulation(sys.argv[2], [])
"""


def _aged(path: Path, seconds: float) -> Path:
    """`path` (not what it links to) last modified `seconds` ago."""
    when = time.time() - seconds
    os.utime(path, (when, when), follow_symlinks=False)
    return path


def _write(path: Path) -> Path:
    path.write_text("{}")
    return path


def _folder_of_the_shape(path: Path) -> Path:
    path.mkdir()
    return path


def _link_to_an_old_file(path: Path) -> Path:
    target = _aged(_write(path.parent / "elsewhere.json"), 2 * STALE)
    path.symlink_to(target)
    return path


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


@pytest.mark.parametrize(("name", "make", "age", "removed"), [
    (TEMPORARY, _write, 2 * STALE, True),
    (TEMPORARY, _write, STALE + 60, True),
    (TEMPORARY, _write, STALE - 60, False),
    (TEMPORARY, _write, 0, False),
    (f"{KEY}.simulation.json", _write, 2 * STALE, False),
    (f".{KEY[:15]}.abc_1234.tmp", _write, 2 * STALE, False),
    (f".{KEY[:16]}.abc_123.tmp", _write, 2 * STALE, False),
    (f".{KEY[:16]}.ABC_1234.tmp", _write, 2 * STALE, False),
    (f"{KEY[:16]}.abc_1234.tmp", _write, 2 * STALE, False),
    (f"{TEMPORARY}~", _write, 2 * STALE, False),
    (f".{'g' * 16}.abc_1234.tmp", _write, 2 * STALE, False),
    (TEMPORARY, _folder_of_the_shape, 2 * STALE, False),
    (TEMPORARY, _link_to_an_old_file, 2 * STALE, False),
    (TEMPORARY, _fifo, 2 * STALE, False),
], ids=["stale", "just past the bound", "just within the bound", "being written", "an entry", "15 digits",
        "7 random characters", "upper case", "no leading dot", "an editor's backup", "not hex", "a folder",
        "a symbolic link", "a FIFO"])
def test_only_a_stale_temporary_of_the_cache_is_removed(tmp_path, name, make, age, removed):
    """Only what `_write` leaves when killed: its exact name shape, a regular file (never followed
    through a link: the link's target is never touched), older than the bound by mtime."""
    path = _aged(make(tmp_path / name), age)
    PreviewCache(tmp_path).remove_stale_temporaries()
    assert os.path.lexists(path) is not removed
    if make is _link_to_an_old_file:
        assert (tmp_path / "elsewhere.json").is_file()


def test_what_a_killed_preview_leaves_is_removed_by_the_next_write(tmp_path):
    """End to end: the temporary a SIGKILL leaves (the real mkstemp name) is removed once stale,
    by the next preview's write, which leaves an entry and no temporary of its own."""
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(tmp_path), KEY], capture_output=True, timeout=60,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert killed.returncode == -signal.SIGKILL
    [left] = list(tmp_path.iterdir())
    assert left.name.startswith(f".{KEY[:16]}.") and left.name.endswith(".tmp")
    cache = PreviewCache(tmp_path)
    cache.store_simulation("c" * 64, [])
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([left.name, f"{'c' * 64}.simulation.json"])
    _aged(left, 2 * STALE)
    cache.store_simulation("c" * 64, [])
    assert [path.name for path in tmp_path.iterdir()] == [f"{'c' * 64}.simulation.json"]
    assert cache.warnings == []


def _vanishing_before_stat(real_scandir):
    """os.scandir whose entries are removed after the listing, before anything asks their mtime."""
    @contextlib.contextmanager
    def scandir(folder):
        with real_scandir(folder) as entries:
            listed = list(entries)
        for entry in listed:
            os.unlink(entry.path)
        yield iter(listed)
    return scandir


def _vanishing_before_unlink(real_unlink):
    def unlink(path, *arguments, **options):
        real_unlink(path)  # a concurrent preview's cleanup got there first
        real_unlink(path, *arguments, **options)
    return unlink


def _unreadable_folder(real_scandir):
    def scandir(folder):
        raise PermissionError(errno.EACCES, "Permission denied", str(folder))
    return scandir


def _read_only_folder(real_unlink):
    def unlink(path, *arguments, **options):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))
    return unlink


@pytest.mark.parametrize(("function", "failing", "left"), [
    ("scandir", _vanishing_before_stat, False),
    ("unlink", _vanishing_before_unlink, False),
    ("scandir", _unreadable_folder, True),
    ("unlink", _read_only_folder, True),
], ids=["vanished before its mtime was read", "vanished before it was removed", "an unreadable folder",
        "a folder that cannot be written"])
def test_a_temporary_that_cannot_be_removed_is_no_error(tmp_path, monkeypatch, function, failing, left):
    """Two previews sharing a folder may clean it at once; a folder may refuse. The refusals are
    stood in for (these tests may run as root, whom permissions do not stop) by the errors the
    system calls raise; the cleanup returns without one either way."""
    temporary = _aged(_write(tmp_path / TEMPORARY), 2 * STALE)
    cache = PreviewCache(tmp_path)
    monkeypatch.setattr(preview_cache.os, function, failing(getattr(os, function)))
    assert cache.remove_stale_temporaries() is None
    monkeypatch.undo()
    assert temporary.exists() is left
    assert cache.warnings == []


@pytest.mark.parametrize("make", [lambda path: None, _write], ids=["missing", "a file"])
def test_a_cache_folder_that_is_not_one_has_nothing_to_clean(tmp_path, make):
    make(tmp_path / "cache")
    PreviewCache(tmp_path / "cache").remove_stale_temporaries()
    assert [path.name for path in tmp_path.iterdir()] == ([] if make is not _write else ["cache"])


# ------------------------------------------------------------------------------------------------
# Keys
# ------------------------------------------------------------------------------------------------


def _key(declaration: Path, program: Path = PACKAGED_PROGRAM) -> str:
    return simulation_key(declaration, simulation_arguments(load_declaration(str(declaration)), program=program),
                          PACKAGED_PROGRAM)


def test_the_key_is_the_content_not_the_path(tmp_path):
    """The base is simulated from a temporary copy: the same bytes elsewhere must give the same key."""
    copy = tmp_path / "elsewhere" / "dev.yaml"
    copy.parent.mkdir()
    shutil.copy(ROOT / "environments" / "dev.yaml", copy)
    assert _key(copy) == _key(ROOT / "environments" / "dev.yaml")


def test_a_changed_declaration_misses(tmp_path):
    file = tmp_path / "dev.yaml"
    file.write_text(DEV)
    before = _key(file)
    file.write_text(changed("description changed"))
    assert _key(file) != before


def test_a_changed_program_or_a_module_beside_it_misses_and_a_dot_folder_does_not(tmp_path):
    file = tmp_path / "dev.yaml"
    file.write_text(DEV)
    project = tmp_path / "project"
    (project / ".venv").mkdir(parents=True)
    program = project / "__main__.py"
    program.write_text("import helpers\n")
    (project / "helpers.py").write_text("VALUE = 1\n")
    (project / ".venv" / "ignored.py").write_text("")
    first = _key(file, program)
    (project / ".venv" / "ignored.py").write_text("changed = True\n")
    assert _key(file, program) == first
    (project / "helpers.py").write_text("VALUE = 2\n")
    second = _key(file, program)
    assert second != first
    program.write_text("import helpers  # changed\n")
    assert _key(file, program) != second


def test_the_key_covers_every_folder_of_the_package():
    assert preview_cache.package_folders() == [(ROOT / name).resolve() for name in
                                               ("secrets_layout", "components", "policies", "rotation")]


def test_a_changed_package_source_file_misses(tmp_path, monkeypatch):
    copy = tmp_path / "components"
    shutil.copytree(ROOT / "components", copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(preview_cache, "package_folders", lambda: [copy])
    file = tmp_path / "dev.yaml"
    file.write_text(DEV)
    before = _key(file)
    (copy / "layout.py").write_text((copy / "layout.py").read_text() + "\n# changed\n")
    assert _key(file) != before


@pytest.mark.parametrize("distribution", ["pulumi", "pulumi-aws", "pulumi-random", "pulumi-policy", "protobuf",
                                          "pydantic", "PyYAML"])
def test_another_version_of_what_the_program_runs_on_misses(tmp_path, monkeypatch, distribution):
    """The program loads the declaration itself (secrets_layout/program.py: load_declaration), so
    PyYAML (the parser) and pydantic (validation and every default) decide its resources as much as
    the SDK and the providers do: another version of any of them may declare others from the same bytes."""
    file = tmp_path / "dev.yaml"
    file.write_text(DEV)
    before = _key(file)
    installed = preview_cache.metadata.version
    monkeypatch.setattr(preview_cache.metadata, "version",
                        lambda name: "0.0.0-other" if name == distribution else installed(name))
    assert _key(file) != before


def test_another_python_misses(tmp_path, monkeypatch):
    file = tmp_path / "dev.yaml"
    file.write_text(DEV)
    before = _key(file)
    monkeypatch.setattr(preview_cache.sys, "version", "3.99.0 (other)")
    assert _key(file) != before


def test_a_changed_pack_or_policy_config_misses_the_verdicts(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(DEFAULT_PACK_DIR, pack, ignore=shutil.ignore_patterns("__pycache__"))
    config = tmp_path / "dev.json"
    config.write_bytes(DEV_CONFIG.read_bytes())
    first = verdict_key("0" * 64, pack, config)
    assert verdict_key("1" * 64, pack, config) != first
    config.write_text(config.read_text().replace("}", ' }', 1))
    second = verdict_key("0" * 64, pack, config)
    assert second != first
    check = pack / "checks" / "rotation.py"   # a check in a subfolder of the pack counts too
    check.write_text(check.read_text() + "\n# changed\n")
    assert verdict_key("0" * 64, pack, config) != second


# ------------------------------------------------------------------------------------------------
# What is stored
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dev_runs():
    loaded = load_declaration(str(ROOT / "environments" / "dev.yaml"))
    return evaluate_declaration(loaded, "preview"), evaluate_declaration(loaded)


def _revealed(value, found: set[str]) -> None:
    if isinstance(value, SecretValue):
        inner = value.reveal()
        if inner != "":  # an empty secret (an SSM parameter's unset `value`, zero in the fake cloud) hides nothing
            found.add(json.dumps(inner) if not isinstance(inner, str) else inner)
        _revealed(inner, found)
    elif isinstance(value, dict):
        for item in value.values():
            _revealed(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            _revealed(item, found)
    elif isinstance(value, str) and len(value) >= 8:
        found.add(value)


def _secret_values(simulation) -> set[str]:
    hidden: set[str] = set()
    for resource in simulation.resources:
        for value in [*resource.inputs.values(), *resource.outputs.values()]:
            if isinstance(value, SecretValue):
                _revealed(value, hidden)
    return hidden


@pytest.mark.slow
def test_no_secret_value_and_no_placeholder_reaches_the_cache(tmp_path, dev_runs):
    dry_run, deployment = dev_runs
    hidden = _secret_values(deployment) | _secret_values(dry_run) | {CONFIG_PLACEHOLDER}
    assert len(hidden) > 3, "the simulation must hold generated and configured secret values"
    repository, file = repository_with(tmp_path, "dev", DEV)
    folder = tmp_path / "preview-cache"
    json_report(file, cache=folder)
    files = list(folder.iterdir())
    assert sorted(path.name.split(".", 1)[1] for path in files) == ["access.json", "simulation.json", "verdicts.json"]
    for path in files:
        text = path.read_text()
        for value in hidden:
            assert value not in text and json.dumps(value)[1:-1] not in text, f"a secret value is in {path.name}"


def test_a_stored_deployment_is_its_own_base_with_nothing_changed(dev_runs):
    """The round trip through JSON keeps everything `plan_changes` reads: the revision against its
    stored self is `same` everywhere, with no changed option, and prints the same inputs."""
    _, deployment = dev_runs
    resources = comparable_resources(deployment.resources)
    restored = [resource_from_json(json.loads(json.dumps(resource_to_json(resource)))) for resource in resources]
    planned = plan_changes(resources, restored, TODAY)
    assert {change.change for change in planned} == {"same"}
    assert not any(change.changed_options for change in planned)
    assert [plain(resource.inputs) for resource in restored] == [plain(resource.inputs) for resource in
                                                                 deployment.resources]
    assert any(isinstance(value, HashedAsset) or hasattr(value, "sha256")
               for resource in restored for value in resource.inputs.values()), "the rotation code is an asset"


def test_a_stored_access_map_reads_back_equal(dev_runs):
    """Every field `review_access` and a later `who_can_read(..., known=)` read, in the map's order: rows
    with conditions they depend on, the accounts, the organization, the problems, the inputs' digests."""
    _, deployment = dev_runs
    found = access.who_can_read(comparable_resources(deployment.resources), "111111111111")
    found.problems.append("dev/other: a policy is not a readable document (...); its access is not shown")
    found.organization = "o-a1b2c3d4e5"
    [place, *_] = found.places
    found.rows[place] = [*found.rows[place], access.Access(*place, access.Reader("an account outside o-a1b2c3d4e5",
                                                                                 access.ANY_PRINCIPAL),
                                                           ("DescribeSecret",), ("aws:SourceVpce",))]
    with tempfile.TemporaryDirectory() as folder:
        PreviewCache(folder).store_access(KEY, found)
        cache = PreviewCache(folder)
        restored = cache.load_access(KEY)
    assert cache.warnings == []
    assert restored == found
    assert list(restored.rows) == list(found.rows) and len(found.rows) == 3


@pytest.mark.slow
@pytest.mark.parametrize(("cache", "evaluated"), [(False, []), (True, ["dev/database/credentials",
                          "dev/payments/stripe-api-key", "dev/tools/feature-flag-sdk-key"])], ids=["no cache", "--cache"])
def test_a_preview_without_a_base_evaluates_access_only_to_fill_the_cache(tmp_path, monkeypatch, cache, evaluated):
    """The full preview shows no access review: it pays for the access map only when it stores it."""
    repository, file = repository_with(tmp_path, "dev", DEV)
    counted = _counting_evaluations(monkeypatch)
    json_report(file, cache=tmp_path / "preview-cache" if cache else None)
    assert counted == evaluated


def test_a_changed_secret_value_still_differs_after_the_digest(dev_runs):
    _, deployment = dev_runs
    version = next(resource for resource in deployment.resources if isinstance(resource.inputs.get("secretString"),
                                                                              SecretValue))
    other = dataclasses.replace(version, inputs={**version.inputs, "secretString": SecretValue("another value")})
    [before], [after] = comparable_resources([version]), comparable_resources([other])
    assert not same(before.inputs["secretString"], after.inputs["secretString"])
    assert same(before.inputs["secretString"], comparable_resources([version])[0].inputs["secretString"])


JSON_SCALARS = st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.floats(allow_nan=False) | st.text()
VALUES = st.recursive(JSON_SCALARS, lambda children: st.lists(children, max_size=4) | st.dictionaries(
    st.sampled_from(["a", "secretString", preview_cache._TAG, "\u0000", "sha256"]) | st.text(max_size=5),
    children, max_size=4) | st.builds(SecretValue, children), max_leaves=12)


@given(VALUES)
def test_encoding_round_trips_any_input_value(value):
    """Property: decode(encode(comparable(v))) compares as comparable(v), whatever keys the data uses
    (including the cache's own tag)."""
    stored = preview_cache.comparable(value)
    restored = preview_cache._decode(json.loads(json.dumps(preview_cache._encode(stored))))
    assert same(restored, stored)
    assert plain(restored) == plain(stored)


@given(VALUES)
def test_a_stored_entry_reads_back_intact_whatever_its_inputs(value):
    """Property: the checksum is computed again from the parsed body, so loads then dumps must give
    the written text back for any inputs (floats, escapes, the cache's own tag): never a false alarm."""
    resource = comparable_resources([dataclasses.replace(RESOURCE, inputs={"value": value})])
    with tempfile.TemporaryDirectory() as folder:
        PreviewCache(folder).store_simulation(KEY, resource)
        cache = PreviewCache(folder)
        [restored] = cache.load_simulation(KEY)
    assert cache.warnings == []
    assert plain(restored.inputs) == plain(resource[0].inputs)


# ------------------------------------------------------------------------------------------------
# The pack's verdict memo
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def violating_runs():
    """The dev layout with a rotation the dev config refuses: a run that carries violations."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "dev.yaml"
        file.write_text(changed("violation introduced"))
        loaded = load_declaration(str(file))
        return evaluate_declaration(loaded, "preview"), evaluate_declaration(loaded)


@pytest.mark.slow
def test_the_pack_answers_a_request_the_same_whatever_came_before(violating_runs):
    """Why a memo is sound: the pack keeps nothing between calls. Each request, sent in two different
    orders to the same configured pack, gets the same answer."""
    requests = [resource for run in violating_runs for resource in analyzer_resources(run)[0]]
    shuffled = random.Random(14).sample(requests, len(requests))
    with AnalyzerClient(DEFAULT_PACK_DIR) as pack:
        pack.configure(config_file=DEV_CONFIG)
        in_order = [pack.analyze(resource).violations for resource in requests]
        answers = {id(resource): pack.analyze(resource).violations for resource in shuffled}
    assert any(in_order)
    assert [answers[id(resource)] for resource in requests] == in_order


@pytest.mark.slow
def test_the_memo_gives_the_violations_of_asking_every_request(violating_runs):
    with AnalyzerClient(DEFAULT_PACK_DIR) as pack:
        pack.configure(config_file=DEV_CONFIG)
        asked = [pack.analyze_many(analyzer_resources(run)[0]).violations for run in violating_runs]
        memo = VerdictMemo()
        memoised = [pack.analyze_many(analyzer_resources(run)[0], memo).violations for run in violating_runs]
        judged = pack.judged_types
    assert memoised == asked
    assert any(asked)
    # Every request the preview asks (one about a resource no policy judges is not asked: test_pack_judged_types.py)
    total = sum(resource.type in judged for run in violating_runs for resource in run.resources)
    assert memo.sent + memo.reused == total
    assert memo.reused > 0, "the deployment repeats some of the dry run's requests"


@pytest.mark.slow
def test_stored_verdicts_answer_without_a_call(tmp_path, violating_runs):
    """Verdicts written to the cache and read back answer a second check with no Analyze sent."""
    with AnalyzerClient(DEFAULT_PACK_DIR) as pack:
        pack.configure(config_file=DEV_CONFIG)
        first = VerdictMemo()
        asked = [pack.analyze_many(analyzer_resources(run)[0], first).violations for run in violating_runs]
        stored = PreviewCache(tmp_path)
        stored.store_verdicts("a" * 64, first.used)
        second = VerdictMemo(PreviewCache(tmp_path).load_verdicts("a" * 64))
        again = [pack.analyze_many(analyzer_resources(run)[0], second).violations for run in violating_runs]
    assert again == asked
    assert second.sent == 0


# ------------------------------------------------------------------------------------------------
# The workflow: the default branch fills the cache, pull requests restore it
# ------------------------------------------------------------------------------------------------

WORKFLOW = ROOT / ".github" / "workflows" / "secrets-preview.yml"


def _workflow() -> dict:

    document = yaml.safe_load(WORKFLOW.read_text())
    document["on"] = document.pop(True)  # YAML 1.1 reads the key `on` as the boolean true
    return document


def _step(job: dict, *, uses: str = "", name: str = "") -> dict:
    [found] = [step for step in job["steps"] if (uses and step.get("uses", "").split("@")[0] == uses)
               or (name and step.get("name", "").startswith(name))]
    return found


def test_the_default_branch_saves_the_cache_and_pull_requests_only_restore_it():
    workflow = _workflow()
    assert workflow["on"]["push"] == {"branches": ["main"], "paths": workflow["on"]["pull_request"]["paths"]}
    fill = workflow["jobs"]["fill-cache"]
    assert fill["if"] == "github.event_name == 'push' && github.ref_name == github.event.repository.default_branch"
    assert "--cache .preview-cache" in _step(fill, name="Preview every environment")["run"]
    save = _step(fill, uses="actions/cache/save")
    assert save["with"] == {"path": ".preview-cache", "key": "secrets-preview-${{ runner.os }}-${{ github.sha }}"}
    assert workflow["jobs"]["changes"]["if"] == "github.event_name == 'pull_request'"
    preview = workflow["jobs"]["preview"]
    restore = _step(preview, uses="actions/cache/restore")
    assert restore["with"] == {"path": ".preview-cache",
                               "key": "secrets-preview-${{ runner.os }}-${{ github.event.pull_request.base.sha }}",
                               "restore-keys": "secrets-preview-${{ runner.os }}-"}
    steps = preview["steps"]
    run = _step(preview, name="Preview environments/")
    assert steps.index(restore) < steps.index(run)
    assert '--base "$BASE" --cache .preview-cache' in run["run"]
    assert not [step for job in workflow["jobs"].values() for step in job["steps"]
                if step.get("uses", "").split("@")[0] in ("actions/cache", "actions/cache/save") and job is not fill]


@pytest.mark.slow
def test_the_fill_step_fills_what_the_pull_request_step_reads(tmp_path):
    """The two `run:` blocks as the workflow has them: the push previews every environment into the
    cache; the pull request's preview of a change then finds its base there (only the head's three
    entries are added)."""
    import os
    import subprocess

    from test_workflows import _tool

    repository, file = repository_with(tmp_path, "dev", DEV)
    (repository / ".venv" / "bin").mkdir(parents=True)
    (repository / ".venv" / "bin" / "secrets-layout").symlink_to(_tool("secrets-layout", "install the package"))
    workflow = _workflow()
    fill = _step(workflow["jobs"]["fill-cache"], name="Preview every environment")["run"]
    subprocess.run(["bash", "-e", "-c", fill], cwd=repository, check=True, capture_output=True, text=True, timeout=600)
    filled = set((repository / ".preview-cache").iterdir())
    assert len(filled) == 3
    git(repository, "checkout", "--quiet", "-b", "change")
    file.write_text(changed("secret added"))
    git(repository, "commit", "--quiet", "-am", "a secret")
    step = _step(workflow["jobs"]["preview"], name="Preview environments/")["run"]
    result = subprocess.run(["bash", "-e", "-c", step], cwd=repository, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "ENVIRONMENT": "dev", "BASE": "main",
                                 "GITHUB_OUTPUT": str(tmp_path / "output"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "output").read_text() == "exit-code=0\n"
    assert len(set((repository / ".preview-cache").iterdir()) - filled) == 3


def test_a_declaration_edited_during_the_preview_is_not_stored(tmp_path, monkeypatch):
    """The simulations read the declaration's files while they run: an edit meanwhile would store
    one content's deployment under another content's key. The key is taken before the simulations
    start and again before storing; when they differ nothing is stored, with a warning."""
    from secrets_layout import preview

    repository, file = repository_with(tmp_path, "dev", DEV)
    folder = tmp_path / "preview-cache"
    keys = iter(["1" * 64, "2" * 64])
    monkeypatch.setattr(preview, "simulation_key", lambda *arguments: next(keys))
    report = json.loads(json_report(file, cache=folder))
    assert report["warnings"] == [f"preview cache: {file} changed while it was previewed; nothing stored "
                                  "(the next preview simulates it again)"]
    assert not folder.exists() or list(folder.iterdir()) == []
