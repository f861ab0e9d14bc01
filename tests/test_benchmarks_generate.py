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
from secrets_layout.loader import load_declaration, parse_declaration  # noqa: E402
from secrets_layout.models import SecretKind  # noqa: E402
from secrets_layout.simulation import mask, simulate  # noqa: E402
from secrets_layout.yaml_source import MAX_FILE_BYTES  # noqa: E402

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
