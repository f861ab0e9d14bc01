"""The benchmark's inputs (benchmarks/): the generated declaration is valid, the Terraform and the
raw-SDK program make the same resources as the components. No timings here: the speed targets
live in `make bench` only."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import generate  # noqa: E402
from benchmarks.raw_program import component_program, raw_program  # noqa: E402
from benchmarks.run import fit_growth  # noqa: E402
from secrets_layout.declaration.loader import load_declaration, parse_declaration  # noqa: E402
from secrets_layout.declaration.models import SecretKind  # noqa: E402
from secrets_layout.declaration.yaml_source import MAX_FILE_BYTES  # noqa: E402
from secrets_layout.engine.recorded_values import mask
from secrets_layout.engine.simulation import simulate  # noqa: E402

# Every kind, engine and VPC placement the generator cycles through appears by 36 secrets.
SMALL = 36
RESOURCE_BLOCK = re.compile(r'^resource "([a-z0-9_]+)" "([A-Za-z0-9_-]+)"', re.MULTILINE)

# Pulumi type -> the Terraform resource type that makes the same AWS object.
TERRAFORM_TYPE = {
    "aws:kms/key:Key": "aws_kms_key",
    "aws:kms/alias:Alias": "aws_kms_alias",
    "aws:secretsmanager/secret:Secret": "aws_secretsmanager_secret",
    "aws:secretsmanager/secretPolicy:SecretPolicy": "aws_secretsmanager_secret_policy",
    "aws:secretsmanager/secretVersion:SecretVersion": "aws_secretsmanager_secret_version",
    "aws:secretsmanager/secretRotation:SecretRotation": "aws_secretsmanager_secret_rotation",
    "random:index/randomPassword:RandomPassword": "random_password",
    "aws:serverlessrepository/cloudFormationStack:CloudFormationStack": "aws_serverlessapplicationrepository_cloudformation_stack",
    "aws:iam/role:Role": "aws_iam_role",
    "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "aws_iam_role_policy_attachment",
    "aws:lambda/function:Function": "aws_lambda_function",
    "aws:lambda/permission:Permission": "aws_lambda_permission",
    "aws:ssm/parameter:Parameter": "aws_ssm_parameter",
}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return generate.write_inputs(SMALL, tmp_path_factory.mktemp("bench-small"))


def terraform_blocks(files: dict[str, str]) -> list[tuple[str, str]]:
    return [match for text in files.values() for match in RESOURCE_BLOCK.findall(text)]


def test_thousand_secret_declaration_validates(tmp_path: Path):
    path = tmp_path / "bench.yaml"
    path.write_text(generate.declaration_yaml(1000))
    assert path.stat().st_size <= MAX_FILE_BYTES, "the benchmark declaration must fit the loader's size bound"

    declaration = load_declaration(path).declaration

    assert len(declaration.secrets) == 1000
    assert len({secret.name for secret in declaration.secrets}) == 1000
    assert Counter(secret.kind for secret in declaration.secrets) == {
        SecretKind.DATABASE: 334, SecretKind.API_KEY: 333, SecretKind.OAUTH_TOKEN: 333}
    for secret in declaration.secrets:
        assert secret.replicas == ["us-west-2", "eu-west-1"]
        assert secret.rotates and secret.rotation.method in ("managed", "function", "lambda_arn")
        assert [reader.account for reader in secret.readers] == ["prod-app", "prod-data"]
        assert {"owner", "cost-center", "service", "team"} <= secret.tags.keys()


def test_generated_declaration_is_deterministic_and_mixes_rotation_methods():
    assert generate.declaration_yaml(SMALL) == generate.declaration_yaml(SMALL)
    declaration = parse_declaration(generate.declaration_yaml(SMALL), "bench.yaml").declaration
    methods = Counter(
        (secret.rotation.managed.value if secret.rotation.managed else secret.rotation.method)
        for secret in declaration.secrets
    )
    assert methods == {"rds-postgresql-single-user": 6, "rds-mysql-single-user": 6, "function": 12, "lambda_arn": 12}
    assert len(generate.managed_placements(SMALL)) == 6


def test_policy_config_matches_the_packs_config_and_the_accounts():
    shipped = json.loads((ROOT / "policies" / "config" / "prod.json").read_text())
    config = generate.policy_config()
    assert config.keys() == shipped.keys()
    assert set(config["secret-policy-allowed-accounts"]["allowedAccounts"]) == {
        generate.SECURITY_ACCOUNT, *generate.ACCOUNTS.values()}
    assert {level["enforcementLevel"] for level in config.values()} <= {"mandatory", "advisory", "disabled"}


def test_terraform_has_the_expected_resources_for_a_thousand_secrets():
    files = generate.terraform_files(1000)
    blocks = terraform_blocks(files)

    assert Counter(kind for kind, _ in blocks) == generate.expected_resources(1000)
    assert len(set(blocks)) == len(blocks), "resource addresses are unique"
    names = {
        match
        for text in files.values()
        for match in re.findall(r'resource "aws_secretsmanager_secret" "\w+" \{\n  name\s+= "([^"]+)"', text)
    }
    assert names == {secret.name for secret in generate.bench_secrets(1000)}
    for name, text in files.items():
        assert text.count("{") == text.count("}"), name
        assert "${" not in text.replace("$${", ""), f"{name}: no interpolation from data"
    # no literal secret: generated values come from random_password
    secrets_text = "".join(files.values())
    assert "secret_string  = random_password." in secrets_text or "password = random_password." in secrets_text
    assert not re.search(r'secret_string\s+=\s+"', secrets_text)
    # every secret replicates to both regions on its region's key
    assert secrets_text.count("replica {") == 2 * 1000


def test_components_terraform_and_raw_program_make_the_same_resources(small: dict[str, Path]):
    declaration = load_declaration(small["declaration"]).declaration
    components = simulate(component_program(declaration), project="secrets-layout", stack="prod", root_directory=ROOT)
    raw = simulate(raw_program(declaration), project="secrets-layout", stack="prod", root_directory=ROOT)

    custom = [resource for resource in components.resources if resource.custom and not resource.is_provider]
    assert Counter(TERRAFORM_TYPE[resource.type] for resource in custom) == generate.expected_resources(SMALL)
    assert Counter(kind for kind, _ in terraform_blocks(generate.terraform_files(SMALL))) == generate.expected_resources(SMALL)

    # The raw program: the same custom resources, inputs and options, without any component.
    assert not [resource for resource in raw.resources if not resource.custom]
    assert described(raw) == described(components)
    assert json.dumps(mask(raw.outputs), sort_keys=True) == json.dumps(mask(components.outputs), sort_keys=True)


def described(run) -> dict[tuple[str, str], dict]:
    """Each custom resource by (type, name): its inputs and the options the engine sees."""
    by_urn = run.by_urn()

    def plain(value):
        if hasattr(value, "assets"):  # an AssetArchive: its file names
            return sorted(value.assets)
        return mask(value)

    return {
        (resource.type, resource.name): {
            "inputs": json.dumps(plain(resource.inputs), sort_keys=True, default=plain),
            "provider": by_urn[resource.provider].name if resource.provider in by_urn else resource.provider,
            "protect": resource.protect,
            "ignore_changes": resource.ignore_changes,
            "import_id": resource.import_id,
            "additional_secret_outputs": resource.additional_secret_outputs,
            "depends_on": sorted(by_urn[urn].name for urn in resource.depends_on if urn in by_urn),
        }
        for resource in run.resources
        if resource.custom
    }


def test_growth_fit_goes_through_both_points():
    a, b = fit_growth(500, 10.0, 1000, 40.0)
    assert a * 500 + b * 500**2 == pytest.approx(10.0)
    assert a * 1000 + b * 1000**2 == pytest.approx(40.0)
    assert fit_growth(500, 10.0, 1000, 20.0) == pytest.approx((0.02, 0.0))
    a, b = fit_growth(500, 10.0, 1000, 15.0)  # sublinear noise: linear through the larger point
    assert (a, b) == pytest.approx((0.015, 0.0))


@pytest.mark.parametrize(("n", "changed", "indexes"), [
    (36, 1, [0]),
    (36, 4, [0, 9, 18, 27]),
    (10, 10, list(range(10))),
    (10, 0, []),
    (5, 9, [0, 1, 2, 3, 4]),
])
def test_a_pull_request_changes_secrets_spread_over_the_file(n: int, changed: int, indexes: list[int]):
    assert generate.changed_indexes(n, changed) == indexes


def test_a_pull_request_changes_only_the_description_of_the_changed_secrets():
    base = parse_declaration(generate.declaration_yaml(SMALL), "bench.yaml").declaration
    head = parse_declaration(generate.changed_declaration_yaml(SMALL, 4), "bench.yaml").declaration
    differing = [index for index, (old, new) in enumerate(zip(base.secrets, head.secrets)) if old != new]
    assert differing == generate.changed_indexes(SMALL, 4)
    for index in differing:
        old, new = base.secrets[index], head.secrets[index]
        assert new.description == old.description + generate.CHANGED_DESCRIPTION
        assert new.model_copy(update={"description": old.description}) == old
    assert (head.parameters, head.defaults) == (base.parameters, base.defaults)


def test_the_folder_form_holds_every_secret_once_in_order_and_each_file_under_the_bound():
    text = generate.declaration_yaml(SMALL)
    folder = generate.folder_declaration(text, 5)
    assert list(folder) == [generate.SETTINGS_FILE] + [f"team-{number:03d}.yaml" for number in range(5)]
    assert "secrets:" not in folder[generate.SETTINGS_FILE] and "defaults:" in folder[generate.SETTINGS_FILE]
    merged = "\n".join(folder[name].removeprefix("secrets:\n") for name in sorted(folder) if name != generate.SETTINGS_FILE)
    assert re.findall(r"^  - name: (.+)$", merged, re.MULTILINE) == [secret.name for secret in generate.bench_secrets(SMALL)]
    assert merged.count("parameters:") == 1
    assert max(len(body.encode()) for body in folder.values()) <= MAX_FILE_BYTES


def test_ten_thousand_secrets_fit_in_a_hundred_files_but_not_in_one():
    """The scaling measurement's input: over the 1 MiB bound as one file, under it per team file."""
    text = generate.declaration_yaml(10_000)
    assert len(text.encode()) > MAX_FILE_BYTES
    folder = generate.folder_declaration(text, 100)
    assert len(folder) == 101
    assert max(len(body.encode()) for body in folder.values()) < MAX_FILE_BYTES / 10


def test_a_pull_request_repository_has_the_base_at_head_1(tmp_path: Path):
    import subprocess

    from benchmarks.run import write_pull_request

    file = write_pull_request(6, 2, tmp_path / "pr")
    diff = subprocess.run(["git", "-C", str(tmp_path / "pr"), "diff", "--numstat", "HEAD~1", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.split()
    assert (file.name, diff) == ("bench.yaml", ["2", "2", "bench.yaml"])
    folder = write_pull_request(6, 1, tmp_path / "folder", folder_files=3)
    assert sorted(path.name for path in folder.iterdir()) == [generate.SETTINGS_FILE, "team-000.yaml", "team-001.yaml", "team-002.yaml"]


def test_every_preview_figure_is_printed_with_its_ratio_and_target():
    from benchmarks.run import Report, build_rows

    def preview(runs: list[float], peak: float) -> dict:
        return {"seconds": sorted(runs)[1], "runs": runs, "min": min(runs), "max": max(runs), "peak_rss_mb": peak,
                "peak_rss_largest_process_mb": peak / 2, "resources": 10, "mandatory": 0, "advisory": 0,
                "cpu_seconds": sorted(runs)[1]}

    report = Report(started="", machine={}, secrets=1000, scale=10000, measurements={
        "validate": {"seconds": 0.4}, "validate_cli": {"seconds": 0.6, "min": 0.45, "max": 0.7},
        "checkov": {**preview([40.0, 40.0, 40.0], 300.0), "resources": 4352},
        "checkov_one_file": {**preview([50.0, 50.0, 50.0], 300.0), "resources": 4352},
        "preview": preview([11.0, 10.0, 12.0], 140.0), "pull_request_one": preview([13.0, 12.0, 14.0], 160.0),
        "pull_request_share": preview([14.0, 14.0, 14.0], 150.0),
        "pull_request_cached": preview([5.0, 6.0, 7.0], 150.0),
        "program_preview": preview([30.0, 31.0, 29.0], 500.0), "program_preview_before": preview([30.0, 30.0, 30.0], 500.0),
        "scale": {"declaration_mb": 5.8, "preview_folder": preview([100.0, 110.0, 120.0], 1400.0),
                  "pull_request_folder": {"unavailable": True, "error": "not run: no folders"}},
    })
    build_rows(report)
    rows = {row.what.split(" (")[0].split(",")[0]: row for row in report.rows}
    assert [(row.value, row.target, row.verdict) for row in report.rows if "preview" in row.what or "validate" in row.what] == [
        ("0.40 s", "", "INFO"),
        ("0.60 s", "<= 0.5 s", "FAIL (within noise)"),  # runs 0.45-0.7 s
        ("11.00 s = 0.28x checkov", "<= 0.3x checkov", "PASS"),  # runs 0.25-0.30x
        ("13.00 s = 0.33x checkov", "<= 0.3x checkov", "FAIL (within noise)"),  # runs 0.30-0.35x
        ("6.00 s = 0.15x checkov", "<= 0.15x checkov", "PASS (within noise)"),  # runs 0.125-0.175x
        ("14.00 s = 0.35x checkov", "", "INFO"),
        ("160 MB = 0.53x checkov", "<= 0.5x checkov (300 MB)", "FAIL"),
        ("30.00 s = 1.00x before", "<= 1x before", "PASS (within noise)"),  # runs 0.97-1.03x
        ("10.0x, 1.37 GB", "<= 10x, <= 1 GB", "time PASS (within noise), memory FAIL"),
        ("-", "<= 10x, <= 1 GB", "N/A"),
    ]
    assert "0.22x checkov on the one-file twin" in rows["preview 1"].note
    assert "CPU 0.28x checkov's" in rows["preview 1"].note
    assert rows["registration rows"].verdict == "N/A"


def test_runs_are_summarised_as_their_median_with_the_spread():
    from benchmarks.run import summary

    runs = [{"seconds": 12.0, "cpu_seconds": 20.0, "peak_rss_mb": 300.0, "resources": 1},
            {"seconds": 10.0, "cpu_seconds": 18.0, "peak_rss_mb": 320.0, "resources": 2},
            {"seconds": 15.0, "cpu_seconds": 25.0, "peak_rss_mb": 310.0, "resources": 3}]
    figure = summary(runs)
    assert (figure["seconds"], figure["min"], figure["max"], figure["runs"]) == (12.0, 10.0, 15.0, [12.0, 10.0, 15.0])
    assert (figure["cpu_seconds"], figure["peak_rss_mb"], figure["resources"]) == (20.0, 320.0, 1)
    # A failed run is the figure: a median of the runs that worked would hide it.
    assert summary([runs[0], {"error": "exit 2: boom"}, runs[1]]) == {"error": "exit 2: boom"}
    assert summary([]) == {"error": "not run"}


@pytest.mark.parametrize(("low", "median", "high", "target", "verdict"), [
    (0.20, 0.25, 0.29, 0.3, "PASS"),
    (0.31, 0.35, 0.40, 0.3, "FAIL"),
    (0.25, 0.28, 0.32, 0.3, "PASS (within noise)"),
    (0.28, 0.32, 0.35, 0.3, "FAIL (within noise)"),
    (0.20, 0.30, 0.30, 0.3, "PASS"),
])
def test_a_target_inside_the_spread_of_the_runs_is_within_noise(low, median, high, target, verdict):
    from benchmarks.run import judged

    assert judged(low, median, high, target) == verdict


def test_ratios_pair_the_runs_of_the_same_round():
    from benchmarks.run import ratios

    assert ratios({"seconds": 10.0, "runs": [10.0, 8.0, 12.0]}, {"seconds": 40.0, "runs": [40.0, 20.0, 60.0]}) == (
        pytest.approx(0.2), pytest.approx(0.25), pytest.approx(0.4))
    # Rounds that do not pair up: the extremes against each other.
    assert ratios({"seconds": 10.0, "runs": [8.0, 12.0]}, {"seconds": 40.0, "runs": [40.0]}) == (
        pytest.approx(0.2), pytest.approx(0.25), pytest.approx(0.3))


def test_the_one_file_twin_is_every_file_of_the_split_one(tmp_path: Path):
    from benchmarks.run import one_file_twin

    split = tmp_path / "terraform"
    split.mkdir()
    for name, text in generate.terraform_files(SMALL).items():
        (split / name).write_text(text)
    one = one_file_twin(split, tmp_path / "one") / "main.tf"
    assert [path.name for path in (tmp_path / "one").iterdir()] == ["main.tf"]
    assert Counter(kind for kind, _ in terraform_blocks({"main.tf": one.read_text()})) == generate.expected_resources(SMALL)
