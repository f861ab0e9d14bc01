"""An environment as a folder (environments/<env>/): _environment.yaml holds the settings, every other
*.yaml file one team's secrets and parameters. Merged as one declaration; every location per file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from declaration_support import HEADER
from secrets_layout.declaration.folder import SETTINGS_FILE, default_declaration
from secrets_layout.declaration.loader import load_declaration
from secrets_layout.declaration.yaml_source import MAX_FILE_BYTES
from secrets_layout.errors import DeclarationError

SETTINGS = HEADER + "defaults:\n  tags: {owner: platform}\n"
"""Seven lines."""


def secret(name: str) -> str:
    """Two lines: the item's `- name:` line, then its value."""
    return f"  - name: {name}\n    value: {{from_config: {name.rsplit('/', 1)[-1].replace('-', '')}}}\n"


def write_folder(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def issues_of(folder: Path) -> list[str]:
    with pytest.raises(DeclarationError) as raised:
        load_declaration(folder)
    return [issue.as_text() for issue in raised.value.issues]


team_names = st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True), min_size=1, max_size=5, unique=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(teams=team_names, counts=st.lists(st.integers(0, 3), min_size=5, max_size=5),
       in_settings=st.integers(0, 2), creation_order=st.randoms(use_true_random=False))
def test_items_merge_settings_first_then_files_by_name_each_located_in_its_file(tmp_path_factory, teams, counts,
                                                                                 in_settings, creation_order):
    """Whatever the order the files were created in (the order the folder lists them), the merged
    order is the settings file's items, then each team file's in code-point order of the names."""
    folder = tmp_path_factory.mktemp("env") / "prod"
    files = {SETTINGS_FILE: SETTINGS + "secrets:\n" + "".join(secret(f"prod/platform/s{i}") for i in range(in_settings))}
    expected = [(f"prod/platform/s{i}", SETTINGS_FILE, 9 + 2 * i) for i in range(in_settings)]
    for team, count in sorted(zip(teams, counts)):
        files[f"{team}.yaml"] = "secrets:\n" + "".join(secret(f"prod/{team}/s{i}") for i in range(count))
        expected += [(f"prod/{team}/s{i}", f"{team}.yaml", 2 + 2 * i) for i in range(count)]
    names = list(files)
    creation_order.shuffle(names)
    write_folder(folder, {name: files[name] for name in names})

    loaded = load_declaration(folder)

    found = []
    for item in loaded.declaration.secrets:
        position = loaded.secret_position(item.name)
        found.append((item.name, os.path.basename(position.file), position.line))
    assert found == expected
    assert all(item.tags == {"owner": "platform"} for item in loaded.declaration.secrets)


def test_the_declaration_path_is_the_folder_and_the_file_its_settings(tmp_path):
    folder = write_folder(tmp_path / "prod", {SETTINGS_FILE: SETTINGS, "app.yaml": "secrets:\n" + secret("prod/app/key")})
    loaded = load_declaration(folder)
    assert (loaded.declaration_path, loaded.file) == (str(folder), str(folder / SETTINGS_FILE))


@pytest.mark.parametrize(("files", "expected"), [
    pytest.param({"a.yaml": "secrets:\n" + secret("prod/app/key"), "b.yaml": "secrets:\n" + secret("prod/app/key")}, [
        "{f}/a.yaml:2:11: secrets[0].name: duplicate secret name 'prod/app/key' (also secrets[0] at {f}/b.yaml:2:5); "
        "every secret needs its own name: rename or remove one",
        "{f}/b.yaml:2:11: secrets[0].name: duplicate secret name 'prod/app/key' (also secrets[0] at {f}/a.yaml:2:5); "
        "every secret needs its own name: rename or remove one",
    ], id="secret-in-two-team-files"),
    pytest.param({SETTINGS_FILE: SETTINGS + "secrets:\n" + secret("prod/app/key"),
                  "b.yaml": "secrets:\n" + secret("prod/other/x") + secret("prod/app/key")}, [
        f"{{f}}/{SETTINGS_FILE}:9:11: secrets[0].name: duplicate secret name 'prod/app/key' (also secrets[1] at "
        "{f}/b.yaml:4:5); every secret needs its own name: rename or remove one",
        "{f}/b.yaml:4:11: secrets[1].name: duplicate secret name 'prod/app/key' (also secrets[0] at "
        f"{{f}}/{SETTINGS_FILE}:9:5); every secret needs its own name: rename or remove one",
    ], id="settings-and-team-file"),
    pytest.param({"b.yaml": "secrets:\n" + secret("prod/app/key") + secret("prod/app/key")}, [
        "{f}/b.yaml:4:11: secrets[1].name: duplicate secret name 'prod/app/key' (also secrets[0] at {f}/b.yaml:2:5); "
        "every secret needs its own name: rename or remove one",
    ], id="twice-in-one-file-is-reported-once"),
    pytest.param({"a.yaml": "parameters:\n  - {name: /prod/app/url, value: x}\n",
                  "b.yaml": "parameters:\n  - {name: /prod/app/url, value: y}\n"}, [
        "{f}/a.yaml:2:12: parameters[0].name: duplicate parameter name (also parameters[0] at {f}/b.yaml:2:5); remove one",
        "{f}/b.yaml:2:12: parameters[0].name: duplicate parameter name (also parameters[0] at {f}/a.yaml:2:5); remove one",
    ], id="parameter-in-two-team-files"),
])
def test_a_duplicate_name_across_files_is_reported_in_both_files(tmp_path, files, expected):
    folder = write_folder(tmp_path / "prod", {SETTINGS_FILE: SETTINGS, **files})
    assert issues_of(folder) == [line.format(f=folder) for line in expected]


@pytest.mark.parametrize(("team_file", "expected"), [
    pytest.param("defaults:\n  protect: true\nsecrets: []\n",
                 "{f}/t.yaml:1:1: defaults: a team file holds secrets: and parameters: only; defaults: apply to every "
                 "secret of the environment and are written once, in _environment.yaml: move them there", id="defaults"),
    pytest.param("secrets: []\nprimary_region: eu-west-1\n",
                 "{f}/t.yaml:2:1: primary_region: a team file holds secrets: and parameters: only; this is a setting "
                 "of the environment: write it in _environment.yaml", id="a-setting"),
    pytest.param("secrets:\n  name: prod/app/key\n",
                 "{f}/t.yaml:2:3: secrets: secrets: is a list (one '- name: ...' item each); write the items as a list",
                 id="secrets-not-a-list"),
    pytest.param("- name: prod/app/key\n",
                 "{f}/t.yaml:1:1: (document): a team file is a mapping with secrets: and parameters:; "
                 "see environments/team-file.schema.json", id="a-list"),
    pytest.param("secrets:\n  - name: prod/app/key\n    value: {from_config: k}\n    frobnicate: 1\n",
                 "{f}/t.yaml:4:5: secrets[0].frobnicate: unknown field 'frobnicate'", id="model-error-at-local-path"),
    pytest.param("secrets: [\n", "{f}/t.yaml:", id="yaml-syntax-error"),
])
def test_a_team_file_problem_is_located_in_the_team_file(tmp_path, team_file, expected):
    folder = write_folder(tmp_path / "prod", {SETTINGS_FILE: SETTINGS, "a.yaml": "secrets:\n" + secret("prod/a/b"),
                                              "t.yaml": team_file})
    issues = issues_of(folder)
    assert len(issues) == 1
    assert issues[0].startswith(expected.format(f=folder))


def test_an_empty_team_file_declares_nothing(tmp_path):
    folder = write_folder(tmp_path / "prod", {SETTINGS_FILE: SETTINGS, "new-team.yaml": "# soon\n",
                                              "app.yaml": "secrets:\n" + secret("prod/app/key")})
    assert [item.name for item in load_declaration(folder).declaration.secrets] == ["prod/app/key"]


def test_a_folder_without_settings_file_names_the_file_to_create(tmp_path):
    folder = write_folder(tmp_path / "prod", {"app.yaml": "secrets:\n" + secret("prod/app/key")})
    assert issues_of(folder) == [
        f"{folder}/_environment.yaml:1:1: (document): an environment folder needs _environment.yaml with the "
        "environment's settings (environment:, security_account:, primary_region:, ...); create it"]


def test_an_inherited_default_is_located_at_the_settings_file_line_that_wrote_it(tmp_path):
    """A bad value under defaults: is reported once, at the settings file's defaults line."""
    folder = write_folder(tmp_path / "prod", {SETTINGS_FILE: HEADER + "defaults:\n  recovery_window_days: 3\n",
                                              "app.yaml": "secrets:\n" + secret("prod/app/key"),
                                              "b.yaml": "secrets:\n" + secret("prod/b/key")})
    issues = issues_of(folder)
    assert len(issues) == 1 and issues[0].startswith(f"{folder}/{SETTINGS_FILE}:7:25: defaults.recovery_window_days: ")


@pytest.mark.parametrize(("sizes", "valid"), [
    pytest.param((MAX_FILE_BYTES - 1000, MAX_FILE_BYTES - 1000), True, id="two-files-over-1-mib-together"),
    pytest.param((100, MAX_FILE_BYTES + 1), False, id="one-file-over-1-mib"),
])
def test_the_size_bound_applies_per_file(tmp_path, sizes, valid):
    files = {SETTINGS_FILE: SETTINGS}
    for index, size in enumerate(sizes):
        body = "secrets:\n" + secret(f"prod/t{index}/key")
        files[f"t{index}.yaml"] = body + "#" * (size - len(body) - 1) + "\n"
    folder = write_folder(tmp_path / "prod", files)
    if valid:
        assert len(load_declaration(folder).declaration.secrets) == 2
    else:
        assert issues_of(folder) == [f"{folder}/t1.yaml:1:1: (document): file is larger than 1024 KiB; split it: an "
                                     "environment may be a folder with _environment.yaml and a file of secrets per team"]


def test_only_regular_yaml_files_count_and_the_others_are_never_opened(tmp_path):
    """A FIFO is an issue of the declaration (not opened: that would block; not silently left out:
    deploying without it would delete its team's secrets). Dot-files and other suffixes are not read."""
    folder = write_folder(tmp_path / "prod", {SETTINGS_FILE: SETTINGS, "app.yaml": "secrets:\n" + secret("prod/app/key"),
                                              ".app.yaml.swp.yaml": "not: [yaml", "notes.md": "# x"})
    os.mkfifo(folder / "pipe.yaml")
    assert issues_of(folder) == [f"{folder}/pipe.yaml:1:1: (document): a FIFO (named pipe), not a regular file; an "
                                 "environment folder holds regular files only: replace it with the team's file, or remove it"]
    (folder / "pipe.yaml").unlink()
    assert [item.name for item in load_declaration(folder).declaration.secrets] == ["prod/app/key"]


@pytest.mark.parametrize(("present", "expected"), [
    pytest.param(("prod.yaml",), "environments/prod.yaml", id="file"),
    pytest.param(("prod/",), "environments/prod", id="folder"),
    pytest.param(("prod.yaml", "prod/"), "environments/prod.yaml", id="both-the-file-wins"),
    pytest.param((), "environments/prod.yaml", id="neither-names-the-file"),
])
def test_the_default_declaration_of_a_stack(tmp_path, present, expected):
    for name in present:
        target = tmp_path / "environments" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.mkdir() if name.endswith("/") else target.write_text("")
    assert default_declaration("prod", str(tmp_path / "environments")) == str(tmp_path / expected)


@pytest.mark.parametrize(("link_to", "problem"), [
    pytest.param("../outside.yaml", "a symbolic link", id="out-of-the-folder"),
    pytest.param("app.yaml", "a symbolic link", id="inside-the-folder"),
    pytest.param("/dev/zero", "a symbolic link", id="to-a-device"),
])
def test_a_team_file_that_is_a_symbolic_link_is_an_issue(tmp_path, link_to, problem):
    """At a --base revision a link is not a team's file (git mode 120000, declaration/revision.py:
    left out), and a link out of the folder escapes its CODEOWNERS line: the working tree must not
    read it either, or head and base would disagree on the same commit."""
    (tmp_path / "outside.yaml").write_text("secrets:\n" + secret("prod/other/key"))
    folder = write_folder(tmp_path / "prod", {SETTINGS_FILE: SETTINGS, "app.yaml": "secrets:\n" + secret("prod/app/key")})
    (folder / "linked.yaml").symlink_to(link_to)
    assert issues_of(folder) == [f"{folder}/linked.yaml:1:1: (document): {problem}, not a regular file; an environment "
                                 "folder holds regular files only: replace it with the team's file, or remove it"]


@pytest.mark.parametrize(("sibling", "issue"), [
    pytest.param("file", "{folder}.yaml:1:1: (document): prod.yaml declares this environment too, and `pulumi up` "
                 "deploys the file by default, not this folder; a stack whose secrets-layout:declaration names the "
                 "folder stops on this; keep one: remove the file, or the folder",
                 id="a-file-beside"),
    pytest.param("none", None, id="alone"),
])
def test_a_folder_beside_a_file_of_the_same_environment_is_an_issue(tmp_path, sibling, issue):
    folder = write_folder(tmp_path / "prod", {SETTINGS_FILE: SETTINGS, "app.yaml": "secrets:\n" + secret("prod/app/key")})
    if sibling == "file":
        (tmp_path / "prod.yaml").write_text(SETTINGS)
        assert issues_of(folder) == [issue.format(folder=folder)]
    else:
        assert [item.name for item in load_declaration(folder).declaration.secrets] == ["prod/app/key"]


def test_a_stack_naming_a_folder_beside_a_file_fails_on_the_issue(tmp_path):
    """What the message says of `pulumi up`: the program (__main__.py on the SDK's mock engine) given
    the folder in secrets-layout:declaration stops with the issue, deploying neither; by default it
    takes the file (test_the_default_declaration_of_a_stack, both-the-file-wins)."""
    import pulumi

    from components_support import run_program

    folder = write_folder(tmp_path / "prod", {SETTINGS_FILE: SETTINGS, "app.yaml": "secrets:\n" + secret("prod/app/key")})
    (tmp_path / "prod.yaml").write_text(SETTINGS)
    with pytest.raises(pulumi.RunError) as raised:
        run_program("prod", config={"secrets-layout:declaration": str(folder)}, secret_config={"key": "x"})
    assert str(raised.value) == (
        f"{folder}.yaml:1:1: (document): prod.yaml declares this environment too, and `pulumi up` deploys the file "
        "by default, not this folder; a stack whose secrets-layout:declaration names the folder stops on this; keep "
        "one: remove the file, or the folder")
