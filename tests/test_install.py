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
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from install_support import TEAM_FILE, bare_venv, clean_environment, copy_of_the_checkout, plain_venv, site_packages

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
    """pyproject.toml lists the packages (package-dir needs a list): a new subpackage must be added there,
    and so must a folder of data files only (policies/config): setuptools calls every folder it ships
    files from a package and warns about one it was not given ("Package ... is absent from the
    `packages` configuration", https://setuptools.pypa.io/en/latest/userguide/datafiles.html)."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = {".".join(path.parent.relative_to(ROOT).parts) for path in (ROOT / "secrets_layout").rglob("__init__.py")}
    mapped = {f"secrets_layout.{folder}" for folder in ("components", "policies", "rotation")}
    mapped |= {".".join(("secrets_layout", *path.relative_to(ROOT).parts))
               for folder in ("components", "policies", "rotation") for path in (ROOT / folder).rglob("*")
               if path.is_dir() and path.name != "__pycache__"}
    assert listed == found | mapped
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == {f"secrets_layout.{name}": name
                                                             for name in ("components", "policies", "rotation")}


def test_the_changelog_names_this_version_first():
    headings = [line for line in (ROOT / "CHANGELOG.md").read_text().splitlines() if line.startswith("## [")]
    assert headings[0] == "## [Unreleased]"
    assert headings[1].startswith(f"## [{VERSION}] - ")
    assert headings[-1].startswith("## [0.1.0] - ")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = copy_of_the_checkout(work / "source")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(work / "dist"),
                            str(source)], capture_output=True, text=True, cwd=work, env=clean_environment())
    assert built.returncode == 0, built.stderr
    (found,) = (work / "dist").glob("secrets_layout-*.whl")
    return found


def _install(wheel: Path, python: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--quiet",
                    str(wheel)], check=True, capture_output=True, cwd=wheel.parent, env=clean_environment())
    return python


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The python of a fresh environment with the built wheel installed: the only secrets_layout there."""
    return _install(wheel, bare_venv(tmp_path_factory.mktemp("install") / "venv"))


@pytest.fixture(scope="module")
def plain_installed(wheel, tmp_path_factory) -> Path:
    """The wheel installed without extras, as a pre-commit hook installs it: only the distribution's
    own dependencies (and theirs) are there; the Pulumi SDK, gRPC and boto3 are not."""
    return _install(wheel, plain_venv(tmp_path_factory.mktemp("plain") / "venv", PYPROJECT["project"]["dependencies"]))


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
def test_installing_the_checkout_prints_no_warning(tmp_path):
    """`pip install <checkout>` (what `pip install git+<repository>` does with its clone): no packaging
    warning from the build. pip's own output is read as it is shown, without -v."""
    source = copy_of_the_checkout(tmp_path / "checkout")
    python = bare_venv(tmp_path / "venv")
    result = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", str(source)],
                            capture_output=True, text=True, cwd=tmp_path, env=clean_environment(), timeout=300)
    assert result.returncode == 0, result.stderr
    output = (result.stdout + result.stderr).splitlines()
    assert [line for line in output if "warn" in line.lower()] == []
    assert f"Successfully installed secrets-layout-{VERSION}" in output


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
                             "wrote environments/schema.json\nwrote Pulumi.yaml\nwrote __main__.py\nwrote requirements.txt\n"
                             "wrote policies/PulumiPolicy.yaml\nwrote policies/__main__.py\nwrote policies/requirements.txt\n"
                             "wrote .gitignore\n")
    declaration = user_repository / "environments" / "acme.yaml"
    declaration.write_text(declaration.read_text().replace("secrets: []\n", USER_SECRET, 1))
    # The user's own limit, stricter than the secret's 7-day recovery window (init writes 7).
    config = user_repository / "policies" / "config" / "acme.json"
    settings = json.loads(config.read_text())
    settings["secret-recovery-window"]["minimumDays"] = 14
    config.write_text(json.dumps(settings))

    result = cli(installed, "validate", "--no-policy-config", cwd=user_repository)
    assert (result.returncode, result.stdout) == (0, "environments/acme.yaml: valid (1 secret, 0 parameters)\n")

    # The user's limit (14 days), from the user's policies/config/acme.json, found by validate itself.
    window_line = declaration.read_text().splitlines().index("    recovery_window_days: 7") + 1
    result = cli(installed, "validate", cwd=user_repository)
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


# -- a plain install: what a pre-commit hook installs (issue 21) ----------------------------------

TEAM_SECRET_LINE = 2


def test_a_plain_install_needs_no_pulumi_grpc_or_boto3():
    """The distribution's own dependencies are what validate needs; the rest is the `full` extra."""
    from packaging.requirements import Requirement

    base = {Requirement(text).name for text in PYPROJECT["project"]["dependencies"]}
    full = {Requirement(text).name for text in PYPROJECT["project"]["optional-dependencies"]["full"]}
    assert base == {"pydantic", "pyyaml", "jsonschema", "detect-secrets", "ruamel.yaml"}
    assert {"pulumi", "pulumi-aws", "pulumi-random", "pulumi-policy", "grpcio", "boto3"} <= full


@pytest.mark.slow
def test_the_plain_environment_really_lacks_the_pulumi_sdk(plain_installed, tmp_path):
    found = run_python(plain_installed, "import importlib.util as u; print([m for m in ('pulumi', 'pulumi_aws', "
                                        "'pulumi_policy', 'grpc', 'boto3', 'rich', 'pydantic', 'yaml') "
                                        "if u.find_spec(m) is not None])", tmp_path)
    assert found == "['pydantic', 'yaml']"


@pytest.mark.slow
def test_a_plain_install_validates_with_the_pack_rules(plain_installed, user_repository):
    """The issue: plain `validate` said "valid" for a rotation of 400 days that the pull request then failed."""
    assert cli(plain_installed, "init", "acme", "--security-account", SECURITY, "--account", f"app={APP}",
               cwd=user_repository).returncode == 0
    declaration = user_repository / "environments" / "acme.yaml"
    declaration.write_text(declaration.read_text().replace("secrets: []\n", USER_SECRET.replace(
        "rotation: {enabled: false, reason: the vendor has no rotation API}",
        "rotation: {lambda_arn: 'arn:aws:lambda:us-east-1:123456789012:function:rotator', every_days: 400}"), 1))
    written = "    rotation: {lambda_arn: 'arn:aws:lambda:us-east-1:123456789012:function:rotator', every_days: 400}"
    line, column = declaration.read_text().splitlines().index(written) + 1, written.index("every_days") + 1
    result = cli(plain_installed, "validate", cwd=user_repository / "environments")  # from a subfolder too
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout.startswith(f"acme.yaml:{line}:{column}: secrets[0].rotation.every_days: mandatory "
                                    "secret-rotation-max-interval: ")
    assert len(result.stdout.splitlines()) == 1


@pytest.mark.slow
@pytest.mark.parametrize(("arguments", "missing"), [
    (("preview", "environments/acme.yaml"), "pulumi, pulumi_aws, pulumi_random, pulumi_policy, grpc, rich"),
    (("audit", "environments/acme.yaml"), "boto3"),
    (("rotate", "environments/acme.yaml"), "boto3, rich"),
])
def test_a_command_that_needs_the_full_install_says_so(plain_installed, user_repository, arguments, missing):
    assert cli(plain_installed, "init", "acme", "--security-account", SECURITY, cwd=user_repository).returncode == 0
    result = cli(plain_installed, *arguments, cwd=user_repository)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (f"secrets-layout {arguments[0]}: error: {arguments[0]} needs {missing}, which "
                             "`pip install secrets-layout` leaves out; install them with: "
                             "pip install 'secrets-layout[full]'\n")


@pytest.mark.slow
def test_the_pre_commit_hook_validates_a_staged_team_file_as_part_of_its_environment(plain_installed,
                                                                                         user_repository):
    """As pre-commit runs the hook: its `entry` with the staged files its `files` pattern selects
    (re.search), in the environment a plain install made."""
    import re

    import yaml

    [hook] = [hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
              if hook["id"] == "secrets-layout-validate"]
    assert cli(plain_installed, "init", "acme", "--security-account", SECURITY, "--account", f"app={APP}",
               cwd=user_repository).returncode == 0
    folder = user_repository / "environments" / "acme"
    folder.mkdir()
    (user_repository / "environments" / "acme.yaml").rename(folder / "_environment.yaml")
    (folder / "orders.yaml").write_text(TEAM_FILE)

    command, *arguments = hook["entry"].split()
    assert command == "secrets-layout"

    def run_hook() -> tuple[list[str], subprocess.CompletedProcess]:
        subprocess.run(["git", "add", "-A"], cwd=user_repository, check=True)
        staged = subprocess.run(["git", "diff", "--cached", "--name-only", "--diff-filter=ACMR"], cwd=user_repository,
                                check=True, capture_output=True, text=True).stdout.split()
        selected = [path for path in staged if re.search(hook["files"], path)]
        return selected, cli(plain_installed, *arguments, *selected, cwd=user_repository)

    selected, result = run_hook()
    assert selected == ["environments/acme/_environment.yaml", "environments/acme/orders.yaml"]
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == ("environments/acme: valid (1 secret, 0 parameters; checked against "
                             "policies/config/acme.json)\n")
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "acme"],
                   cwd=user_repository, check=True)

    # The team file alone is staged: its environment is checked, with the environment's defaults and policy
    # config, and a mistake is reported in the team's file.
    (folder / "orders.yaml").write_text(TEAM_FILE.replace("kind: api-key", "kind: api-key\n    protect: false"))
    selected, result = run_hook()
    assert selected == ["environments/acme/orders.yaml"]
    assert result.returncode == 1
    assert result.stdout.startswith("environments/acme/orders.yaml:4:5: secrets[0].protect: mandatory "
                                    "secret-protected: ")


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
    from secrets_layout.engine.analyzer_client import AnalyzerClient
    from secrets_layout.engine.analyzer_messages import make_urn

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
    source = copy_of_the_checkout(tmp_path / "checkout")
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
