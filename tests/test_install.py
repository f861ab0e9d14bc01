"""The wheel, installed into a fresh virtual environment outside the checkout, in a user's repository.

The wheel is built (`pip wheel --no-deps`, setuptools from PyPI or pip's cache in an isolated build)
from a copy of the checkout's files, so stale build/ folders cannot leak into it. It is installed
with `--no-deps` into a new environment whose dependencies are this environment's (see
tests/install_support.py): offline, in seconds, and with nothing of the checkout importable there.
Everything then runs through the installed `secrets-layout` script, in a temporary git repository
holding only the user's files: `init`, `validate`, `preview` (text and json) with the user's own
policy config, and `preview --program` of the user's own Pulumi program that imports
`secrets_layout.components`, with the user's own pack config applied to it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from install_support import bare_venv, clean_environment, site_packages

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
VERSION = PYPROJECT["project"]["version"]
SECURITY, APP = "123456789012", "210987654321"

USER_SECRET = textwrap.dedent("""\
    secrets:
      - name: acme/orders/api-token
        kind: api-key
        value: {external: true}
        recovery_window_days: 7
        rotation: {enabled: false, reason: the vendor has no rotation API}
        readers: [{account: app, roles: [OrdersRole]}]
""")

USER_PROGRAM = textwrap.dedent("""\
    \"\"\"A platform team's own program: the layout from the components, plus a secret of its own.\"\"\"
    import pulumi
    import pulumi_aws as aws

    from secrets_layout.components import SecretsLayout, SecretsLayoutArgs
    from secrets_layout.declaration.loader import load_declaration

    declaration = load_declaration(pulumi.Config("secrets-layout").require("declaration")).declaration
    layout = SecretsLayout(declaration.environment, SecretsLayoutArgs(declaration=declaration))
    aws.secretsmanager.Secret("legacy", name="legacy-token", recovery_window_in_days=30)
""")
USER_PROGRAM_SECRET_LINE = USER_PROGRAM.splitlines().index(
    'aws.secretsmanager.Secret("legacy", name="legacy-token", recovery_window_in_days=30)') + 1


def test_every_package_of_the_checkout_is_in_the_wheel():
    """pyproject.toml lists the packages (package-dir needs a list): a new subpackage must be added there."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = {".".join(path.parent.relative_to(ROOT).parts) for path in (ROOT / "secrets_layout").rglob("__init__.py")}
    mapped = {f"secrets_layout.{folder}" for folder in ("components", "policies", "rotation")}
    mapped |= {".".join(("secrets_layout", *path.parent.relative_to(ROOT).parts))
               for folder in ("components", "policies") for path in (ROOT / folder).rglob("__init__.py")}
    assert listed == found | mapped
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == {f"secrets_layout.{name}": name
                                                             for name in ("components", "policies", "rotation")}


def test_the_changelog_names_this_version_first():
    headings = [line for line in (ROOT / "CHANGELOG.md").read_text().splitlines() if line.startswith("## [")]
    assert headings[0] == "## [Unreleased]"
    assert headings[1].startswith(f"## [{VERSION}] - ")
    assert headings[-1].startswith("## [0.1.0] - ")


def _copy_of_the_checkout(destination: Path) -> Path:
    """The files git knows (tracked or not ignored): what a clone plus the working tree's changes hold."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The python of a fresh environment with the built wheel installed: the only secrets_layout there."""
    work = tmp_path_factory.mktemp("install")
    source = _copy_of_the_checkout(work / "source")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(work / "dist"),
                            str(source)], capture_output=True, text=True, cwd=work, env=clean_environment())
    assert built.returncode == 0, built.stderr
    (wheel,) = (work / "dist").glob("secrets_layout-*.whl")
    python = bare_venv(work / "venv")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--quiet",
                    str(wheel)], check=True, capture_output=True, cwd=work, env=clean_environment())
    return python


@pytest.fixture
def user_repository(tmp_path) -> Path:
    repository = tmp_path / "platform-secrets"
    repository.mkdir()
    subprocess.run(["git", "init", "-q", str(repository)], check=True)
    return repository


def cli(python: Path, *arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(python.parent / "secrets-layout"), *arguments], capture_output=True, text=True,
                          cwd=cwd, env=clean_environment(COLUMNS="200"), timeout=300)


def run_python(python: Path, code: str, cwd: Path) -> str:
    return subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True, cwd=cwd,
                          env=clean_environment()).stdout.strip()


@pytest.mark.slow
def test_one_namespace_with_the_pack_and_the_rotation_code(installed, tmp_path):
    packages = site_packages(installed)
    ours = sorted(path.name for path in packages.iterdir() if path.name != "shared-test-dependencies.pth")
    assert ours == ["secrets_layout", f"secrets_layout-{VERSION}.dist-info"]
    where = json.loads(run_python(installed, (
        "import json, secrets_layout.components.rotation as r, secrets_layout.policies as p, "
        "secrets_layout.engine.analyzer_client as a; "
        "print(json.dumps([str(r.ROTATION_CODE_DIRECTORY), p.__file__, str(a.DEFAULT_PACK_DIR)]))"), tmp_path))
    rotation, policies, pack = map(Path, where)
    assert rotation == packages / "secrets_layout" / "rotation" and (rotation / "handler.py").is_file()
    assert policies == packages / "secrets_layout" / "policies" / "__init__.py"
    assert pack == packages / "secrets_layout" / "policies" and (pack / "PulumiPolicy.yaml").is_file()
    assert sorted(path.name for path in (pack / "config").iterdir()) == [
        "dev.json", "prod.json", "shared-services.json", "staging.json"]
    assert (pack / "requirements.txt").read_text() == (ROOT / "policies" / "requirements.txt").read_text()


@pytest.mark.slow
def test_version(installed, tmp_path):
    result = cli(installed, "--version", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, f"secrets-layout {VERSION}\n", "")


@pytest.mark.slow
def test_a_users_repository_from_init_to_preview(installed, user_repository):
    result = cli(installed, "init", "acme", "--security-account", SECURITY, "--account", f"app={APP}",
                 cwd=user_repository)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("wrote environments/acme.yaml\nwrote Pulumi.acme.yaml\nwrote policies/config/acme.json\n"
                             "wrote environments/schema.json\n")
    declaration = user_repository / "environments" / "acme.yaml"
    declaration.write_text(declaration.read_text().replace("secrets: []\n", USER_SECRET, 1))
    # The user's own limit, stricter than the secret's 7-day recovery window (init writes 7).
    config = user_repository / "policies" / "config" / "acme.json"
    settings = json.loads(config.read_text())
    settings["secret-recovery-window"]["minimumDays"] = 14
    config.write_text(json.dumps(settings))

    result = cli(installed, "validate", cwd=user_repository)
    assert (result.returncode, result.stdout) == (0, "environments/acme.yaml: valid (1 secret, 0 parameters)\n")

    # The user's limit (14 days), from the user's policies/config/acme.json.
    window_line = declaration.read_text().splitlines().index("    recovery_window_days: 7") + 1
    result = cli(installed, "validate", "--policy-config", "auto", cwd=user_repository)
    assert result.returncode == 1
    assert result.stdout.startswith(f"environments/acme.yaml:{window_line}:5: secrets[0].recovery_window_days: "
                                    "mandatory secret-recovery-window: ")
    assert result.stdout.endswith("set `recovery_window_days:` to a value from 14 to 30.\n")

    text = cli(installed, "preview", "environments/acme.yaml", cwd=user_repository)
    assert text.returncode == 1, text.stderr
    assert text.stdout.startswith("secrets-layout preview of environments/acme.yaml (environment acme, "
                                  "policy config policies/config/acme.json)\n")
    assert "secret-recovery-window" in text.stdout and "site-packages" not in text.stdout + text.stderr

    document = cli(installed, "preview", "environments/acme.yaml", "--format", "json", cwd=user_repository)
    assert document.returncode == 1, document.stderr
    report = json.loads(document.stdout)
    assert report["policy_config"] == "policies/config/acme.json"
    assert [(v["policy"], v["level"], v["line"]) for v in report["violations"]] == [
        ("secret-recovery-window", "mandatory", window_line)]
    assert "acme/orders/api-token-secret" in {resource["name"] for resource in report["resources"]}


@pytest.mark.slow
def test_a_declaration_without_a_policy_config_is_a_usage_error_not_the_packages_config(installed, user_repository):
    """The issue: `.../site-packages/policies/config/acme.json: no such policy config`."""
    result = cli(installed, "init", "acme", "--security-account", SECURITY, cwd=user_repository)
    assert result.returncode == 0, result.stderr
    (user_repository / "policies" / "config" / "acme.json").unlink()
    result = cli(installed, "preview", "environments/acme.yaml", cwd=user_repository)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == ("secrets-layout preview: error: environments/acme.yaml: no policies/config/acme.json "
                             "in the declaration's repository; pass --policy-config FILE\n")


@pytest.mark.slow
def test_a_users_own_program_is_previewed_with_the_users_pack_config(installed, user_repository):
    result = cli(installed, "init", "acme", "--security-account", SECURITY, "--account", f"app={APP}",
                 cwd=user_repository)
    assert result.returncode == 0, result.stderr
    declaration = user_repository / "environments" / "acme.yaml"
    declaration.write_text(declaration.read_text().replace("secrets: []\n", USER_SECRET, 1))
    program = user_repository / "infra" / "__main__.py"
    program.parent.mkdir()
    program.write_text(USER_PROGRAM)

    def violations(*extra: str) -> tuple[int, dict[str, str], set[str]]:
        result = cli(installed, "preview", "environments/acme.yaml", "--program", "infra/__main__.py",
                     "--format", "json", *extra, cwd=user_repository)
        assert result.returncode in (0, 1), result.stderr
        report = json.loads(result.stdout)
        legacy = [v for v in report["violations"] if v["urn"].endswith("::legacy")]
        # The program's own secret, at the program's line (the installed package's frames are not the user's).
        assert {(v["file"], v["line"]) for v in legacy} <= {("infra/__main__.py", USER_PROGRAM_SECRET_LINE)}
        return (result.returncode, {v["policy"]: v["level"] for v in legacy},
                {resource["name"] for resource in report["resources"]})

    code, found, names = violations()
    assert {"legacy", "acme/orders/api-token-secret"} <= names
    assert code == 1
    assert found["secret-name-convention"] == "mandatory"
    assert found["secret-customer-managed-key"] == "mandatory"

    # The user's pack config decides: the naming rule advisory, the key rule disabled.
    settings = json.loads((user_repository / "policies" / "config" / "acme.json").read_text())
    settings["secret-name-convention"]["enforcementLevel"] = "advisory"
    settings["secret-customer-managed-key"]["enforcementLevel"] = "disabled"
    relaxed = user_repository / "relaxed.json"
    relaxed.write_text(json.dumps(settings))
    code, found, _ = violations("--policy-config", "relaxed.json")
    assert found.get("secret-name-convention") == "advisory"
    assert "secret-customer-managed-key" not in found


@pytest.mark.slow
def test_the_installed_pack_runs_as_the_cli_starts_it_for_another_repositorys_program(installed):
    """`pulumi preview --policy-pack <site-packages>/secrets_layout/policies`: the CLI's
    `python -u -m pulumi.policy <engine> <pack dir>` from the pack's folder, with the installed python."""
    from policy_support import SECRET, layout, replace
    from secrets_layout.engine.analyzer_client import AnalyzerClient, make_urn

    pack_dir = site_packages(installed) / "secrets_layout" / "policies"
    prod = layout("prod")
    with AnalyzerClient(pack_dir, python=str(installed), launcher="pulumi", env={"PYTHONPATH": ""}) as pack:
        pack.configure(config_file=pack_dir / "config" / "prod.json")
        assert pack.run(prod).violations == []
        found = pack.run(replace(prod, SECRET, protect=False)).violations
        assert [(violation.policy, violation.urn) for violation in found] == [
            ("secret-protected", make_urn(SECRET, "orders-db", stack="prod"))]


@pytest.mark.slow
def test_an_editable_install_maps_the_folders_too(tmp_path):
    """`make install` is `pip install -e .`: setuptools' editable finder maps each package of
    package-dir to its folder (https://setuptools.pypa.io/en/latest/userguide/development_mode.html).
    secrets_layout/__init__.py's own mapping for an uninstalled checkout is taken out first, so
    the finder alone is what is tested."""
    source = _copy_of_the_checkout(tmp_path / "checkout")
    python = bare_venv(tmp_path / "venv")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--quiet",
                    "-e", str(source)], check=True, capture_output=True, cwd=tmp_path, env=clean_environment())
    found = json.loads(run_python(python, (
        "import json, secrets_layout; secrets_layout.__path__[:] = secrets_layout.__path__[:1]; "
        "import secrets_layout.components.kms as k, secrets_layout.policies.catalog as r; "
        "print(json.dumps([k.__file__, r.__file__, list(secrets_layout.__path__)]))"), tmp_path))
    assert found == [str(source / "components" / "kms.py"), str(source / "policies" / "catalog.py"),
                     [str(source / "secrets_layout")]]


@pytest.mark.slow
def test_an_uninstalled_checkout_maps_the_folders_itself(tmp_path):
    """PYTHONPATH=<checkout> (how this suite and `pulumi up` in the repository run) without any install:
    secrets_layout/__init__.py maps components/, policies/ and rotation/ into the namespace."""
    python = bare_venv(tmp_path / "venv")
    found = subprocess.run([str(python), "-c", (
        "import json, secrets_layout.components.rotation as r, secrets_layout.policies.catalog as p, "
        "secrets_layout.engine.analyzer_client as a; "
        "print(json.dumps([r.__file__, str(r.ROTATION_CODE_DIRECTORY), p.__file__, str(a.DEFAULT_PACK_DIR)]))")],
        check=True, capture_output=True, text=True, cwd=tmp_path, env=clean_environment(PYTHONPATH=str(ROOT))).stdout
    assert json.loads(found) == [str(ROOT / "components" / "rotation.py"), str(ROOT / "rotation"),
                                 str(ROOT / "policies" / "catalog.py"), str(ROOT / "policies")]
