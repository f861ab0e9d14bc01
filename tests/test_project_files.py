"""`init` in a repository of one's own writes what `pulumi up --stack ENV --policy-pack policies
--policy-pack-config policies/config/ENV.json` needs (issue 21, section 3): the Pulumi project, its
program, the policy pack folder and the .gitignore lines, never replacing what the repository has.

The Pulumi CLI itself is not run here (no network, no backend): the program runs on the SDK's mock
engine, and the pack folder is started as the CLI starts a Python pack (`python -u -m pulumi.policy
<engine> <pack dir>`, AnalyzerClient's launcher="pulumi") with the python its PulumiPolicy.yaml names.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from install_support import TEAM_FILE, bare_venv, virtualenv_python
from secrets_layout.engine.simulation import simulate
from secrets_layout.project_files import (
    GITIGNORE_ENTRIES,
    Requirement,
    installed_pack_folder,
    installed_requirement,
    project_name,
)
from secrets_layout.scaffold import ScaffoldTargetsExist, ScaffoldWriteError, scaffold_environment

ROOT = Path(__file__).resolve().parent.parent
SECURITY, APP = "123456789012", "210987654321"
REQUIREMENT = Requirement("secrets-layout[full] @ git+https://git.example/platform/secrets-layout.git@0a1b2c3d")
ENVIRONMENT_FILES = ["environments/acme.yaml", "Pulumi.acme.yaml", "policies/config/acme.json"]
PROJECT = ["Pulumi.yaml", "__main__.py", "requirements.txt"]
PACK = ["policies/PulumiPolicy.yaml", "policies/__main__.py", "policies/requirements.txt"]


def init(root: Path, **options) -> list[str]:
    written = scaffold_environment("acme", root, security_account=SECURITY, accounts={"app": APP},
                                   requirement=REQUIREMENT, **options)
    return [path.relative_to(root).as_posix() for path in written]


@pytest.fixture
def repository(tmp_path) -> Path:
    root = tmp_path / "platform-secrets"
    root.mkdir()
    return root


def requirement_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line and not line.startswith("#")]


# -- what is written ---------------------------------------------------------------------------------

def test_an_empty_repository_gets_the_environment_the_project_and_the_pack(repository):
    assert init(repository) == [*ENVIRONMENT_FILES, "environments/schema.json", *PROJECT, *PACK, ".gitignore"]
    project = yaml.safe_load((repository / "Pulumi.yaml").read_text())
    assert project == {"name": "platform-secrets",
                       "description": "AWS Secrets Manager as code with secrets-layout, one stack per environment",
                       "runtime": {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}}}
    assert virtualenv_python(repository, "Pulumi.yaml") == repository / ".venv" / "bin" / "python"
    pack = yaml.safe_load((repository / "policies" / "PulumiPolicy.yaml").read_text())
    installed = yaml.safe_load((installed_pack_folder() / "PulumiPolicy.yaml").read_text())
    assert (pack["description"], pack["version"]) == (installed["description"], installed["version"])
    # The pack runs with the project's python: the same virtual environment, seen from policies/.
    assert virtualenv_python(repository / "policies", "PulumiPolicy.yaml") == (
        repository / "policies" / ".." / ".venv" / "bin" / "python")
    assert requirement_lines(repository / "requirements.txt") == [REQUIREMENT.line]
    assert requirement_lines(repository / "policies" / "requirements.txt") == [REQUIREMENT.line]
    assert (repository / ".gitignore").read_text() == (
        "# secrets-layout: the virtual environment of Pulumi.yaml, and the preview cache (preview --cache)\n"
        ".venv/\n.preview-cache/\n")


@pytest.mark.parametrize(("folder", "name"), [
    ("platform-secrets", "platform-secrets"),
    ("Secrets_2.0", "Secrets_2.0"),
    ("my secrets", "secrets-layout"),  # Pulumi refuses a space: the fallback
    ("sécrets", "secrets-layout"),
    ("a" * 101, "secrets-layout"),
])
def test_the_project_is_named_after_its_folder_when_pulumi_accepts_the_name(tmp_path, folder, name):
    assert project_name(tmp_path / folder) == name


def test_a_note_in_the_requirements_says_when_the_pin_needs_a_person(repository):
    note = Requirement("secrets-layout[full]==0.2.0", "installed from a local folder: replace this line")
    scaffold_environment("acme", repository, requirement=note)
    assert (repository / "requirements.txt").read_text().splitlines()[-2:] == [
        "# installed from a local folder: replace this line", "secrets-layout[full]==0.2.0"]


# -- the pin: how this secrets-layout was installed (PEP 610 direct_url.json) -----------------------

class InstalledAs:
    """A distribution's metadata as importlib.metadata reads it: its version and direct_url.json."""

    version = "0.2.0"

    def __init__(self, direct_url: dict | None):
        self.direct_url = direct_url

    def read_text(self, name: str) -> str | None:
        assert name == "direct_url.json"
        return None if self.direct_url is None else json.dumps(self.direct_url)


LOCAL = ("secrets-layout was installed from a local file or folder, which another machine cannot reach: replace "
         "this line with where your team installs it from, e.g. secrets-layout[full] @ git+<its repository>@<commit>")


@pytest.mark.parametrize(("direct_url", "line", "note"), [
    ({"url": "https://git.example/platform/secrets-layout.git",
      "vcs_info": {"vcs": "git", "commit_id": "0a1b2c3d4e5f", "requested_revision": "main"}},
     "secrets-layout[full] @ git+https://git.example/platform/secrets-layout.git@0a1b2c3d4e5f", None),
    ({"url": "file:///srv/git/secrets-layout", "vcs_info": {"vcs": "git", "commit_id": "0a1b2c3d4e5f"}},
     "secrets-layout[full] @ git+file:///srv/git/secrets-layout@0a1b2c3d4e5f", None),
    ({"url": "https://git.example/platform/secrets-layout/archive/v0.2.0.tar.gz", "archive_info": {}},
     "secrets-layout[full] @ https://git.example/platform/secrets-layout/archive/v0.2.0.tar.gz", None),
    ({"url": "file:///home/me/secrets-layout", "dir_info": {"editable": True}}, "secrets-layout[full]==0.2.0", LOCAL),
    ({"url": "file:///tmp/dist/secrets_layout-0.2.0-py3-none-any.whl", "archive_info": {}},
     "secrets-layout[full]==0.2.0", LOCAL),
    (None, "secrets-layout[full]==0.2.0", None),  # from an index
], ids=["git", "git-path", "archive", "folder", "wheel-file", "index"])
def test_the_pin_is_how_secrets_layout_was_installed(direct_url, line, note):
    assert installed_requirement(InstalledAs(direct_url)) == Requirement(line, note)


def test_a_checkout_that_is_not_installed_is_not_pinned(monkeypatch):
    import importlib.metadata

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    assert installed_requirement() == Requirement("secrets-layout[full]", LOCAL)


# -- a repository's own files are kept ----------------------------------------------------------------

@pytest.mark.parametrize(("existing", "written"), [
    (["Pulumi.yaml"], [*PACK, ".gitignore"]),  # a project of its own: its program and requirements too
    (["Pulumi.yaml", "policies/PulumiPolicy.yaml"], [".gitignore"]),
    (["policies/PulumiPolicy.yaml"], [*PROJECT, ".gitignore"]),
    (["Pulumi.yaml", "policies/PulumiPolicy.yaml", ".gitignore:.venv\n/.preview-cache/\n"], []),
], ids=["project", "project-and-pack", "pack", "everything"])
def test_a_repository_keeps_its_project_and_its_pack(repository, existing, written):
    for entry in existing:
        name, _, text = entry.partition(":")
        (repository / name).parent.mkdir(parents=True, exist_ok=True)
        (repository / name).write_text(text or f"# mine: {name}\n")
    assert init(repository, force=True) == [*ENVIRONMENT_FILES, "environments/schema.json", *written]
    for entry in existing:
        name, _, text = entry.partition(":")
        assert (repository / name).read_text() == (text or f"# mine: {name}\n")


@pytest.mark.parametrize("existing", ["__main__.py", "requirements.txt", "policies/__main__.py",
                                      "policies/requirements.txt"])
def test_a_file_of_a_new_project_or_pack_that_exists_is_refused_and_nothing_is_written(repository, existing):
    (repository / existing).parent.mkdir(parents=True, exist_ok=True)
    (repository / existing).write_text("# mine\n")
    with pytest.raises(ScaffoldTargetsExist) as raised:
        init(repository)
    assert str(raised.value) == f"{existing} already exists; nothing was written. Use --force to overwrite."
    assert sorted(path.relative_to(repository).as_posix() for path in repository.rglob("*") if path.is_file()) == [
        existing]
    assert (repository / existing).read_text() == "# mine\n"
    assert existing in init(repository, force=True)


def test_a_second_environment_adds_only_its_own_files(repository):
    init(repository)
    written = scaffold_environment("qa", repository, requirement=REQUIREMENT)
    assert [path.relative_to(repository).as_posix() for path in written] == [
        "environments/qa.yaml", "Pulumi.qa.yaml", "policies/config/qa.json"]


# -- .gitignore: lines added, the rest kept ------------------------------------------------------------

COMMENT = "# secrets-layout: the virtual environment of Pulumi.yaml, and the preview cache (preview --cache)\n"


@pytest.mark.parametrize(("before", "after"), [
    (None, COMMENT + ".venv/\n.preview-cache/\n"),
    ("", COMMENT + ".venv/\n.preview-cache/\n"),
    ("node_modules/\n", "node_modules/\n" + COMMENT + ".venv/\n.preview-cache/\n"),
    ("node_modules/", "node_modules/\n" + COMMENT + ".venv/\n.preview-cache/\n"),  # no newline at its end
    (".venv\n", ".venv\n" + COMMENT + ".preview-cache/\n"),
    ("/.venv/\n.preview-cache\n", "/.venv/\n.preview-cache\n"),
], ids=["absent", "empty", "other lines", "no final newline", "venv ignored", "both ignored"])
def test_the_gitignore_gets_the_missing_lines(repository, before, after):
    if before is not None:
        (repository / ".gitignore").write_text(before)
    written = init(repository)
    assert (".gitignore" in written) == (before != after)
    assert (repository / ".gitignore").read_text() == after
    assert GITIGNORE_ENTRIES == (".venv/", ".preview-cache/")


@pytest.mark.parametrize(("make", "message"), [
    (lambda path: path.symlink_to(path.parent / "elsewhere"),
     ".gitignore is a symbolic link, so init does not replace it: add .venv/ and .preview-cache/ to the file it "
     "names; nothing was written"),
    (lambda path: path.write_bytes(b"caf\xe9\n"),
     ".gitignore is not UTF-8 text, so its lines cannot be added to; nothing was written. Save it as UTF-8 and run "
     "init again"),
    (lambda path: path.mkdir(), ".gitignore: a folder, not a regular file; nothing was written"),
], ids=["symlink", "not utf-8", "folder"])
def test_a_gitignore_that_cannot_be_added_to_is_refused(repository, make, message):
    (repository / "elsewhere").write_text("x\n")
    make(repository / ".gitignore")
    before = sorted(path.name for path in repository.iterdir())
    with pytest.raises(ScaffoldWriteError) as raised:
        init(repository)
    assert str(raised.value) == message
    assert sorted(path.name for path in repository.iterdir()) == before


# -- the generated program and pack, run as Pulumi runs them -------------------------------------------

@pytest.fixture
def deployable(repository) -> Path:
    """An initialised repository with a secret declared, and its .venv: a Python that sees this
    checkout's secrets_layout and the Pulumi SDKs (through PYTHONPATH, as an install would)."""
    init(repository)
    declaration = repository / "environments" / "acme.yaml"
    declaration.write_text(declaration.read_text().replace("secrets: []\n", TEAM_FILE, 1))
    bare_venv(repository / ".venv")
    return repository


def run_generated_program(repository: Path):
    """__main__.py on the mock engine as `pulumi up --stack acme` runs it: from the project's folder,
    with the project's name and the stack file's config."""
    project = yaml.safe_load((repository / "Pulumi.yaml").read_text())
    config = yaml.safe_load((repository / "Pulumi.acme.yaml").read_text())["config"]
    return simulate(repository / "__main__.py", project=project["name"], stack="acme", config=config,
                    root_directory=repository, account_id=SECURITY)


@pytest.mark.slow
def test_the_generated_program_deploys_the_declaration_and_the_generated_pack_judges_it(deployable):
    from secrets_layout.engine.analyzer_client import AnalyzerClient
    from secrets_layout.engine.policy_check import analyzer_resources

    run = run_generated_program(deployable)
    assert run.outputs["environment"] == "acme"
    assert "acme/orders/api-token" in run.outputs["secret_names"]
    inputs, states = analyzer_resources(run)

    pack_dir = deployable / "policies"
    python = virtualenv_python(pack_dir, "PulumiPolicy.yaml")
    with AnalyzerClient(pack_dir, python=str(python), launcher="pulumi", env={"PYTHONPATH": str(ROOT)}) as pack:
        info = pack.info()
        assert info.name == "secrets-layout"
        assert {policy.name for policy in info.policies} >= {"secret-protected", "secret-name-convention"}
        pack.configure(config_file=deployable / "policies" / "config" / "acme.json")
        assert pack.analyze_many(inputs).violations == []
        assert pack.analyze_stack(states).violations == []

        # The pack judges what the program made: the secret left unprotected is a mandatory violation.
        declaration = deployable / "environments" / "acme.yaml"
        declaration.write_text(declaration.read_text().replace("    kind: api-key\n",
                                                               "    kind: api-key\n    protect: false\n"))
        unprotected, _ = analyzer_resources(run_generated_program(deployable))
        found = pack.analyze_many(unprotected).violations
        assert [(violation.policy, violation.level, violation.urn.rsplit("::", 1)[1]) for violation in found] == [
            ("secret-protected", "mandatory", "acme/orders/api-token-secret")]


@pytest.mark.slow
def test_the_generated_pack_without_secrets_layout_says_what_to_install(repository):
    from secrets_layout.engine.analyzer_client import AnalyzerClient
    from secrets_layout.engine.analyzer_errors import PolicyPackStartError

    init(repository)
    python = bare_venv(repository / ".venv")  # the Pulumi SDKs, and no secrets_layout (nothing on PYTHONPATH)
    with pytest.raises(PolicyPackStartError) as raised:
        with AnalyzerClient(repository / "policies", python=str(python), launcher="pulumi", env={"PYTHONPATH": ""}):
            pass
    assert (f"the secrets-layout policy pack needs secrets-layout[full] in {python}; install it with: "
            "pulumi install (or pip install -r requirements.txt)") in str(raised.value)
    assert "Traceback" not in str(raised.value)
