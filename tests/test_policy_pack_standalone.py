"""The policy pack outside this repository: its folder alone is what `pulumi policy publish` uploads and
what `pulumi preview --policy-pack <path>` starts, so it must run by itself with its requirements.txt.

What publish uploads: the Pulumi CLI archives the pack's directory (`archive.TGZ(pwd, "package",
useDefaultExcludes)`), and where the pack is enforced it unpacks it, runs `python.InstallDependencies`
(requirements.txt into a `venv` inside the pack) and sets PulumiPolicy.yaml's `virtualenv` to it
(pulumi/pulumi pkg/backend/httpstate/policypack.go: Publish, installRequiredPolicy,
completePythonInstall). The CLI starts a Python pack as `python -u -m pulumi.policy <engine> <dir>`
from the pack's folder (the `pulumi-analyzer-policy-python` script), which AnalyzerClient's
launcher="pulumi" reproduces. Not verified here: a real `pulumi policy publish` (it needs the Pulumi
service) and a real `pulumi preview` (no Pulumi CLI in this environment).
"""

from __future__ import annotations

import ast
import importlib.metadata
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from install_support import bare_venv, clean_environment
from policy_support import PACK_DIR, SECRET, layout, replace
from secrets_layout.engine.analyzer_client import AnalyzerClient
from secrets_layout.engine.analyzer_messages import make_urn

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROD = layout("prod")
SECRET_URN = make_urn(SECRET, "orders-db", stack="prod")


def pinned() -> list[Requirement]:
    lines = (PACK_DIR / "requirements.txt").read_text().splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_the_requirements_are_pinned_to_the_tested_versions_within_pyprojects_ranges():
    allowed = {Requirement(text).name: Requirement(text)
               for text in PYPROJECT["project"]["optional-dependencies"]["full"]}
    requirements = pinned()
    assert [requirement.name for requirement in requirements] == ["pulumi", "pulumi-policy"]
    for requirement in requirements:
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", requirement
        assert specifier.version == importlib.metadata.version(requirement.name), requirement
        assert allowed[requirement.name].specifier.contains(specifier.version), (requirement, allowed[requirement.name])


def test_the_pack_imports_only_the_standard_library_itself_and_its_requirements():
    importable = {"pulumi", "pulumi_policy"}  # the import names of requirements.txt's distributions
    assert {requirement.name.replace("-", "_") for requirement in pinned()} == importable
    for module in sorted(PACK_DIR.glob("*.py")):
        tree = ast.parse(module.read_text())
        imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.level == 0}
        # `policies`: the pack's own package, as __main__.py loads it from its folder.
        assert imported <= set(sys.stdlib_module_names) | importable | {"policies"}, module.name


def test_what_publish_uploads_is_the_pack_folder():
    """The files of the pack: the CLI's metadata, the requirements, the modules and the example configs."""
    files = sorted(path.relative_to(PACK_DIR).as_posix() for path in PACK_DIR.rglob("*")
                   if path.is_file() and "__pycache__" not in path.parts)
    assert files == ["PulumiPolicy.yaml", "README.md", "__init__.py", "__main__.py", "catalog.py",
                     "checks/__init__.py", "checks/access.py", "checks/deletion.py", "checks/documents.py",
                     "checks/keys.py", "checks/links.py", "checks/naming.py", "checks/regions.py",
                     "checks/rotation.py", "checks/schemas.py", "checks/strength.py", "checks/tagging.py",
                     "config/dev.json", "config/prod.json", "config/shared-services.json", "config/staging.json",
                     "definition.py", "findings.py", "pack.py", "requirements.txt", "resource_policy.py",
                     "resources.py", "schedule.py"]


def test_the_pack_publishes_the_distributions_version():
    """`pulumi policy publish` names the version of PulumiPolicy.yaml (pulumi_policy/policy.py
    GetAnalyzerInfo: "the CLI will use the version specified there")."""
    import yaml

    assert yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())["version"] == PYPROJECT["project"]["version"]


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> Path:
    """An environment with the pack's requirements and nothing of this checkout (no secrets_layout)."""
    return bare_venv(tmp_path_factory.mktemp("bare") / "venv")


@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["pulumi", "script"])
def test_the_pack_folder_copied_alone_runs_in_another_repository(bare_python, tmp_path, launcher):
    other = tmp_path / "another-team" / "policy-packs" / "secrets"
    shutil.copytree(PACK_DIR, other, ignore=shutil.ignore_patterns("__pycache__"))
    # The other team's own `policies` package on its PYTHONPATH must not shadow the pack's modules; and
    # nothing of this checkout is there (the suite itself runs with the checkout on PYTHONPATH).
    (tmp_path / "another-team" / "policies").mkdir()
    (tmp_path / "another-team" / "policies" / "__init__.py").write_text("raise ImportError('not the pack')\n")
    with AnalyzerClient(other, python=str(bare_python), launcher=launcher,
                        env={"PYTHONPATH": str(tmp_path / "another-team")}) as pack:
        pack.configure(config_file=other / "config" / "prod.json")
        assert pack.run(PROD).violations == []
        found = pack.run(replace(PROD, SECRET, protect=False)).violations
        assert [(violation.policy, violation.urn) for violation in found] == [("secret-protected", SECRET_URN)]


@pytest.mark.slow
def test_the_bare_environment_cannot_import_secrets_layout(bare_python, tmp_path):
    result = subprocess.run([str(bare_python), "-c", "import secrets_layout"], capture_output=True, text=True,
                            cwd=tmp_path, env=clean_environment())
    assert result.returncode == 1 and "No module named 'secrets_layout'" in result.stderr
